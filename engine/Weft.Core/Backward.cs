namespace Weft.Core;

/// <summary>The graph computing a loss and its gradients, from <see cref="Backward.Build"/>.</summary>
public sealed class BackwardResult
{
    internal BackwardResult(Graph graph, Tensor seed, Dictionary<Tensor, Tensor> gradients)
    {
        Graph = graph;
        Seed = seed;
        Gradients = gradients;
    }

    /// <summary>Forward and backward nodes; outputs are the loss then the gradients of the parameters.</summary>
    public Graph Graph { get; }

    /// <summary>The gradient of the loss with respect to itself: an input leaf the caller fills with 1 before evaluation.</summary>
    public Tensor Seed { get; }

    /// <summary>Gradient of each parameter (<see cref="TensorFlags.Param"/> leaf) that reaches the loss.</summary>
    public IReadOnlyDictionary<Tensor, Tensor> Gradients { get; }
}

/// <summary>Reverse-mode automatic differentiation over a <see cref="Graph"/> using the rules in <see cref="OpInfo"/>.</summary>
/// <example><code>
/// var g = new GraphBuilder();
/// Tensor w = Tensor.NewLeaf(DType.F32, 8, 4, name: "w"); w.Flags |= TensorFlags.Param;
/// Tensor x = g.Input(DType.F32, 8, 1, name: "x");
/// Tensor loss = ...;                              // a one-element F32 node computed from w and x
/// BackwardResult r = Backward.Build(g.Build(loss), loss);
/// // place and fill w, x; r.Seed.SetData([1f]); evaluate r.Graph; read w.Grad
/// </code></example>
public static class Backward
{
    /// <summary>
    /// Builds the gradients of <paramref name="loss"/> with respect to every <see cref="TensorFlags.Param"/> leaf of
    /// <paramref name="graph"/>, walking the nodes in reverse and calling each op's <see cref="OpInfo.Backward"/>
    /// rule. Sets <see cref="Tensor.Grad"/> of the parameters.
    /// </summary>
    /// <exception cref="ArgumentException">The loss is not a one-element F32 node of the graph, or no parameter reaches it.</exception>
    /// <exception cref="NotSupportedException">A node on a gradient path has an op with no registered backward rule.</exception>
    public static BackwardResult Build(Graph graph, Tensor loss)
    {
        ArgumentNullException.ThrowIfNull(graph);
        ArgumentNullException.ThrowIfNull(loss);
        if (loss.Type != DType.F32 || loss.ElementCount != 1)
        {
            throw new ArgumentException($"The loss '{loss.Name}' must be a one-element F32 tensor (got {loss.Traits.Name} {loss.Ne}); reduce it first.", nameof(loss));
        }
        IReadOnlyList<Tensor> nodes = graph.Nodes;
        int lossIndex = -1;
        for (int i = 0; i < nodes.Count; i++)
        {
            if (ReferenceEquals(nodes[i], loss))
            {
                lossIndex = i;
            }
        }
        if (lossIndex < 0)
        {
            throw new ArgumentException($"The loss '{loss.Name}' is not a node of the graph.", nameof(loss));
        }

        var requiresGrad = new HashSet<Tensor>(ReferenceEqualityComparer.Instance);
        var parameters = new List<Tensor>();
        foreach (Tensor leaf in graph.Leaves)
        {
            if ((leaf.Flags & TensorFlags.Param) != 0)
            {
                requiresGrad.Add(leaf);
                parameters.Add(leaf);
            }
        }
        for (int i = 0; i <= lossIndex; i++)
        {
            Tensor n = nodes[i];
            for (int j = 0; j < Tensor.MaxSrc; j++)
            {
                if (n.Src[j] is Tensor s && requiresGrad.Contains(s))
                {
                    requiresGrad.Add(n);
                    break;
                }
            }
        }
        if (!requiresGrad.Contains(loss))
        {
            throw new ArgumentException($"No parameter (a leaf flagged TensorFlags.Param) reaches the loss '{loss.Name}'.", nameof(loss));
        }

        var g = new GraphBuilder();
        Tensor seed = g.Input(DType.F32, loss.Ne[0], loss.Ne[1], loss.Ne[2], loss.Ne[3], name: $"grad({loss.Name}) seed");
        var grads = new Dictionary<Tensor, Tensor>(ReferenceEqualityComparer.Instance) { [loss] = seed };
        var sink = new GradientSink(g, grads, requiresGrad);
        for (int i = lossIndex; i >= 0; i--)
        {
            Tensor n = nodes[i];
            if (!requiresGrad.Contains(n) || !grads.TryGetValue(n, out Tensor? grad))
            {
                continue;
            }
            BackwardRule rule = OpInfo.Of(n.Op).Backward
                ?? throw new NotSupportedException($"Backward: op {n.Op} (node '{n.Name}') has no backward rule, so gradients cannot flow through it. Register one with OpInfo.SetBackward(OpKind.{n.Op}, ...) (a training module does this), or keep the op off the path from the parameters to the loss.");
            sink.Reset(n);
            rule(g, n, grad, sink);
        }

        var outputs = new List<Tensor> { loss };
        var result = new Dictionary<Tensor, Tensor>(ReferenceEqualityComparer.Instance);
        foreach (Tensor p in parameters)
        {
            if (grads.TryGetValue(p, out Tensor? gp))
            {
                p.Grad = gp;
                result[p] = gp;
                outputs.Add(gp);
            }
        }
        return new BackwardResult(Graph.FromOutputs(outputs.ToArray()), seed, result);
    }
}
