namespace Weft.Core;

// Backward rules of the ops whose gradient is a composition of existing ops. Ops needing kernels of their own
// (RmsNorm, SoftMax, Rope, ...) get their rules from the training module.
internal static class BackwardRules
{
    public static void RegisterDefaults()
    {
        OpInfo.SetBackward(OpKind.Add, AddRule);
        OpInfo.SetBackward(OpKind.Mul, MulRule);
        OpInfo.SetBackward(OpKind.Scale, (g, node, grad, sink) => sink.Add(0, g.Scale(grad, node.GetParamF(0))));
        OpInfo.SetBackward(OpKind.MatMul, MatMulRule);
        OpInfo.SetBackward(OpKind.Cont, (g, node, grad, sink) => sink.Add(0, grad));
        OpInfo.SetBackward(OpKind.Reshape, (g, node, grad, sink) =>
        {
            Tensor a = node.Src[0]!;
            sink.Add(0, g.Reshape(Contiguous(g, grad), a.Ne[0], a.Ne[1], a.Ne[2], a.Ne[3]));
        });
        OpInfo.SetBackward(OpKind.Transpose, (g, node, grad, sink) => sink.Add(0, g.Cont(g.Transpose(grad))));
        OpInfo.SetBackward(OpKind.Permute, (g, node, grad, sink) =>
        {
            // Axis i of the source became axis p[i] of the node, so axis p[i] of the gradient goes back to axis i.
            Span<int> inv = stackalloc int[4];
            for (int i = 0; i < 4; i++)
            {
                inv[node.Params[i]] = i;
            }
            sink.Add(0, g.Cont(g.Permute(grad, inv[0], inv[1], inv[2], inv[3])));
        });
    }

    private static Tensor Contiguous(GraphBuilder g, Tensor t) => t.IsContiguous ? t : g.Cont(t);

    private static void RequireSameShape(Tensor node)
    {
        Tensor a = node.Src[0]!, b = node.Src[1]!;
        if (!Tensor.SameShape(a, b))
        {
            throw new NotSupportedException($"Backward of {node.Op} (node '{node.Name}') with broadcast '{b.Name}' {b.Ne} over '{a.Name}' {a.Ne} needs a sum-reduction op, which Weft does not have yet; give both sources the same shape.");
        }
    }

    private static void AddRule(GraphBuilder g, Tensor node, Tensor grad, GradientSink sink)
    {
        RequireSameShape(node);
        sink.Add(0, grad);
        sink.Add(1, grad);
    }

    private static void MulRule(GraphBuilder g, Tensor node, Tensor grad, GradientSink sink)
    {
        RequireSameShape(node);
        Tensor a = node.Src[0]!, b = node.Src[1]!;
        if (sink.Needs(0))
        {
            sink.Add(0, g.Mul(grad, b, $"grad({a.Name})"));
        }
        if (sink.Needs(1))
        {
            sink.Add(1, g.Mul(grad, a, $"grad({b.Name})"));
        }
    }

    // dst[n, m] = Σ_k w[k, n] x[k, m]  ⇒  dw[k, n] = Σ_m x[k, m] G[n, m],  dx[k, m] = Σ_n w[k, n] G[n, m].
    private static void MatMulRule(GraphBuilder g, Tensor node, Tensor grad, GradientSink sink)
    {
        Tensor w = node.Src[0]!, x = node.Src[1]!;
        if (w.Ne[2] != 1 || w.Ne[3] != 1 || x.Ne[2] != 1 || x.Ne[3] != 1)
        {
            throw new NotSupportedException($"Backward of MatMul (node '{node.Name}') supports 2-D operands only, not '{w.Name}' {w.Ne} × '{x.Name}' {x.Ne}.");
        }
        if (sink.Needs(0))
        {
            if (w.Type != DType.F32)
            {
                throw new NotSupportedException($"Backward of MatMul (node '{node.Name}'): weight '{w.Name}' is {w.Traits.Name}; only F32 weights can be trained (use LoRA adapters over quantized weights).");
            }
            sink.Add(0, g.MatMul(g.Cont(g.Transpose(x)), g.Cont(g.Transpose(grad)), $"grad({w.Name})"));
        }
        if (sink.Needs(1))
        {
            sink.Add(1, g.MatMul(g.Cont(g.Transpose(w)), Contiguous(g, grad), $"grad({x.Name})"));
        }
    }
}
