using System.Runtime.InteropServices;
using Weft.Core;
using Weft.Core.Quants;
using Weft.Cpu.Kernels;
using Weft.Cpu.Quants;
using Weft.Vulkan.Ops;

namespace Weft.Vulkan.Tests;

/// <summary>
/// shaders/quantize_act.comp against the CPU's activation quantizers (<see cref="QuantizeActivations"/> references):
/// the same quantized values and scales, bit for bit, on rows that mix ordinary blocks with zeros, tiny values (f16
/// scales that are subnormal or round to zero), exact rounding ties and equal-magnitude maxima of both signs.
/// </summary>
public sealed unsafe class QuantizeActivationsShaderTests
{
    private const int K = 1024;  // four Q8_K blocks, 32 Q8_0 blocks per row
    private const int Rows = 5;
    private const int RowStride = K + 40;  // a strided source: the shader must follow nb1

    [Test]
    public void EveryConvertedWeightTypeUsesTheCpusActivationFormat()
    {
        foreach (DType t in new[] { DType.F32, DType.F16, DType.Q8_0, DType.Q4_0, DType.Q4_K, DType.Q6_K })
        {
            Assert.That(OpChecks.TypeSuffix(t), Is.Not.Null, $"{t} has a matmul shader");
            DType cpu = VecDot.For(t).Activation;
            (string Shader, int Block)? conv = MatMulOp.ActivationConversion(t);
            string? expected = cpu switch
            {
                DType.F32 => null,
                DType.F16 => "quantize_act_f16",
                DType.Q8_0 => "quantize_act_q8_0",
                DType.Q8_K => "quantize_act_q8_k",
                _ => "unexpected CPU activation type " + cpu,
            };
            Assert.That(conv?.Shader, Is.EqualTo(expected), $"{t}: CPU activations are {cpu}");
            if (conv is { } c)
            {
                Assert.That(c.Block, Is.EqualTo(VecDot.For(t).ActBlock), $"{t}: block length");
            }
        }
    }

    [Test]
    public void Q8_0MatchesTheCpuQuantizer()
    {
        float[] x = Rows32();
        float[] gpu = RunShader("quantize_act_q8_0", x);
        int mismatches = 0;
        for (int r = 0; r < Rows; r++)
        {
            var blocks = new BlockQ8_0[K / 32];
            fixed (float* px = &x[r * RowStride])
            fixed (BlockQ8_0* pb = blocks)
            {
                QuantizeActivations.Q8_0Reference(px, (byte*)pb, K);
            }
            for (int b = 0; b < blocks.Length; b++)
            {
                float d = (float)blocks[b].D;
                for (int j = 0; j < 32; j++)
                {
                    float got = gpu[r * K + b * 32 + j];
                    int q = blocks[b].Qs[j];
                    // d * q is exact (11-bit scale times an 8-bit integer), so equal bits mean equal scale and value.
                    if (BitConverter.SingleToInt32Bits(got) != BitConverter.SingleToInt32Bits(d * q) ||
                        (d != 0 && Math.Round(got / d) != q))
                    {
                        if (mismatches++ < 5)
                        {
                            TestContext.Out.WriteLine($"row {r} block {b} [{j}]: x {x[r * RowStride + b * 32 + j]:R}, CPU d {d:R} q {q}, Vulkan {got:R}");
                        }
                    }
                }
            }
        }
        Assert.That(mismatches, Is.Zero);
    }

    [Test]
    public void Q8_KMatchesTheCpuQuantizer()
    {
        float[] x = Rows256();
        float[] gpu = RunShader("quantize_act_q8_k", x);
        int mismatches = 0;
        for (int r = 0; r < Rows; r++)
        {
            var blocks = new BlockQ8_K[K / 256];
            fixed (float* px = &x[r * RowStride])
            fixed (BlockQ8_K* pb = blocks)
            {
                QuantizeActivations.Q8_KReference(px, (byte*)pb, K);
            }
            for (int b = 0; b < blocks.Length; b++)
            {
                float d = blocks[b].D;
                for (int j = 0; j < 256; j++)
                {
                    float got = gpu[r * K + b * 256 + j];
                    int q = blocks[b].Qs[j];
                    float expected = d * q;  // the f32 product both sides round the same way
                    if (BitConverter.SingleToInt32Bits(got) != BitConverter.SingleToInt32Bits(expected) ||
                        (d != 0 && Math.Round(got / (double)d) != q))
                    {
                        if (mismatches++ < 5)
                        {
                            TestContext.Out.WriteLine($"row {r} block {b} [{j}]: x {x[r * RowStride + b * 256 + j]:R}, CPU d {d:R} q {q}, Vulkan {got:R}");
                        }
                    }
                }
            }
        }
        Assert.That(mismatches, Is.Zero);
    }

    [Test]
    public void F16RoundingMatchesTheCpu()
    {
        float[] x = Rows32();
        // Values around the f16 range limits and exact ties between two halves.
        float[] edge = [65504f, 65519.99f, 65520f, -70000f, 1f + 1f / 2048, 1f + 3f / 2048, 6.1035156e-05f, 5.9604645e-08f,
            2.9802322e-08f, 2.9802326e-08f, 8.940697e-08f, -1e-30f, 1e-45f, 3.1415927f, -0f, 0f];
        edge.CopyTo(x, 0);
        float[] gpu = RunShader("quantize_act_f16", x);
        int mismatches = 0;
        for (int r = 0; r < Rows; r++)
        {
            var expected = new float[K];
            fixed (float* px = &x[r * RowStride])
            fixed (float* pe = expected)
            {
                QuantizeActivations.RoundF16Reference(px, (byte*)pe, K);
            }
            for (int i = 0; i < K; i++)
            {
                if (BitConverter.SingleToInt32Bits(gpu[r * K + i]) != BitConverter.SingleToInt32Bits(expected[i]) && mismatches++ < 5)
                {
                    TestContext.Out.WriteLine($"row {r} [{i}]: x {x[r * RowStride + i]:R}, CPU {expected[i]:R}, Vulkan {gpu[r * K + i]:R}");
                }
            }
        }
        Assert.That(mismatches, Is.Zero);
    }

    // Rows of 32-value blocks of different kinds (the kind cycles with the block index).
    private static float[] Rows32()
    {
        var rng = new Random(20240611);
        var x = new float[Rows * RowStride];
        for (int r = 0; r < Rows; r++)
        {
            for (int b = 0; b < K / 32; b++)
            {
                FillBlock(x.AsSpan(r * RowStride + b * 32, 32), (r * 7 + b) % 9, rng);
            }
        }
        return x;
    }

    // Rows of 256-value blocks of different kinds.
    private static float[] Rows256()
    {
        var rng = new Random(20240612);
        var x = new float[Rows * RowStride];
        for (int r = 0; r < Rows; r++)
        {
            for (int b = 0; b < K / 256; b++)
            {
                FillBlock(x.AsSpan(r * RowStride + b * 256, 256), (r * 4 + b) % 9, rng);
            }
        }
        return x;
    }

    private static void FillBlock(Span<float> v, int kind, Random rng)
    {
        float Gauss(double scale) => (float)(scale * Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble()));
        switch (kind)
        {
            case 0:
            case 1:
                for (int i = 0; i < v.Length; i++) v[i] = Gauss(kind == 0 ? 1 : 37);
                break;
            case 2:
                v.Clear();  // all zeros
                break;
            case 3:
                // Tiny: f16 scale is subnormal (d ~ 1e-7), and a few exact zeros.
                for (int i = 0; i < v.Length; i++) v[i] = i % 5 == 0 ? 0 : Gauss(1.3e-5);
                break;
            case 4:
                // So tiny that the f16 scale rounds to zero (the f32 Q8_K scale does not).
                for (int i = 0; i < v.Length; i++) v[i] = Gauss(1e-9);
                break;
            case 5:
                // Exact ties: |max| = 127 * 2^-6 makes the scale 2^-6 (Q8_0: d exact; Q8_K: iscale exact when max is
                // negative), and every other value sits half-way between two steps.
                v[0] = -127f / 64;
                for (int i = 1; i < v.Length; i++) v[i] = (rng.Next(-120, 120) + 0.5f) / 64;
                break;
            case 6:
                // Equal magnitudes of both signs at the maximum: the first one sets the Q8_K sign.
                for (int i = 0; i < v.Length; i++) v[i] = Gauss(0.5);
                v[3] = 2.75f;
                v[v.Length - 2] = -2.75f;
                break;
            case 7:
                for (int i = 0; i < v.Length; i++) v[i] = Gauss(0.5);
                v[1] = -2.75f;
                v[v.Length - 1] = 2.75f;
                break;
            default:
                // Values that are already on the grid, and a block of one nonzero value.
                for (int i = 0; i < v.Length; i++) v[i] = i == v.Length / 2 ? -0.3f : 0f;
                break;
        }
    }

    // Runs the variant over Rows strided rows of K values; returns the contiguous converted rows.
    private static float[] RunShader(string shader, float[] x)
    {
        VulkanDevice device = VulkanTestDevice.DeviceOrSkip();
        VulkanContext ctx = device.Context;
        using IBuffer src = device.DefaultBufferType.Allocate((long)x.Length * 4);
        using IBuffer dst = device.DefaultBufferType.Allocate((long)Rows * K * 4);
        src.Write(0, MemoryMarshal.AsBytes(x.AsSpan()));
        var xt = new Tensor { Type = DType.F32, Ne = Long4.Of(K, Rows), Buffer = src, Name = "x" };
        xt.SetContiguousStrides();
        xt.Nb[1] = RowStride * 4;
        xt.Nb[2] = xt.Nb[3] = (long)Rows * RowStride * 4;
        var yt = new Tensor { Type = DType.F32, Ne = Long4.Of(K, Rows), Buffer = dst, Name = "y" };
        yt.SetContiguousStrides();
        int block = shader.EndsWith("q8_k", StringComparison.Ordinal) ? 256 : shader.EndsWith("q8_0", StringComparison.Ordinal) ? 32 : 1;
        VulkanRecorder? rec = null;
        try
        {
            ctx.Submit(cmd =>
            {
                rec = new VulkanRecorder(ctx, device, cmd, 1);
                rec.Begin(yt);
                var pc = new PushConstants();
                rec.Bind(1, xt, ref pc);
                rec.Bind(3, yt, ref pc);
                rec.DispatchElements(shader, (long)K / block * Rows, pc);
            });
        }
        finally
        {
            rec?.Release();
        }
        var y = new float[Rows * K];
        dst.Read(0, MemoryMarshal.AsBytes(y.AsSpan()));
        return y;
    }
}
