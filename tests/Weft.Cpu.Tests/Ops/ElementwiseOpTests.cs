using Weft.Core;
using Weft.Cpu.Ops;

namespace Weft.Cpu.Tests.Ops;

public class ElementwiseOpTests
{
    private static readonly long[][] Shapes = [[10, 5, 4, 3], [127, 1, 1, 1], [128, 3, 1, 1], [1, 1, 1, 1]];

    // b shapes that broadcast to a [10, 5, 4, 3]
    private static readonly long[][] BroadcastShapes = [[10, 5, 4, 3], [10, 1, 1, 1], [5, 5, 1, 3], [1, 5, 4, 1], [2, 1, 4, 3], [1, 1, 1, 1]];

    [TestCase(OpKind.Add)]
    [TestCase(OpKind.Mul)]
    public void BinaryBroadcastMatchesDouble(OpKind kind)
    {
        long[] a = Shapes[0];
        foreach (long[] b in BroadcastShapes)
        {
            int na = (int)(a[0] * a[1] * a[2] * a[3]), nbc = (int)(b[0] * b[1] * b[2] * b[3]);
            float[] av = OpHost.Random(na, 11), bv = OpHost.Random(nbc, 12);
            ICpuOp op = kind == OpKind.Add ? new AddOp() : new MulOp();
            float[] got = OpHost.RunThreads(op, h =>
            {
                var g = new GraphBuilder();
                Tensor ta = h.F32(av, a[0], a[1], a[2], a[3]), tb = h.F32(bv, b[0], b[1], b[2], b[3]);
                return kind == OpKind.Add ? g.Add(ta, tb) : g.Mul(ta, tb);
            });
            var exp = new double[na];
            for (int i3 = 0; i3 < a[3]; i3++)
            for (int i2 = 0; i2 < a[2]; i2++)
            for (int i1 = 0; i1 < a[1]; i1++)
            for (int i0 = 0; i0 < a[0]; i0++)
            {
                int ia = (int)(((i3 * a[2] + i2) * a[1] + i1) * a[0] + i0);
                int ib = (int)((((i3 % b[3]) * b[2] + i2 % b[2]) * b[1] + i1 % b[1]) * b[0] + i0 % b[0]);
                exp[ia] = kind == OpKind.Add ? (double)av[ia] + bv[ib] : (double)av[ia] * bv[ib];
            }
            OpHost.AssertClose(exp, got, 1e-7, $"{kind} b={string.Join("x", b)}");
        }
    }

    [Test]
    public void UnaryOpsMatchDouble()
    {
        foreach (long[] s in Shapes)
        {
            int n = (int)(s[0] * s[1] * s[2] * s[3]);
            float[] x = OpHost.Random(n, 21, 6f), y = OpHost.Random(n, 22, 2f);
            Tensor Leaf(OpHost h, float[] v) => h.F32(v, s[0], s[1], s[2], s[3]);
            float[] silu = OpHost.RunThreads(new SiluOp(), h => new GraphBuilder().Silu(Leaf(h, x)));
            float[] gelu = OpHost.RunThreads(new GeluOp(), h => new GraphBuilder().Gelu(Leaf(h, x)));
            float[] scale = OpHost.RunThreads(new ScaleOp(), h => new GraphBuilder().Scale(Leaf(h, x), -0.125f));
            float[] swiglu = OpHost.RunThreads(new SwiGluOp(), h => new GraphBuilder().SwiGlu(Leaf(h, x), Leaf(h, y)));
            static double Silu(double v) => v / (1 + Math.Exp(-v));
            OpHost.AssertClose(x.Select(v => Silu(v)).ToArray(), silu, 1e-6, "silu");
            OpHost.AssertClose(x.Select(v => 0.5 * v * (1 + Math.Tanh(Math.Sqrt(2 / Math.PI) * v * (1 + 0.044715 * v * v)))).ToArray(), gelu, 2e-6, "gelu");
            OpHost.AssertClose(x.Select(v => v * -0.125).ToArray(), scale, 1e-7, "scale");
            OpHost.AssertClose(x.Select((v, i) => Silu(v) * y[i]).ToArray(), swiglu, 1e-6, "swiglu");
        }
    }

    [Test]
    public void NormOpsMatchDouble()
    {
        foreach (long[] s in Shapes)
        {
            int n = (int)(s[0] * s[1] * s[2] * s[3]);
            float[] x = OpHost.Random(n, 31, 3f).Select(v => v + 0.75f).ToArray();
            float[] rms = OpHost.RunThreads(new RmsNormOp(), h => new GraphBuilder().RmsNorm(h.F32(x, s[0], s[1], s[2], s[3]), 1e-5f));
            float[] norm = OpHost.RunThreads(new NormOp(), h => new GraphBuilder().Norm(h.F32(x, s[0], s[1], s[2], s[3]), 1e-5f));
            var er = new double[n];
            var en = new double[n];
            int len = (int)s[0];
            for (int r = 0; r < n / len; r++)
            {
                double ms = 0, mean = 0, var = 0;
                for (int i = 0; i < len; i++)
                {
                    ms += (double)x[r * len + i] * x[r * len + i];
                    mean += x[r * len + i];
                }
                ms /= len;
                mean /= len;
                for (int i = 0; i < len; i++)
                {
                    var += (x[r * len + i] - mean) * (x[r * len + i] - mean);
                }
                var /= len;
                for (int i = 0; i < len; i++)
                {
                    er[r * len + i] = x[r * len + i] / Math.Sqrt(ms + 1e-5);
                    en[r * len + i] = (x[r * len + i] - mean) / Math.Sqrt(var + 1e-5);
                }
            }
            OpHost.AssertClose(er, rms, 2e-6, $"rms_norm {string.Join("x", s)}");
            OpHost.AssertClose(en, norm, 1e-5, $"norm {string.Join("x", s)}");
        }
    }

    [Test]
    public void SupportsIsFalseForUnsupportedTypesAndNeverThrows()
    {
        var g = new GraphBuilder();
        Tensor f = Tensor.NewLeaf(DType.F32, 32, 2);
        Tensor silu = g.Silu(f);
        silu.Src[0] = Tensor.NewLeaf(DType.F16, 32, 2); // forged: the builder would refuse this
        Assert.That(new SiluOp().Supports(silu), Is.False);
        Tensor add = g.Add(f, f);
        add.Src[1] = Tensor.NewLeaf(DType.Q8_0, 32, 2);
        Assert.That(new AddOp().Supports(add), Is.False);
        add.Src[1] = null;
        Assert.That(new AddOp().Supports(add), Is.False);
        Tensor norm = g.RmsNorm(f, 1e-5f);
        norm.Type = DType.I32;
        Assert.That(new RmsNormOp().Supports(norm), Is.False);
        var forged = new GraphBuilder().Cpy(Tensor.NewLeaf(DType.F32, 8), Tensor.NewLeaf(DType.F32, 8));
        forged.Type = (DType)99; // not a type id at all
        Assert.That(new CpyOp().Supports(forged), Is.False);
        forged.Type = DType.F32;
        forged.Src[0]!.Type = (DType)99;
        Assert.That(new CpyOp().Supports(forged), Is.False);
        Tensor rows = g.GetRows(Tensor.NewLeaf(DType.F32, 8, 4), Tensor.NewLeaf(DType.I32, 2));
        rows.Src[0]!.Type = (DType)99;
        Assert.That(new GetRowsOp().Supports(rows), Is.False);
        Tensor empty = new();
        foreach (ICpuOp op in new ICpuOp[] { new SiluOp(), new GeluOp(), new ScaleOp(), new AddOp(), new MulOp(), new SwiGluOp(),
            new RmsNormOp(), new NormOp(), new SoftMaxOp(), new RopeOp(), new GetRowsOp(), new CpyOp(), new ContOp(), new FlashAttnOp() })
        {
            Assert.That(op.Supports(empty), Is.False, op.GetType().Name);
        }
    }
}
