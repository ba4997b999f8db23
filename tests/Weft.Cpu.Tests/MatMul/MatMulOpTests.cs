using System.Runtime.InteropServices;
using Weft.Core;
using Weft.Core.Quants;
using Weft.Cpu.Ops;
using Weft.Cpu.Quants;

namespace Weft.Cpu.Tests.MatMul;

/// <summary>
/// MatMulOp against a double-precision dequantize-then-multiply reference, for every weight type, odd and even
/// shapes, broadcast over dims 2/3, strided (transposed) activations and 1 or 3 threads (real worker threads and
/// barrier). The error bound of each type is derived from its activation format: Q8 activations are off by at most
/// half a quantization step (amax / 254 per block) plus f16 rounding of the block scale; F16/BF16 activations by
/// 2^-11 / 2^-8 relative; f32 accumulation adds a K-proportional relative term.
/// </summary>
public sealed unsafe class MatMulOpTests
{
    private static readonly DType[] s_types =
        { DType.F32, DType.F16, DType.BF16, DType.Q4_0, DType.Q4_1, DType.Q5_0, DType.Q5_1, DType.Q8_0, DType.Q4_K, DType.Q5_K, DType.Q6_K };

    private sealed class Native : IDisposable
    {
        private readonly List<nint> _blocks = new();

        public nint Alloc(long bytes)
        {
            nint p = (nint)NativeMemory.AlignedAlloc((nuint)Math.Max(bytes, 64), 64);
            new Span<byte>((void*)p, (int)Math.Max(bytes, 64)).Fill(0xCD);
            _blocks.Add(p);
            return p;
        }

        public void Dispose()
        {
            foreach (nint p in _blocks)
            {
                NativeMemory.AlignedFree((void*)p);
            }
        }
    }

    private sealed class Work(ICpuOp op, Tensor node, nint data, long size, IBarrier barrier) : IParallelWork
    {
        public void Execute(int ith, int nth) => op.Compute(new ComputeParams(ith, nth, data, size, barrier), node);
    }

    /// <summary>Weights [k, n, ne2w, ne3w] of <paramref name="type"/> from random values; returns their dequantized values too.</summary>
    private static Tensor MakeWeight(Native mem, DType type, long k, long n, long ne2, long ne3, int seed, out float[] deq)
    {
        var rng = new Random(seed);
        Tensor w = Tensor.NewLeaf(type, k, n, ne2, ne3, "w");
        w.Data = mem.Alloc(w.ByteSize);
        long rows = n * ne2 * ne3;
        deq = new float[rows * k];
        var src = new float[k];
        var bytes = new byte[w.RowBytes];
        for (long r = 0; r < rows; r++)
        {
            for (int i = 0; i < k; i++)
            {
                src[i] = (float)(rng.NextDouble() * 2 - 1) * (i % 29 == 0 ? 4f : 1f);
            }
            Quantize.Row(type, src, bytes);
            bytes.CopyTo(new Span<byte>((byte*)w.Data + r * w.Nb[1], bytes.Length));
            Dequantize.Row(type, bytes, deq.AsSpan((int)(r * k), (int)k));
        }
        return w;
    }

    private static void Run(DType type, long k, long n, long m, long ne2w, long ne2x, long ne3x, bool transposedX, int threads)
    {
        using var mem = new Native();
        Tensor w = MakeWeight(mem, type, k, n, ne2w, 1, 17 + (int)type, out float[] wd);
        var rng = new Random(31);
        long xRows = m * ne2x * ne3x;
        var xv = new float[xRows * k];
        for (int i = 0; i < xv.Length; i++)
        {
            xv[i] = (float)(rng.NextDouble() * 2 - 1) * (i % 41 == 0 ? 6f : 1f);
        }
        Tensor x = Tensor.NewLeaf(DType.F32, k, m, ne2x, ne3x, "x");
        x.Data = mem.Alloc(xv.Length * 4L);
        if (transposedX)
        {
            // Element (i, r) at r + i * xRows: each activation row is strided by xRows floats (a transposed view).
            x.Nb[0] = xRows * 4;
            x.Nb[1] = 4;
            x.Nb[2] = 4 * m;
            x.Nb[3] = 4 * m * ne2x;
        }
        for (long r = 0; r < xRows; r++)
        {
            long i1 = r % m, i2 = r / m % ne2x, i3 = r / m / ne2x;
            for (long i = 0; i < k; i++)
            {
                *(float*)((byte*)x.Data + i * x.Nb[0] + i1 * x.Nb[1] + i2 * x.Nb[2] + i3 * x.Nb[3]) = xv[r * k + i];
            }
        }
        Tensor dst = new GraphBuilder().MatMul(w, x, "dst");
        dst.Data = mem.Alloc(dst.ByteSize);

        var op = new MatMulOp();
        Assert.That(op.Supports(dst), Is.True, $"MatMulOp does not support {dst}");
        long ws = op.WorkSize(dst, threads);
        nint work = mem.Alloc(ws);
        using (var pool = new WorkerPool(threads))
        {
            pool.Run(new Work(op, dst, work, ws, pool.Barrier));
        }

        VecDotKernel kern = VecDot.For(type);
        int ab = kern.ActBlock == 1 ? 1 : kern.ActBlock;
        for (long r = 0; r < xRows; r++)
        {
            long i2 = r / m % ne2x, i3 = r / m / ne2x;
            long wOff = (i2 / (ne2x / ne2w)) * n;
            for (long j = 0; j < n; j++)
            {
                double exact = 0, mag = 0, bound = 0;
                for (long b = 0; b < k; b += ab)
                {
                    double amax = 0, wsum = 0, wmax = 0;
                    for (long i = b; i < b + ab; i++)
                    {
                        double wi = wd[(wOff + j) * k + i], xi = xv[r * k + i];
                        exact += wi * xi;
                        mag += Math.Abs(wi * xi);
                        amax = Math.Max(amax, Math.Abs(xi));
                        wsum += Math.Abs(wi);
                        wmax = Math.Max(wmax, Math.Abs(wi));
                    }
                    bound += kern.Activation switch
                    {
                        DType.Q8_0 or DType.Q8_1 => wsum * amax * (0.5 / 127 + 1.0 / 2048) + (kern.Activation == DType.Q8_1 ? wmax * ab * amax / 2048 : 0),
                        DType.Q8_K => wsum * amax * (0.5 / 127 + 1e-6),
                        _ => 0,
                    };
                }
                bound += kern.Activation switch
                {
                    DType.F16 => mag / 2048,
                    DType.BF16 => mag / 256,
                    _ => 0,
                };
                bound += mag * k * 1.2e-7 + 1e-6;
                float got = *(float*)((byte*)dst.Data + j * 4 + (r % m) * dst.Nb[1] + i2 * dst.Nb[2] + i3 * dst.Nb[3]);
                if (!(Math.Abs(got - exact) <= bound))
                {
                    Assert.Fail($"{type} k={k} n={n} m={m}: dst[{j}, {r}] = {got}, exact {exact}, bound {bound}");
                }
            }
        }
    }

    [TestCaseSource(nameof(s_types))]
    public void MatchesDequantizedReference(DType type)
    {
        bool k256 = TypeTraits.Of(type).BlockSize == 256;
        long k = k256 ? 256 : 64;
        Run(type, k, 7, 1, 1, 1, 1, false, 1);
        Run(type, k256 ? 768 : 96, 21, 1, 1, 1, 1, false, 2); // decode: rows not a multiple of 8, two threads
        Run(type, k, 13, 1, 1, 1, 1, true, 3);
        Run(type, k, 9, 1, 1, 3, 1, false, 2); // three decode batches against one weight matrix
        Run(type, k256 ? 512 : 128, 127, 3, 1, 1, 1, false, 3);
        Run(type, k, 33, 16, 1, 1, 1, false, 3);
        Run(type, k, 17, 33, 1, 1, 1, true, 3);
        Run(type, k, 5, 3, 2, 6, 1, false, 3); // broadcast: 2 weight matrices over 6 activation batches
    }

    [Test]
    public void LargerDecodeAndPromptShapes()
    {
        Run(DType.Q4_0, 1024, 300, 1, 1, 1, 1, false, 3);
        Run(DType.Q4_K, 1024, 129, 70, 1, 1, 1, false, 3);
        Run(DType.F16, 200, 65, 67, 1, 1, 1, true, 3);
    }

    [Test]
    public void F16ModelWeightsDecodeLikeAnyF16AndKeepInfinities()
    {
        // Decode over F16 weights flagged as model weights skips the per-row inf/NaN check once the tensor is known
        // finite (FiniteWeights): the results must be the bits of the checked path; a weight tensor holding an inf
        // must still give inf/NaN in its row and exact values elsewhere.
        const int k = 200, n = 37;
        using var mem = new Native();
        foreach (bool withInf in new[] { false, true })
        {
            Tensor plain = MakeWeight(mem, DType.F16, k, n, 1, 1, 5, out _);
            if (withInf)
            {
                ((ushort*)plain.Data)[3 * k + 101] = 0x7C00; // +inf in row 3
            }
            Tensor model = Tensor.NewLeaf(DType.F16, k, n, name: "model");
            model.Data = mem.Alloc(model.ByteSize);
            Buffer.MemoryCopy((void*)plain.Data, (void*)model.Data, model.ByteSize, model.ByteSize);
            model.Flags |= TensorFlags.Weight;
            Tensor x = Tensor.NewLeaf(DType.F32, k, 1, name: "x");
            x.Data = mem.Alloc(k * 4);
            var rng = new Random(9);
            for (int i = 0; i < k; i++)
            {
                ((float*)x.Data)[i] = (float)(rng.NextDouble() * 2 - 1) + 0.01f;
            }
            float[] a = Decode(plain), b = Decode(model), twice = Decode(model);
            for (int j = 0; j < n; j++)
            {
                Assert.That(BitConverter.SingleToInt32Bits(b[j]), Is.EqualTo(BitConverter.SingleToInt32Bits(a[j])), $"row {j}, inf: {withInf}");
                Assert.That(BitConverter.SingleToInt32Bits(twice[j]), Is.EqualTo(BitConverter.SingleToInt32Bits(a[j])), $"row {j} again, inf: {withInf}");
                Assert.That(float.IsFinite(b[j]), Is.EqualTo(!(withInf && j == 3)), $"row {j}: {b[j]}, inf: {withInf}");
            }

            float[] Decode(Tensor w)
            {
                Tensor dst = new GraphBuilder().MatMul(w, x, "dst");
                dst.Data = mem.Alloc(dst.ByteSize);
                var op = new MatMulOp();
                long ws = op.WorkSize(dst, 2);
                nint work = mem.Alloc(ws);
                using (var pool = new WorkerPool(2))
                {
                    pool.Run(new Work(op, dst, work, ws, pool.Barrier));
                }
                return new Span<float>((void*)dst.Data, n).ToArray();
            }
        }
    }

    [Test]
    public void SupportsRejectsWhatItCannotCompute()
    {
        var op = new MatMulOp();
        var g = new GraphBuilder();
        Tensor x = Tensor.NewLeaf(DType.F32, 256, 4);
        Assert.That(op.Supports(g.MatMul(Tensor.NewLeaf(DType.Q2_K, 256, 8), x)), Is.False, "q2_k weights");
        Assert.That(op.Supports(g.MatMul(Tensor.NewLeaf(DType.Q4_K, 256, 8), x)), Is.True, "q4_k weights");
        Tensor strided = Tensor.NewLeaf(DType.Q8_0, 64, 8);
        strided.Nb[0] = 68;
        Assert.That(op.Supports(g.MatMul(strided, Tensor.NewLeaf(DType.F32, 64, 2))), Is.False, "weights with gaps inside rows");
        Assert.That(op.Kind, Is.EqualTo(OpKind.MatMul));
    }
}
