using System.Reflection;
using Weft.Core;

namespace Weft.Core.Tests.Runtime;

public class OpInfoTests
{
    [Test]
    public void EveryOpHasAnEntryWithAnExistingBuilderMethod()
    {
        Assert.That(OpInfo.All, Has.Count.EqualTo((int)OpKind.Count - 1));
        for (OpKind k = OpKind.None + 1; k < OpKind.Count; k++)
        {
            OpInfo info = OpInfo.Of(k);
            Assert.That(info.Kind, Is.EqualTo(k));
            Assert.That(info.Name, Is.EqualTo(k.ToString()));
            Assert.That(typeof(GraphBuilder).GetMethod(info.BuilderMethod, BindingFlags.Public | BindingFlags.Instance), Is.Not.Null, $"{k}: GraphBuilder.{info.BuilderMethod}");
            Assert.That(info.MinSources, Is.InRange(1, info.MaxSources));
        }
        Assert.Throws<ArgumentOutOfRangeException>(() => OpInfo.Of(OpKind.None));
        Assert.Throws<ArgumentOutOfRangeException>(() => OpInfo.Of(OpKind.Count));
    }

    [Test]
    public void ViewFlagMatchesTensorIsView()
    {
        var g = new GraphBuilder();
        Tensor a = g.Input(DType.F32, 4, 6, name: "a");
        Tensor[] views = [g.Reshape(a, 24), g.View(a, Long4.Of(4, 3), 16, 48, 48, 0), g.Permute(a, 1, 0, 2, 3), g.Transpose(a)];
        foreach (Tensor v in views)
        {
            Assert.That(OpInfo.Of(v.Op).IsView, Is.True, v.Op.ToString());
            Assert.That(v.IsView, Is.True);
        }
        Assert.That(OpInfo.All.Count(i => i.IsView), Is.EqualTo(4));
    }
}

public class BackwardTests
{
    private static Tensor Param(DType type, long ne0, long ne1, string name)
    {
        Tensor t = Tensor.NewLeaf(type, ne0, ne1, name: name);
        t.Flags |= TensorFlags.Param;
        return t;
    }

    [Test]
    public void MulBackwardIsTheOtherFactorTimesTheGradient()
    {
        var g = new GraphBuilder();
        Tensor a = Param(DType.F32, 4, 1, "a");
        Tensor b = g.Input(DType.F32, 4, name: "b");
        Tensor ones = g.Input(DType.F32, 4, name: "ones");
        Tensor loss = g.MatMul(g.Reshape(g.Mul(a, b, "ab"), 4, 1), ones, "loss");   // Σ a·b as [1, 1]
        BackwardResult r = Backward.Build(g.Build(loss), loss);
        Assert.That(r.Gradients.Keys, Is.EquivalentTo(new[] { a }));
        Tensor ga = a.Grad!;
        Assert.That(ga, Is.SameAs(r.Gradients[a]));
        Assert.That(Tensor.SameShape(ga, a));
        // grad(a) = Mul(grad(ab), b), where grad(ab) comes back through the reshape from the MatMul's weight gradient.
        Assert.That(ga.Op, Is.EqualTo(OpKind.Mul));
        Assert.That(ga.Src[1], Is.SameAs(b));
        Tensor gab = ga.Src[0]!;
        Assert.That(gab.Op, Is.EqualTo(OpKind.Reshape));
        Assert.That(gab.ViewRoot.Op, Is.EqualTo(OpKind.MatMul));
        Assert.That(r.Graph.Outputs, Is.EqualTo(new[] { loss, ga }));
        Assert.That(r.Graph.Leaves, Does.Contain(r.Seed));
        Assert.That(r.Seed.Flags.HasFlag(TensorFlags.Input));
    }

    [Test]
    public void TensorUsedTwiceGetsTheSumOfBothGradients()
    {
        var g = new GraphBuilder();
        Tensor a = Param(DType.F32, 3, 1, "a");
        Tensor ones = g.Input(DType.F32, 3, name: "ones");
        Tensor sq = g.Add(g.Mul(a, a, "aa"), g.Scale(a, 2f, "2a"), "s");
        Tensor loss = g.MatMul(sq, ones, "loss");
        BackwardResult r = Backward.Build(g.Build(loss), loss);
        // Three contributions: two from Mul (a used twice), one from Scale → two Adds.
        Tensor ga = r.Gradients[a];
        Assert.That(ga.Op, Is.EqualTo(OpKind.Add));
        Assert.That(CountOps(r.Graph, OpKind.Add, after: loss), Is.EqualTo(2));
    }

    [Test]
    public void OnlyPathsToParametersAreDifferentiated()
    {
        var g = new GraphBuilder();
        Tensor w = Param(DType.F32, 4, 2, "w");
        Tensor x = g.Input(DType.F32, 4, 1, name: "x");
        Tensor frozen = Tensor.NewLeaf(DType.F32, 4, 4, name: "frozen");
        // RmsNorm has no rule registered, but it only touches the input path, which needs no gradient.
        Tensor h = g.MatMul(frozen, g.RmsNorm(x, 1e-5f), "h");
        Tensor y = g.MatMul(w, h, "y");                                   // [2, 1]
        Tensor loss = g.MatMul(y, g.Input(DType.F32, 2, 1, name: "ones"), "loss");
        Assert.DoesNotThrow(() => Backward.Build(g.Build(loss), loss));
        Assert.That(w.Grad, Is.Not.Null);
    }

    [Test]
    public void OpWithoutRuleOnThePathFailsClearly()
    {
        var g = new GraphBuilder();
        Tensor a = Param(DType.F32, 4, 1, "a");
        Tensor loss = g.MatMul(g.RmsNorm(a, 1e-5f, "norm"), g.Input(DType.F32, 4, 1, name: "ones"), "loss");
        var e = Assert.Throws<NotSupportedException>(() => Backward.Build(g.Build(loss), loss))!;
        Assert.That(e.Message, Does.Contain("RmsNorm").And.Contain("'norm'").And.Contain("OpInfo.SetBackward"));
    }

    [Test]
    public void BadLossIsRejected()
    {
        var g = new GraphBuilder();
        Tensor a = Param(DType.F32, 4, 1, "a");
        Tensor notScalar = g.Scale(a, 2f);
        Assert.Throws<ArgumentException>(() => Backward.Build(g.Build(notScalar), notScalar));
        Tensor x = g.Input(DType.F32, 4, 1, name: "x");
        Tensor noParam = g.MatMul(x, x);
        Assert.That(Assert.Throws<ArgumentException>(() => Backward.Build(g.Build(noParam), noParam))!.Message, Does.Contain("Param"));
        Tensor other = g.MatMul(a, a);
        Assert.Throws<ArgumentException>(() => Backward.Build(g.Build(noParam), other));
    }

    [Test]
    public void MatMulRuleShapes()
    {
        var g = new GraphBuilder();
        Tensor w = Param(DType.F32, 5, 3, "w");   // K=5, N=3
        Tensor x = Param(DType.F32, 5, 2, "x");   // K=5, M=2
        Tensor y = g.MatMul(w, x, "y");           // [3, 2]
        Tensor flat = g.Reshape(y, 6, 1);
        Tensor loss = g.MatMul(flat, g.Input(DType.F32, 6, 1, name: "ones"), "loss");
        Backward.Build(g.Build(loss), loss);
        Assert.That(w.Grad!.Ne.ToString(), Is.EqualTo(w.Ne.ToString()));
        Assert.That(x.Grad!.Ne.ToString(), Is.EqualTo(x.Ne.ToString()));
        Assert.That(w.Grad.Op, Is.EqualTo(OpKind.MatMul));
        Assert.That(x.Grad.Op, Is.EqualTo(OpKind.MatMul));
    }

    private static int CountOps(Graph graph, OpKind kind, Tensor after)
    {
        int start = -1, count = 0;
        for (int i = 0; i < graph.Nodes.Count; i++)
        {
            if (ReferenceEquals(graph.Nodes[i], after))
            {
                start = i;
            }
            else if (start >= 0 && graph.Nodes[i].Op == kind)
            {
                count++;
            }
        }
        return count;
    }
}
