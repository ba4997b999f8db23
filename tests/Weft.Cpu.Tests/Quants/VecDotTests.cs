using System.Runtime.Intrinsics.X86;
using Weft.Core;
using Weft.Core.Quants;
using Weft.Cpu.Quants;

namespace Weft.Cpu.Tests.Quants;

/// <summary>
/// Dot kernels: scalar reference vs AVX2 path for every block count / length, and the reference against a
/// double-precision dot of the dequantized operands (the integer parts are exact, so only float rounding remains).
/// </summary>
public sealed unsafe class VecDotTests
{
    private static readonly DType[] s_quantTypes =
        { DType.Q4_0, DType.Q4_1, DType.Q5_0, DType.Q5_1, DType.Q8_0, DType.Q4_K, DType.Q5_K, DType.Q6_K };

    private static bool HasAvx2 => Avx2.IsSupported && Fma.IsSupported;

    private static float[] RandomValues(Random rng, int n, float scale = 1f)
    {
        var v = new float[n];
        for (int i = 0; i < n; i++)
        {
            // Mix of magnitudes so that block scales differ and some blocks have outliers.
            v[i] = (float)(rng.NextDouble() * 2 - 1) * scale * (rng.Next(16) == 0 ? 8f : 1f);
        }
        return v;
    }

    private static (float Ref, float Simd, double Exact, double Magnitude) Run(DType type, int n, int seed)
    {
        var rng = new Random(seed);
        VecDotKernel k = VecDot.For(type, reference: true);
        DType act = TypeTraits.Of(type).VecDotType;
        float[] x = RandomValues(rng, n), y = RandomValues(rng, n, 3f);
        byte[] wq = new byte[TypeTraits.Of(type).RowSize(n)];
        byte[] aq = new byte[TypeTraits.Of(act).RowSize(n)];
        Quantize.Row(type, x, wq);
        Quantize.Row(act, y, aq);
        float[] wd = new float[n], ad = new float[n];
        Dequantize.Row(type, wq, wd);
        Dequantize.Row(act, aq, ad);
        double exact = 0, mag = 0;
        for (int i = 0; i < n; i++)
        {
            exact += (double)wd[i] * ad[i];
            mag += Math.Abs((double)wd[i] * ad[i]);
        }
        if (act == DType.Q8_1)
        {
            // The min term uses the stored f16 s = d * sum(q), whose rounding the dequantized values do not show.
            int wb = TypeTraits.Of(type).TypeSize;
            for (int b = 0; b < n / 32; b++)
            {
                float m = (float)BitConverter.ToHalf(wq, b * wb + 2);
                float dy = (float)BitConverter.ToHalf(aq, b * 36);
                float sy = (float)BitConverter.ToHalf(aq, b * 36 + 2);
                int sum = 0;
                for (int j = 0; j < 32; j++)
                {
                    sum += (sbyte)aq[b * 36 + 4 + j];
                }
                exact += (double)m * (sy - (double)dy * sum);
            }
        }
        fixed (byte* pw = wq, pa = aq)
        {
            float r = k.Dot(n, pw, pa);
            float s = HasAvx2 ? Simd(type)(n, pw, pa) : r;
            return (r, s, exact, mag);
        }
    }

    private static delegate*<int, byte*, byte*, float> Simd(DType t) => t switch
    {
        DType.Q4_0 => &VecDotQ4_0.Avx2Path,
        DType.Q4_1 => &VecDotQ4_1.Avx2Path,
        DType.Q5_0 => &VecDotQ5_0.Avx2Path,
        DType.Q5_1 => &VecDotQ5_1.Avx2Path,
        DType.Q8_0 => &VecDotQ8_0.Avx2Path,
        DType.Q4_K => &VecDotQ4_K.Avx2Path,
        DType.Q5_K => &VecDotQ5_K.Avx2Path,
        DType.Q6_K => &VecDotQ6_K.Avx2Path,
        _ => throw new ArgumentOutOfRangeException(nameof(t)),
    };

    [TestCaseSource(nameof(s_quantTypes))]
    public void QuantReferenceAndSimdAgreeForEveryBlockCount(DType type)
    {
        int bs = TypeTraits.Of(type).BlockSize;
        int maxBlocks = bs == 32 ? 40 : 12;
        for (int nb = 1; nb <= maxBlocks; nb++)
        {
            (float r, float s, double exact, double mag) = Run(type, nb * bs, 1000 * (int)type + nb);
            double tol = 1e-4 * Math.Max(mag, 1e-6);
            Assert.That(Math.Abs(r - exact), Is.LessThanOrEqualTo(tol), $"{type} reference vs exact, {nb} blocks");
            Assert.That(Math.Abs(s - r), Is.LessThanOrEqualTo(tol), $"{type} AVX2 vs reference, {nb} blocks");
        }
    }

    [Test]
    public void ZeroActivationsGiveZero()
    {
        foreach (DType type in s_quantTypes)
        {
            int n = 512;
            DType act = TypeTraits.Of(type).VecDotType;
            byte[] wq = new byte[TypeTraits.Of(type).RowSize(n)];
            byte[] aq = new byte[TypeTraits.Of(act).RowSize(n)];
            Quantize.Row(type, RandomValues(new Random(7), n), wq);
            Quantize.Row(act, new float[n], aq);
            fixed (byte* pw = wq, pa = aq)
            {
                Assert.That(VecDot.For(type, reference: true).Dot(n, pw, pa), Is.EqualTo(0f), type.ToString());
                Assert.That(VecDot.For(type).Dot(n, pw, pa), Is.EqualTo(0f), type.ToString());
            }
        }
    }

    [Test]
    public void FloatDotsAgreeForEveryLength0To256()
    {
        var rng = new Random(20230828);
        for (int n = 0; n <= 256; n++)
        {
            float[] x = RandomValues(rng, n), y = RandomValues(rng, n);
            ushort[] xh = new ushort[n], yh = new ushort[n], xb = new ushort[n], yb = new ushort[n];
            float[] yhf = new float[n], ybf = new float[n], yhs = new float[n];
            double mag = 0, exact = 0, exactH = 0, exactB = 0;
            for (int i = 0; i < n; i++)
            {
                xh[i] = Fp16.ToHalf(x[i]); yh[i] = Fp16.ToHalf(y[i]);
                xb[i] = Bf16.FromFloat(x[i]); yb[i] = Bf16.FromFloat(y[i]);
                yhf[i] = (float)BitConverter.UInt16BitsToHalf(yh[i]);
                yhs[i] = yhf[i] * VecDotF16.ActivationScale; // the AVX2 F16 kernels take activations times 2^112
                ybf[i] = Bf16.ToFloat(yb[i]);
                mag += Math.Abs((double)x[i] * y[i]);
                exact += (double)x[i] * y[i];
                exactH += (double)(float)BitConverter.UInt16BitsToHalf(xh[i]) * yhf[i];
                exactB += (double)Bf16.ToFloat(xb[i]) * ybf[i];
            }
            double tol = 1e-4 * Math.Max(mag, 1e-6);
            fixed (float* px = x, py = y, pyh = yhf, pyb = ybf, pys = yhs)
            fixed (ushort* pxh = xh, pyh16 = yh, pxb = xb, pyb16 = yb)
            {
                byte* bx = (byte*)px, by = (byte*)py;
                Check(VecDotF32.Reference(n, bx, by), exact, "f32 ref");
                Check(VecDotF16.Reference(n, (byte*)pxh, (byte*)pyh16), exactH, "f16 ref");
                Check(VecDotF16.ReferenceF32(n, (byte*)pxh, (byte*)pyh), exactH, "f16·f32 ref");
                Check(VecDotBF16.Reference(n, (byte*)pxb, (byte*)pyb16), exactB, "bf16 ref");
                Check(VecDotBF16.ReferenceF32(n, (byte*)pxb, (byte*)pyb), exactB, "bf16·f32 ref");
                if (HasAvx2)
                {
                    Check(VecDotF32.Avx2Path(n, bx, by), exact, "f32 avx2");
                    Check(VecDotF16.Avx2Path(n, (byte*)pxh, (byte*)pyh16), exactH, "f16 avx2");
                    Check(VecDotF16.Avx2PathF32(n, (byte*)pxh, (byte*)pys), exactH, "f16·f32 avx2");
                    Check(VecDotBF16.Avx2Path(n, (byte*)pxb, (byte*)pyb16), exactB, "bf16 avx2");
                    Check(VecDotBF16.Avx2PathF32(n, (byte*)pxb, (byte*)pyb), exactB, "bf16·f32 avx2");
                }
            }

            void Check(float got, double want, string what) =>
                Assert.That(Math.Abs(got - want), Is.LessThanOrEqualTo(tol), $"{what}, n = {n}");
        }
    }

    [Test]
    public void F16DecodeIsExactForAllHalfValues()
    {
        // One non-zero weight among 33, times 1.0: the dot returns the decoded half itself, through the fast
        // 32-wide loop (with its inf/NaN fallback), the scalar tail and the reference decoder.
        ushort* w = stackalloc ushort[33];
        float* one = stackalloc float[33];
        for (int i = 0; i < 33; i++)
        {
            one[i] = HasAvx2 ? VecDotF16.ActivationScale : 1f; // 1.0 in the AVX2 kernel's activation format
        }
        for (int h = 0; h < 65536; h++)
        {
            float want = (float)BitConverter.UInt16BitsToHalf((ushort)h);
            for (int lane = 0; lane < 33; lane++)
            {
                new Span<ushort>(w, 33).Clear();
                w[lane] = (ushort)h;
                float got = HasAvx2 ? VecDotF16.Avx2PathF32(33, (byte*)w, (byte*)one) : VecDotF16.ReferenceF32(33, (byte*)w, (byte*)one);
                if (float.IsNaN(want))
                {
                    Assert.That(float.IsNaN(got), $"half 0x{h:X4} lane {lane}: got {got}");
                }
                else if (got != want)
                {
                    Assert.Fail($"half 0x{h:X4} lane {lane}: got {got}, want {want}");
                }
            }
        }
    }

    [Test]
    public void FourRowKernelsMatchSingleRowKernels()
    {
        if (!CpuFeatures.UseAvx2)
        {
            Assert.Ignore("The four-row kernels exist on the AVX2 path only (not available, or WEFT_FORCE_SCALAR=1).");
        }
        var rng = new Random(4242);
        foreach (DType type in new[] { DType.F32, DType.F16, DType.BF16 })
        {
            VecDotKernel k = VecDot.For(type);
            for (int n = 0; n <= 100; n++)
            {
                int wBytes = type == DType.F32 ? 4 : 2;
                byte[] w = new byte[n * wBytes + 4];
                float[] wv = RandomValues(rng, n);
                for (int i = 0; i < n; i++)
                {
                    if (type == DType.F32) BitConverter.TryWriteBytes(w.AsSpan(4 * i), wv[i]);
                    else if (type == DType.F16) BitConverter.TryWriteBytes(w.AsSpan(2 * i), Fp16.ToHalf(wv[i]));
                    else BitConverter.TryWriteBytes(w.AsSpan(2 * i), Bf16.FromFloat(wv[i]));
                }
                if (type == DType.F16 && n > 40 && n % 7 == 0)
                {
                    BitConverter.TryWriteBytes(w.AsSpan(2 * (n / 2)), (ushort)(n % 2 == 0 ? 0x7C00 : 0xFE00)); // inf or NaN weight
                }
                long stride = n + 3;
                float[] act = new float[4 * stride + 1];
                float[] raw = RandomValues(rng, act.Length);
                float[] got = new float[4];
                fixed (float* pr = raw, pa = act, pg = got)
                fixed (byte* pw = w)
                {
                    k.Convert(pr, (byte*)pa, act.Length);
                    k.Dot4(n, pw, (byte*)pa, stride * 4, pg);
                    for (int c = 0; c < 4; c++)
                    {
                        float want = k.Dot(n, pw, (byte*)(pa + c * stride));
                        double mag = 0;
                        for (int i = 0; i < n; i++)
                        {
                            mag += Math.Abs(wv[i] * pa[c * stride + i]);
                        }
                        if (float.IsNaN(want) || float.IsInfinity(want))
                        {
                            Assert.That(got[c], Is.EqualTo(want), $"{type} n={n} column {c}");
                        }
                        else
                        {
                            Assert.That(Math.Abs(got[c] - want), Is.LessThanOrEqualTo(1e-5 * mag + 1e-7), $"{type} n={n} column {c}");
                        }
                    }
                }
            }
        }
    }

    [Test]
    public void FourRowQuantKernelsMatchSingleRowKernels()
    {
        if (!CpuFeatures.UseAvx2)
        {
            Assert.Ignore("The four-row kernels exist on the AVX2 path only (not available, or WEFT_FORCE_SCALAR=1).");
        }
        var rng = new Random(777);
        foreach (DType type in new[] { DType.Q4_0, DType.Q5_0, DType.Q8_0, DType.Q4_K, DType.Q6_K })
        {
            VecDotKernel k = VecDot.For(type);
            bool kQuant = TypeTraits.Of(type).BlockSize == QK.K;
            for (int nb = 1; nb <= (kQuant ? 7 : 20); nb++)
            {
                int n = nb * TypeTraits.Of(type).BlockSize;
                byte[] w = new byte[TypeTraits.Of(type).RowSize(n)];
                Quantize.Row(type, RandomValues(rng, n), w);
                long stride = k.ActRowBytes(n) + 6; // rows need not be adjacent
                byte[] act = new byte[4 * stride];
                for (int c = 0; c < 4; c++)
                {
                    Quantize.Row(k.Activation, RandomValues(rng, n, 2f), act.AsSpan((int)(c * stride), (int)k.ActRowBytes(n)));
                }
                float[] got = new float[4];
                fixed (byte* pw = w, pa = act)
                fixed (float* pg = got)
                {
                    k.Dot4(n, pw, pa, stride, pg);
                    for (int c = 0; c < 4; c++)
                    {
                        float want = k.Dot(n, pw, pa + c * stride);
                        if (kQuant)
                        {
                            // The K-quant four-row kernels keep the single-row kernel's order: the same bits.
                            Assert.That(BitConverter.SingleToUInt32Bits(got[c]), Is.EqualTo(BitConverter.SingleToUInt32Bits(want)), $"{type} {nb} blocks column {c}: {got[c]} vs {want}");
                        }
                        else
                        {
                            Assert.That(Math.Abs(got[c] - want), Is.LessThanOrEqualTo(1e-5 * Math.Abs(want) + 1e-4), $"{type} {nb} blocks column {c}");
                        }
                    }
                }
            }
        }
    }

    [Test]
    public void EveryComputableTypeHasAKernelAndUnsupportedOnesThrow()
    {
        foreach (TypeTraits t in TypeTraits.All)
        {
            bool want = t.IsSupported && t.Type is not (DType.Q8_1 or DType.Q8_K or DType.I32);
            Assert.That(VecDot.Supports(t.Type), Is.EqualTo(want), t.Name);
        }
        NotSupportedException? ex = Assert.Throws<NotSupportedException>(() => VecDot.For(DType.Q2_K));
        Assert.That(ex!.Message, Does.Contain("Q2_K"));
    }
}
