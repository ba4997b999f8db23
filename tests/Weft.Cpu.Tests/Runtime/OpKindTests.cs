using Weft.Core;

namespace Weft.Cpu.Tests.Runtime;

/// <summary>
/// Every <see cref="OpKind"/> (None and Count aside) has a name, a shape rule (a <see cref="GraphBuilder"/> method that
/// creates it) and a CPU kernel that supports a typical node: the replacement for ggml's static_assert on GGML_OP_COUNT.
/// </summary>
public class OpKindTests
{
    private static Tensor F32(long ne0, long ne1 = 1, long ne2 = 1, string name = "") => Tensor.NewLeaf(DType.F32, ne0, ne1, ne2, name: name);

    // One typical node per op, built through the op's builder method (OpInfo.BuilderMethod).
    private static readonly Dictionary<OpKind, Func<GraphBuilder, Tensor>> s_samples = new()
    {
        [OpKind.GetRows] = g => g.GetRows(F32(8, 5), Tensor.NewLeaf(DType.I32, 3)),
        [OpKind.Add] = g => g.Add(F32(8, 4), F32(8, 4)),
        [OpKind.Mul] = g => g.Mul(F32(8, 4), F32(8, 1)),
        [OpKind.Scale] = g => g.Scale(F32(8, 4), 0.5f),
        [OpKind.RmsNorm] = g => g.RmsNorm(F32(8, 4), 1e-5f),
        [OpKind.Norm] = g => g.Norm(F32(8, 4), 1e-5f),
        [OpKind.Rope] = g => g.Rope(F32(8, 2, 3), Tensor.NewLeaf(DType.I32, 3), 8, RopeMode.Normal),
        [OpKind.SoftMax] = g => g.SoftMax(F32(8, 4), 0.125f, causal: true),
        [OpKind.MatMul] = g => g.MatMul(F32(32, 4), F32(32, 3)),
        [OpKind.Silu] = g => g.Silu(F32(8, 4)),
        [OpKind.Gelu] = g => g.Gelu(F32(8, 4)),
        [OpKind.SwiGlu] = g => g.SwiGlu(F32(8, 4), F32(8, 4)),
        [OpKind.Cpy] = g => g.Cpy(F32(8, 4), Tensor.NewLeaf(DType.F16, 8, 4)),
        [OpKind.Cont] = g => g.Cont(g.Transpose(F32(8, 4))),
        [OpKind.Reshape] = g => g.Reshape(F32(8, 4), 32),
        [OpKind.View] = g => g.View(F32(8, 4), Long4.Of(4, 4), 32, 128, 128, 16),
        [OpKind.Permute] = g => g.Permute(F32(8, 4, 2), 1, 2, 0, 3),
        [OpKind.Transpose] = g => g.Transpose(F32(8, 4)),
        [OpKind.FlashAttn] = g => g.FlashAttn(F32(8, 3, 2), Tensor.NewLeaf(DType.F16, 8, 5, 2), Tensor.NewLeaf(DType.F16, 8, 5, 2), 0.35f),
        [OpKind.SetRows] = g => g.SetRows(Tensor.NewLeaf(DType.F16, 8, 6), F32(8, 2), Tensor.NewLeaf(DType.I32, 2)),
        [OpKind.PairwiseDistance] = g => g.PairwiseDistance(F32(8, 5), F32(8, 3), PairwiseMetric.L2Squared),
    };

    private static IEnumerable<OpKind> Ops()
    {
        for (OpKind k = OpKind.None + 1; k < OpKind.Count; k++)
        {
            yield return k;
        }
    }

    [Test]
    public void EveryOpHasANameAndAShapeRule()
    {
        foreach (OpKind k in Ops())
        {
            OpInfo info = OpInfo.Of(k);
            Assert.That(info.Name, Is.Not.Empty.And.EqualTo(k.ToString()));
            Assert.That(s_samples.ContainsKey(k), Is.True, $"{k}: add a sample node to OpKindTests");
            Tensor node = s_samples[k](new GraphBuilder());
            Assert.That(node.Op, Is.EqualTo(k), $"GraphBuilder.{info.BuilderMethod} builds {k}");
            Assert.That(node.IsView, Is.EqualTo(info.IsView), k.ToString());
            int sources = 0;
            for (int j = 0; j < Tensor.MaxSrc; j++)
            {
                sources += node.Src[j] is null ? 0 : 1;
            }
            Assert.That(sources, Is.InRange(info.MinSources, info.MaxSources), $"{k}: source count");
        }
    }

    [Test]
    public void EveryComputingOpHasACpuKernelSupportingATypicalNode()
    {
        var missing = new List<string>();
        foreach (OpKind k in Ops())
        {
            if (OpInfo.Of(k).IsView)
            {
                Assert.That(CpuDevice.Instance.Supports(s_samples[k](new GraphBuilder())), Is.True, $"{k} view");
                continue;
            }
            Tensor node = s_samples[k](new GraphBuilder());
            if (CpuOpTable.Default.Implementations(k).Count == 0)
            {
                missing.Add($"{k} (no ICpuOp)");
            }
            else if (!CpuOpTable.Default.Supports(node))
            {
                missing.Add($"{k} (kernel does not support {node.Traits.Name} {node.Ne})");
            }
        }
        Assert.That(missing, Is.Empty, "ops without a CPU kernel");
    }
}
