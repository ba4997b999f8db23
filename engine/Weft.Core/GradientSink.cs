namespace Weft.Core;

/// <summary>Collects the source gradients a <see cref="BackwardRule"/> produces for one node, summing contributions.</summary>
public sealed class GradientSink
{
    private readonly GraphBuilder _g;
    private readonly Dictionary<Tensor, Tensor> _grads;
    private readonly HashSet<Tensor> _requiresGrad;
    private Tensor _node = null!;

    internal GradientSink(GraphBuilder g, Dictionary<Tensor, Tensor> grads, HashSet<Tensor> requiresGrad)
    {
        _g = g;
        _grads = grads;
        _requiresGrad = requiresGrad;
    }

    internal void Reset(Tensor node) => _node = node;

    /// <summary>True when source <paramref name="srcIndex"/> leads to a trainable parameter (a rule may skip the others).</summary>
    public bool Needs(int srcIndex) =>
        (uint)srcIndex < Tensor.MaxSrc && _node.Src[srcIndex] is Tensor s && _requiresGrad.Contains(s);

    /// <summary>Adds <paramref name="gradient"/> to the gradient of source <paramref name="srcIndex"/> (ignored when not <see cref="Needs"/>).</summary>
    /// <exception cref="InvalidOperationException">The gradient's shape differs from the source's.</exception>
    public void Add(int srcIndex, Tensor gradient)
    {
        ArgumentNullException.ThrowIfNull(gradient);
        if (!Needs(srcIndex))
        {
            return;
        }
        Tensor src = _node.Src[srcIndex]!;
        if (!Tensor.SameShape(src, gradient))
        {
            throw new InvalidOperationException($"Backward rule of {_node.Op} (node '{_node.Name}') produced a gradient of shape {gradient.Ne} for source {srcIndex} '{src.Name}' of shape {src.Ne}.");
        }
        _grads[src] = _grads.TryGetValue(src, out Tensor? prev) ? _g.Add(prev, gradient, $"grad({src.Name})") : gradient;
    }
}
