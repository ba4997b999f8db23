using Weft.Core;
using Weft.Core.Quants;
using Weft.Cpu.Ops;

namespace Weft.Cpu.Tests.Ops;

public unsafe class CopyOpTests
{
    private static readonly DType[] WeightTypes =
        [DType.F32, DType.F16, DType.BF16, DType.Q4_0, DType.Q4_1, DType.Q5_0, DType.Q5_1, DType.Q8_0, DType.Q4_K, DType.Q5_K, DType.Q6_K];

    [TestCaseSource(nameof(WeightTypes))]
    public void GetRowsDequantizesPickedRows(DType type)
    {
        const int ne0 = 256, rows = 7;
        float[] w = OpHost.Random(ne0 * rows, 71, 2f);
        int rowBytes = (int)TypeTraits.Of(type).RowSize(ne0);
        byte[] bytes = new byte[rowBytes * rows];
        var expected = new double[ne0 * 5];
        int[] ids = [3, 0, 6, 3, 1];
        var deq = new float[ne0 * rows];
        for (int r = 0; r < rows; r++)
        {
            Quantize.Row(type, w.AsSpan(r * ne0, ne0), bytes.AsSpan(r * rowBytes, rowBytes));
            Dequantize.Row(type, bytes.AsSpan(r * rowBytes, rowBytes), deq.AsSpan(r * ne0, ne0));
        }
        for (int i = 0; i < ids.Length; i++)
        {
            for (int c = 0; c < ne0; c++)
            {
                expected[i * ne0 + c] = deq[ids[i] * ne0 + c];
            }
        }
        float[] got = OpHost.RunThreads(new GetRowsOp(), h => new GraphBuilder().GetRows(h.Bytes(type, bytes, ne0, rows), h.I32(ids, ids.Length)));
        OpHost.AssertClose(expected, got, 0, $"get_rows {type}");
        if (type is DType.F32 or DType.F16 or DType.BF16 or DType.Q8_0)
        {
            // Independent of the quantizer: the picked rows are the weights up to the type's rounding.
            double tol = type == DType.F32 ? 0 : type == DType.Q8_0 ? 2e-2 : 1e-2;
            OpHost.AssertClose(ids.SelectMany(id => w.Skip(id * ne0).Take(ne0).Select(x => (double)x)).ToArray(), got, tol, $"get_rows {type} vs weights");
        }
    }

    [Test]
    public void GetRowsRefusesUnsupportedTypes()
    {
        var g = new GraphBuilder();
        Tensor node = g.GetRows(Tensor.NewLeaf(DType.Q2_K, 256, 4), Tensor.NewLeaf(DType.I32, 2));
        Assert.That(new GetRowsOp().Supports(node), Is.False);
        node = g.GetRows(Tensor.NewLeaf(DType.I64, 8, 4), Tensor.NewLeaf(DType.I32, 2));
        Assert.That(new GetRowsOp().Supports(node), Is.False);
    }

    [Test]
    public void GetRowsThrowsForAnIdOutOfRange()
    {
        using var h = new OpHost();
        Tensor node = new GraphBuilder().GetRows(h.F32(OpHost.Random(8, 1), 4, 2), h.I32([1, 2], 2));
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => h.Run(new GetRowsOp(), node, 1));
        Assert.That(ex!.Message, Does.Contain("id 2"));
    }

    /// <summary>The KV-cache write: F32 [D·H, n_tok] into a view of an F16/BF16/F32/Q8_0 cache at position p.</summary>
    [TestCase(DType.F16)]
    [TestCase(DType.BF16)]
    [TestCase(DType.F32)]
    [TestCase(DType.Q8_0)]
    [TestCase(DType.Q4_0)]
    public void CpyIntoCacheViewConverts(DType type)
    {
        const int row = 64, nCtx = 10, nTok = 3, at = 4;
        float[] x = OpHost.Random(row * nTok, 81, 3f);
        int rowBytes = (int)TypeTraits.Of(type).RowSize(row);
        float[] got = OpHost.RunThreads(new CpyOp(), h =>
        {
            Tensor cache = h.Place(Tensor.NewLeaf(type, row, nCtx));
            new Span<byte>((void*)cache.Data, (int)cache.ByteSize).Clear();
            var g = new GraphBuilder();
            Tensor view = h.Place(g.View(cache, Long4.Of(row, nTok), cache.Nb[1], cache.Nb[1] * nTok, cache.Nb[1] * nTok, at * cache.Nb[1]));
            return g.Cpy(h.F32(x, row, nTok), view);
        }, node =>
        {
            Tensor cache = node.ViewRoot;
            var all = new float[row * nCtx];
            Dequantize.Row(type, new ReadOnlySpan<byte>((void*)cache.Data, rowBytes * nCtx), all);
            return all;
        });
        var expectedBytes = new byte[rowBytes * nTok];
        Quantize.Row(type, x, expectedBytes);
        var expected = new float[row * nCtx];
        Dequantize.Row(type, expectedBytes, expected.AsSpan(at * row, row * nTok));
        OpHost.AssertClose(expected.Select(v => (double)v).ToArray(), got, 0, $"cpy f32 -> {type}");
    }

    [TestCase(DType.F32, DType.F16)]
    [TestCase(DType.F16, DType.F32)]
    [TestCase(DType.BF16, DType.F32)]
    [TestCase(DType.F32, DType.F32)]
    [TestCase(DType.F16, DType.BF16)]
    public void CpyFromTransposedViewAndContMatchElementwise(DType from, DType to)
    {
        // src: the transpose of a [6, 5, 2] tensor (non-contiguous, nb0 ≠ type size); dst: contiguous [5, 6, 2].
        float[] x = OpHost.Random(60, 91, 4f);
        static float Round(DType t, float v) => t switch
        {
            DType.F16 => Fp16.ToFloat(Fp16.ToHalf(v)),
            DType.BF16 => Bf16.ToFloat(Bf16.FromFloat(v)),
            _ => v,
        };
        Tensor Source(OpHost h, GraphBuilder g)
        {
            Tensor a = h.Place(Tensor.NewLeaf(from, 6, 5, 2));
            var bytes = new byte[a.ByteSize];
            Quantize.Row(from, x, bytes);
            bytes.CopyTo(new Span<byte>((void*)a.Data, bytes.Length));
            return h.Place(g.Transpose(a));
        }
        var expected = new double[60];
        for (int i2 = 0; i2 < 2; i2++)
        for (int i1 = 0; i1 < 6; i1++)
        for (int i0 = 0; i0 < 5; i0++)
        {
            expected[(i2 * 6 + i1) * 5 + i0] = Round(to, Round(from, x[(i2 * 5 + i0) * 6 + i1]));
        }
        float[] ReadAny(Tensor t)
        {
            var f = new float[60];
            Dequantize.Row(t.Type, new ReadOnlySpan<byte>((void*)t.Data, (int)t.ByteSize), f);
            return f;
        }
        float[] got = OpHost.RunThreads(new CpyOp(), h =>
        {
            var g = new GraphBuilder();
            Tensor src = Source(h, g);
            return g.Cpy(src, h.Place(Tensor.NewLeaf(to, 5, 6, 2)));
        }, ReadAny);
        OpHost.AssertClose(expected, got, 0, $"cpy {from} -> {to}");
        if (from == to)
        {
            float[] cont = OpHost.RunThreads(new ContOp(), h =>
            {
                var g = new GraphBuilder();
                return g.Cont(Source(h, g));
            }, ReadAny);
            OpHost.AssertClose(expected, cont, 0, $"cont {from}");
        }
    }

    [Test]
    public void CpyWithDifferentRowLengthsCopiesInElementOrder()
    {
        float[] x = OpHost.Random(24, 5);
        float[] got = OpHost.RunThreads(new CpyOp(), h =>
            new GraphBuilder().Cpy(h.F32(x, 6, 4), h.Place(Tensor.NewLeaf(DType.F32, 4, 3, 2))));
        Assert.That(got, Is.EqualTo(x));
    }

    [Test]
    public void CpyRefusesUnsupportedTargets()
    {
        var g = new GraphBuilder();
        Assert.That(new CpyOp().Supports(g.Cpy(Tensor.NewLeaf(DType.F32, 256), Tensor.NewLeaf(DType.Q2_K, 256))), Is.False);
        Assert.That(new CpyOp().Supports(g.Cpy(Tensor.NewLeaf(DType.F32, 64, 2), Tensor.NewLeaf(DType.Q8_0, 128))), Is.False);
        Assert.That(new CpyOp().Supports(g.Cpy(Tensor.NewLeaf(DType.F32, 8), Tensor.NewLeaf(DType.I64, 8))), Is.False);
    }
}
