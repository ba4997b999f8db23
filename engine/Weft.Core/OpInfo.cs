namespace Weft.Core;

/// <summary>
/// Builds the gradients of one node's sources from the gradient of the node (reverse-mode automatic differentiation).
/// </summary>
/// <param name="g">The builder to record the backward nodes with.</param>
/// <param name="node">The forward node.</param>
/// <param name="grad">The gradient of the loss with respect to <paramref name="node"/> (same shape as the node).</param>
/// <param name="sink">Receives the gradient of each source: <c>sink.Add(srcIndex, gradient)</c>; <see cref="GradientSink.Needs"/> says which sources want one.</param>
public delegate void BackwardRule(GraphBuilder g, Tensor node, Tensor grad, GradientSink sink);

/// <summary>
/// Static facts about every <see cref="OpKind"/>: name, whether it is a view (aliases memory, computes nothing), the
/// <see cref="GraphBuilder"/> method that is its shape rule, and its backward rule for training.
/// </summary>
/// <remarks>
/// <para><b>Declaring a backward rule.</b> An op's backward is a <see cref="BackwardRule"/> that records, with the
/// builder, the nodes computing its sources' gradients. Ops whose backward is a composition of existing ops get a rule
/// here (Add, Mul, Scale, MatMul, Cont and the views Reshape/Permute/Transpose). For example MatMul
/// (<c>dst[n,m] = Σ_k w[k,n]·x[k,m]</c>) has the rule <c>dw = MatMul(Cont(Transpose(x)), Cont(Transpose(grad)))</c>,
/// <c>dx = MatMul(Cont(Transpose(w)), grad)</c>. Ops whose backward needs a kernel of its own (RmsNorm, SoftMax,
/// Rope) get a new op kind (<c>RmsNormBack</c>…) added with its CPU kernel later, and a training module registers the
/// rule at start-up:</para>
/// <code>
/// OpInfo.SetBackward(OpKind.RmsNorm, (g, node, grad, sink) =&gt;
///     sink.Add(0, g.RmsNormBack(node.Src[0]!, grad, node.GetParamF(0))));
/// </code>
/// <para><see cref="Weft.Core.Backward.Build"/> walks the graph in reverse and fails with a clear message for an op on a
/// gradient path that has no rule.</para>
/// </remarks>
public sealed class OpInfo
{
    private static readonly OpInfo[] s_table = CreateTable();
    private static readonly BackwardRule?[] s_backward = new BackwardRule?[(int)OpKind.Count];

    static OpInfo()
    {
        BackwardRules.RegisterDefaults();
    }

    private OpInfo(OpKind kind, string builderMethod, bool isView, int minSources, int maxSources)
    {
        Kind = kind;
        Name = kind.ToString();
        BuilderMethod = builderMethod;
        IsView = isView;
        MinSources = minSources;
        MaxSources = maxSources;
    }

    /// <summary>The op.</summary>
    public OpKind Kind { get; }

    /// <summary>Its name (as in profiles and error messages).</summary>
    public string Name { get; }

    /// <summary>Name of the <see cref="GraphBuilder"/> method that creates such nodes and holds the op's shape rule.</summary>
    public string BuilderMethod { get; }

    /// <summary>True for ops that only alias their source's memory (Reshape, View, Permute, Transpose): no kernel runs.</summary>
    public bool IsView { get; }

    /// <summary>Fewest sources a node of this op has.</summary>
    public int MinSources { get; }

    /// <summary>Most sources a node of this op has (optional ones included).</summary>
    public int MaxSources { get; }

    /// <summary>The registered backward rule, or null when none is (yet) registered.</summary>
    public BackwardRule? Backward => Volatile.Read(ref s_backward[(int)Kind]);

    /// <summary>Facts about <paramref name="kind"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="kind"/> is <see cref="OpKind.None"/>, <see cref="OpKind.Count"/> or unknown.</exception>
    public static OpInfo Of(OpKind kind)
    {
        if (kind <= OpKind.None || kind >= OpKind.Count)
        {
            throw new ArgumentOutOfRangeException(nameof(kind), kind, "OpInfo exists for the ops between OpKind.None and OpKind.Count (exclusive).");
        }
        return s_table[(int)kind];
    }

    /// <summary>Every op, in <see cref="OpKind"/> order (None and Count excluded).</summary>
    public static IReadOnlyList<OpInfo> All { get; } = s_table[1..];

    /// <summary>Registers (or replaces) the backward rule of <paramref name="kind"/>.</summary>
    /// <exception cref="ArgumentNullException"><paramref name="rule"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="kind"/> is not an op.</exception>
    public static void SetBackward(OpKind kind, BackwardRule rule)
    {
        ArgumentNullException.ThrowIfNull(rule);
        _ = Of(kind);
        Volatile.Write(ref s_backward[(int)kind], rule);
    }

    /// <inheritdoc/>
    public override string ToString() => Name;

    private static OpInfo[] CreateTable()
    {
        var t = new OpInfo[(int)OpKind.Count];
        void Set(OpKind k, string builder, int min, int max, bool view = false) => t[(int)k] = new OpInfo(k, builder, view, min, max);
        Set(OpKind.GetRows, nameof(GraphBuilder.GetRows), 2, 2);
        Set(OpKind.Add, nameof(GraphBuilder.Add), 2, 2);
        Set(OpKind.Mul, nameof(GraphBuilder.Mul), 2, 2);
        Set(OpKind.Scale, nameof(GraphBuilder.Scale), 1, 1);
        Set(OpKind.RmsNorm, nameof(GraphBuilder.RmsNorm), 1, 1);
        Set(OpKind.Norm, nameof(GraphBuilder.Norm), 1, 1);
        Set(OpKind.Rope, nameof(GraphBuilder.Rope), 2, 3);
        Set(OpKind.SoftMax, nameof(GraphBuilder.SoftMax), 1, 2);
        Set(OpKind.MatMul, nameof(GraphBuilder.MatMul), 2, 2);
        Set(OpKind.Silu, nameof(GraphBuilder.Silu), 1, 1);
        Set(OpKind.Gelu, nameof(GraphBuilder.Gelu), 1, 1);
        Set(OpKind.SwiGlu, nameof(GraphBuilder.SwiGlu), 2, 2);
        Set(OpKind.Cpy, nameof(GraphBuilder.Cpy), 2, 2);
        Set(OpKind.Cont, nameof(GraphBuilder.Cont), 1, 1);
        Set(OpKind.Reshape, nameof(GraphBuilder.Reshape), 1, 1, view: true);
        Set(OpKind.View, nameof(GraphBuilder.View), 1, 1, view: true);
        Set(OpKind.Permute, nameof(GraphBuilder.Permute), 1, 1, view: true);
        Set(OpKind.Transpose, nameof(GraphBuilder.Transpose), 1, 1, view: true);
        Set(OpKind.FlashAttn, nameof(GraphBuilder.FlashAttn), 3, 5);
        Set(OpKind.SetRows, nameof(GraphBuilder.SetRows), 3, 3);
        Set(OpKind.PairwiseDistance, nameof(GraphBuilder.PairwiseDistance), 2, 2);
        for (int i = 1; i < t.Length; i++)
        {
            if (t[i] is null)
            {
                throw new InvalidOperationException($"OpInfo has no entry for OpKind.{(OpKind)i}; add one in OpInfo.CreateTable.");
            }
        }
        return t;
    }
}
