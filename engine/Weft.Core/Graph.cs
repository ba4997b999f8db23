namespace Weft.Core;

/// <summary>
/// A compute graph in topological order: <see cref="Nodes"/> are the op tensors (sources before users),
/// <see cref="Leaves"/> the tensors with no op (weights, inputs) reached from the outputs.
/// </summary>
public sealed class Graph
{
    private readonly List<Tensor> _nodes = new();
    private readonly List<Tensor> _leaves = new();
    private readonly List<Tensor> _outputs = new();

    /// <summary>Op tensors, sources first.</summary>
    public IReadOnlyList<Tensor> Nodes => _nodes;
    /// <summary>Leaf tensors reached from the outputs.</summary>
    public IReadOnlyList<Tensor> Leaves => _leaves;
    /// <summary>The requested outputs.</summary>
    public IReadOnlyList<Tensor> Outputs => _outputs;

    /// <summary>Builds the graph that computes <paramref name="outputs"/>, flagging them as outputs.</summary>
    /// <exception cref="ArgumentException">No outputs were given.</exception>
    public static Graph FromOutputs(params Tensor[] outputs)
    {
        if (outputs.Length == 0)
        {
            throw new ArgumentException("A graph needs at least one output tensor.", nameof(outputs));
        }
        var g = new Graph();
        var visited = new HashSet<Tensor>(ReferenceEqualityComparer.Instance);
        foreach (Tensor o in outputs)
        {
            o.Flags |= TensorFlags.Output;
            g._outputs.Add(o);
            g.Visit(o, visited);
        }
        return g;
    }

    /// <summary>
    /// Makes a graph from explicit parts (a segment of another graph, as the <see cref="Scheduler"/> builds per backend).
    /// Nothing is flagged and no order is checked: <paramref name="nodes"/> must already be in evaluation order.
    /// </summary>
    /// <param name="nodes">Op tensors in evaluation order.</param>
    /// <param name="leaves">Tensors read by the nodes and not computed by them.</param>
    /// <param name="outputs">Tensors whose memory must survive the evaluation (read afterwards).</param>
    /// <exception cref="ArgumentNullException">A list is null.</exception>
    public static Graph FromParts(IEnumerable<Tensor> nodes, IEnumerable<Tensor> leaves, IEnumerable<Tensor> outputs)
    {
        ArgumentNullException.ThrowIfNull(nodes);
        ArgumentNullException.ThrowIfNull(leaves);
        ArgumentNullException.ThrowIfNull(outputs);
        var g = new Graph();
        g._nodes.AddRange(nodes);
        g._leaves.AddRange(leaves);
        g._outputs.AddRange(outputs);
        return g;
    }

    // Iterative post-order DFS: deep graphs (hundreds of layers) must not overflow the stack.
    private void Visit(Tensor root, HashSet<Tensor> visited)
    {
        if (!visited.Add(root))
        {
            return;
        }
        var stack = new Stack<(Tensor T, int NextSrc)>();
        stack.Push((root, 0));
        while (stack.Count > 0)
        {
            (Tensor t, int i) = stack.Pop();
            bool pushedChild = false;
            for (; i < Tensor.MaxSrc; i++)
            {
                Tensor? s = t.Src[i];
                if (s is not null && visited.Add(s))
                {
                    stack.Push((t, i + 1));
                    stack.Push((s, 0));
                    pushedChild = true;
                    break;
                }
            }
            if (!pushedChild)
            {
                if (t.Op == OpKind.None)
                {
                    _leaves.Add(t);
                }
                else
                {
                    _nodes.Add(t);
                }
            }
        }
    }
}
