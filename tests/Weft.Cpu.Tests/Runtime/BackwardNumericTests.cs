using Weft.Core;
using static Weft.Cpu.Tests.Runtime.RuntimeTestUtil;

namespace Weft.Cpu.Tests.Runtime;

/// <summary>Gradients built by <see cref="Backward"/> agree with central finite differences evaluated on the CPU.</summary>
public class BackwardNumericTests
{
    private readonly List<IDisposable> _owned = new();

    [TearDown]
    public void TearDown()
    {
        foreach (IDisposable d in _owned)
        {
            d.Dispose();
        }
        _owned.Clear();
    }

    [Test]
    public unsafe void GradientOfSumOfProductsMatchesFiniteDifferences()
    {
        const int k = 4, n = 3, m = 2;
        Tensor w = HostLeaf(_owned, Random(k * n, 21), k, n, "w", TensorFlags.Param);
        Tensor x = HostLeaf(_owned, Random(k * m, 22), k, m, "x", TensorFlags.Param);
        Tensor c = HostLeaf(_owned, Random(n * m, 23), n, m, "c");
        Tensor ones = HostLeaf(_owned, Enumerable.Repeat(1f, n * m).ToArray(), n * m, 1, "ones");
        var g = new GraphBuilder();
        Tensor y = g.MatMul(w, x, "y");                               // [n, m]
        Tensor q = g.Add(g.Mul(g.Mul(y, y, "yy"), c, "yyc"), g.Scale(y, 0.5f, "hy"), "q");
        Tensor t = g.Cont(g.Transpose(q), "qT");                      // [m, n], exercises Transpose/Cont rules
        Tensor loss = g.MatMul(g.Reshape(t, n * m, 1), ones, "loss"); // Σ (y²·c + y/2): quadratic in w and in x
        BackwardResult r = Backward.Build(g.Build(loss), loss);

        using var cpu = new CpuBackend(2);
        using var alloc = new GraphAllocator(CpuBufferType.Instance);
        Assert.That(alloc.Plan(r.Graph), Is.EqualTo(Status.Success));
        r.Seed.SetData([1f]);
        Assert.That(cpu.Compute(r.Graph), Is.EqualTo(Status.Success));
        float[] gw = w.Grad!.ToFloatArray(), gx = x.Grad!.ToFloatArray();

        foreach ((Tensor p, float[] grad) in new[] { (w, gw), (x, gx) })
        {
            var values = new Span<float>((void*)p.Data, (int)p.ElementCount);
            for (int i = 0; i < values.Length; i++)
            {
                const float h = 1e-2f;
                float keep = values[i];
                values[i] = keep + h;
                cpu.Compute(r.Graph);
                float up = loss.ToFloatArray()[0];
                values[i] = keep - h;
                cpu.Compute(r.Graph);
                float down = loss.ToFloatArray()[0];
                values[i] = keep;
                float numeric = (up - down) / (2 * h);
                Assert.That(grad[i], Is.EqualTo(numeric).Within(2e-3f + 1e-2f * Math.Abs(numeric)), $"d loss / d {p.Name}[{i}]");
            }
        }
    }
}
