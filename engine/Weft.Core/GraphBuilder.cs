namespace Weft.Core;

/// <summary>Rope modes (ggml's values).</summary>
public static class RopeMode
{
    /// <summary>Rotate adjacent pairs (x[2i], x[2i+1]): Llama in GGUF layout.</summary>
    public const int Normal = 0;
    /// <summary>Rotate halves (x[i], x[i + n_dims/2]): GPT-NeoX, Qwen2, Phi.</summary>
    public const int NeoX = 2;
}

/// <summary>
/// Records a compute graph. Builder methods only create tensors with op, sources and parameters; they never
/// compute. Evaluation happens when a backend runs the <see cref="Graph"/> built from the outputs.
/// </summary>
/// <example>
/// <code>
/// var g = new GraphBuilder();
/// Tensor x = g.Input(DType.F32, 64, 3, name: "x");
/// Tensor y = g.RmsNorm(x, 1e-5f);
/// Tensor z = g.MatMul(weight, y);          // weight: [64, 128] → z: [128, 3]
/// Graph graph = g.Build(z);
/// </code>
/// </example>
public sealed class GraphBuilder
{
    private readonly List<Tensor> _leaves = new();

    /// <summary>Leaves created through <see cref="Input"/>.</summary>
    public IReadOnlyList<Tensor> Inputs => _leaves;

    /// <summary>Creates an input leaf that the host fills before evaluation.</summary>
    public Tensor Input(DType type, long ne0, long ne1 = 1, long ne2 = 1, long ne3 = 1, string name = "")
    {
        Tensor t = Tensor.NewLeaf(type, ne0, ne1, ne2, ne3, name);
        t.Flags |= TensorFlags.Input;
        _leaves.Add(t);
        return t;
    }

    /// <summary>Builds the graph computing <paramref name="outputs"/> (flagged as outputs).</summary>
    public Graph Build(params Tensor[] outputs) => Graph.FromOutputs(outputs);

    private static Tensor Node(OpKind op, DType type, long ne0, long ne1, long ne2, long ne3, string name, params Tensor?[] src)
    {
        Tensor t = Tensor.NewLeaf(type, ne0, ne1, ne2, ne3, name);
        t.Op = op;
        for (int i = 0; i < src.Length; i++)
        {
            t.Src[i] = src[i];
        }
        return t;
    }

    private static Tensor NodeLike(OpKind op, Tensor a, string name, params Tensor?[] src) =>
        Node(op, DType.F32, a.Ne[0], a.Ne[1], a.Ne[2], a.Ne[3], name, src);

    private static void RequireF32(Tensor t, OpKind op, string role)
    {
        if (t.Type != DType.F32)
        {
            throw new ArgumentException($"{op}: {role} '{t.Name}' must be f32, not {t.Traits.Name}.");
        }
    }

    /// <summary>Rows of <paramref name="a"/> picked by <paramref name="ids"/> (I32), converted to F32.</summary>
    /// <remarks>Effectively computes <c>dst[:, r, i2] = float(a[:, ids[r, i2], i2 % a.ne2])</c>.</remarks>
    public Tensor GetRows(Tensor a, Tensor ids, string name = "")
    {
        if (ids.Type != DType.I32)
        {
            throw new ArgumentException($"GetRows: ids '{ids.Name}' must be i32, not {ids.Traits.Name}.");
        }
        return Node(OpKind.GetRows, DType.F32, a.Ne[0], ids.Ne[0], ids.Ne[1], ids.Ne[2], name, a, ids);
    }

    private static Tensor Binary(OpKind op, Tensor a, Tensor b, string name)
    {
        RequireF32(a, op, "src0");
        RequireF32(b, op, "src1");
        if (!Tensor.CanRepeat(b, a))
        {
            throw new ArgumentException($"{op}: '{b.Name}' {b.Ne} does not broadcast to '{a.Name}' {a.Ne}.");
        }
        return NodeLike(op, a, name, a, b);
    }

    /// <summary>dst = a + b, b broadcast.</summary>
    public Tensor Add(Tensor a, Tensor b, string name = "") => Binary(OpKind.Add, a, b, name);

    /// <summary>dst = a * b, b broadcast.</summary>
    public Tensor Mul(Tensor a, Tensor b, string name = "") => Binary(OpKind.Mul, a, b, name);

    /// <summary>dst = a * s.</summary>
    public Tensor Scale(Tensor a, float s, string name = "")
    {
        RequireF32(a, OpKind.Scale, "src0");
        Tensor t = NodeLike(OpKind.Scale, a, name, a);
        t.SetParamF(0, s);
        return t;
    }

    /// <summary>RMS normalisation of each row: x / sqrt(mean(x²) + eps).</summary>
    public Tensor RmsNorm(Tensor a, float eps, string name = "")
    {
        RequireF32(a, OpKind.RmsNorm, "src0");
        Tensor t = NodeLike(OpKind.RmsNorm, a, name, a);
        t.SetParamF(0, eps);
        return t;
    }

    /// <summary>Layer normalisation of each row without affine: (x - mean) / sqrt(var + eps).</summary>
    public Tensor Norm(Tensor a, float eps, string name = "")
    {
        RequireF32(a, OpKind.Norm, "src0");
        Tensor t = NodeLike(OpKind.Norm, a, name, a);
        t.SetParamF(0, eps);
        return t;
    }

    /// <summary>
    /// Rotary position embedding. <paramref name="a"/> is [head_dim, n_head, n_tokens]; <paramref name="pos"/> is I32
    /// [n_tokens]. Params follow ggml's rope_ext: 1 n_dims, 2 mode, 4 n_ctx_orig, 5 freq_base, 6 freq_scale,
    /// 7 ext_factor, 8 attn_factor, 9 beta_fast, 10 beta_slow; <paramref name="freqFactors"/> (F32 [n_dims/2]) divides theta.
    /// </summary>
    public Tensor Rope(Tensor a, Tensor pos, int nDims, int mode, int nCtxOrig = 0, float freqBase = 10000f, float freqScale = 1f,
        float extFactor = 0f, float attnFactor = 1f, float betaFast = 32f, float betaSlow = 1f, Tensor? freqFactors = null, string name = "")
    {
        RequireF32(a, OpKind.Rope, "src0");
        if (pos.Type != DType.I32 || pos.Ne[0] != a.Ne[2])
        {
            throw new ArgumentException($"Rope: positions '{pos.Name}' must be i32 with {a.Ne[2]} entries (one per token).");
        }
        if (nDims <= 0 || nDims > a.Ne[0] || nDims % 2 != 0)
        {
            throw new ArgumentException($"Rope: n_dims {nDims} must be even and in 2..{a.Ne[0]}.");
        }
        if (freqFactors is not null && (freqFactors.Type != DType.F32 || freqFactors.Ne[0] < nDims / 2))
        {
            throw new ArgumentException($"Rope: frequency factors '{freqFactors.Name}' must be f32 with at least {nDims / 2} entries.");
        }
        Tensor t = NodeLike(OpKind.Rope, a, name, a, pos, freqFactors);
        t.Params[1] = nDims;
        t.Params[2] = mode;
        t.Params[4] = nCtxOrig;
        t.SetParamF(5, freqBase);
        t.SetParamF(6, freqScale);
        t.SetParamF(7, extFactor);
        t.SetParamF(8, attnFactor);
        t.SetParamF(9, betaFast);
        t.SetParamF(10, betaSlow);
        return t;
    }

    /// <summary>
    /// Softmax of each row of <c>a * scale + mask</c>. With <paramref name="causal"/>, element i0 of row i1 is masked
    /// when i0 &gt; nPast + i1 (row i1 is the query at position nPast + i1). <paramref name="mask"/> (F32, broadcast
    /// over dims 2 and 3) is added when given. Params: 0 scale, 1 causal, 2 n_past.
    /// </summary>
    public Tensor SoftMax(Tensor a, float scale = 1f, bool causal = false, int nPast = 0, Tensor? mask = null, string name = "")
    {
        RequireF32(a, OpKind.SoftMax, "src0");
        if (mask is not null && (mask.Type != DType.F32 || mask.Ne[0] != a.Ne[0] || mask.Ne[1] < a.Ne[1]))
        {
            throw new ArgumentException($"SoftMax: mask '{mask.Name}' {mask.Ne} does not fit '{a.Name}' {a.Ne}.");
        }
        Tensor t = NodeLike(OpKind.SoftMax, a, name, a, mask);
        t.SetParamF(0, scale);
        t.Params[1] = causal ? 1 : 0;
        t.Params[2] = nPast;
        return t;
    }

    /// <summary>
    /// Matrix product in ggml's orientation: <paramref name="w"/> is [K, N] (N rows of K, any supported dtype),
    /// <paramref name="x"/> is [K, M] F32; the result is [N, M] F32. Dims 2 and 3 broadcast: w.ne2 must divide x.ne2.
    /// </summary>
    /// <remarks>Effectively computes <c>dst[n, m] = Σ_k w[k, n] · x[k, m]</c>.</remarks>
    public Tensor MatMul(Tensor w, Tensor x, string name = "")
    {
        if (w.Ne[0] != x.Ne[0])
        {
            throw new ArgumentException($"MatMul: '{w.Name}' has rows of {w.Ne[0]} but '{x.Name}' has rows of {x.Ne[0]}.");
        }
        if (x.Ne[2] % w.Ne[2] != 0 || x.Ne[3] % w.Ne[3] != 0)
        {
            throw new ArgumentException($"MatMul: '{w.Name}' {w.Ne} does not broadcast over '{x.Name}' {x.Ne}.");
        }
        RequireF32(x, OpKind.MatMul, "src1");
        return Node(OpKind.MatMul, DType.F32, w.Ne[1], x.Ne[1], x.Ne[2], x.Ne[3], name, w, x);
    }

    /// <summary>dst = x * sigmoid(x).</summary>
    public Tensor Silu(Tensor a, string name = "")
    {
        RequireF32(a, OpKind.Silu, "src0");
        return NodeLike(OpKind.Silu, a, name, a);
    }

    /// <summary>dst = gelu(x), tanh approximation.</summary>
    public Tensor Gelu(Tensor a, string name = "")
    {
        RequireF32(a, OpKind.Gelu, "src0");
        return NodeLike(OpKind.Gelu, a, name, a);
    }

    /// <summary>dst = silu(gate) * up.</summary>
    public Tensor SwiGlu(Tensor gate, Tensor up, string name = "")
    {
        RequireF32(gate, OpKind.SwiGlu, "gate");
        RequireF32(up, OpKind.SwiGlu, "up");
        if (!Tensor.SameShape(gate, up))
        {
            throw new ArgumentException($"SwiGlu: '{gate.Name}' {gate.Ne} and '{up.Name}' {up.Ne} differ in shape.");
        }
        return NodeLike(OpKind.SwiGlu, gate, name, gate, up);
    }

    /// <summary>Copies <paramref name="a"/> into <paramref name="dst"/> (a tensor or view of any supported type), converting. Returns a view of dst.</summary>
    public Tensor Cpy(Tensor a, Tensor dst, string name = "")
    {
        if (a.ElementCount != dst.ElementCount)
        {
            throw new ArgumentException($"Cpy: '{a.Name}' has {a.ElementCount} elements, '{dst.Name}' {dst.ElementCount}.");
        }
        Tensor t = new() { Type = dst.Type, Ne = dst.Ne, Nb = dst.Nb, Op = OpKind.Cpy, Name = name, ViewSrc = dst, ViewOffset = 0 };
        t.Src[0] = a;
        t.Src[1] = dst;
        return t;
    }

    /// <summary>
    /// Writes row r of <paramref name="values"/> (F32 [ne0, n]) into row <c>rowIds[r]</c> of <paramref name="dst"/>
    /// (a 2-D tensor of any supported type with the same ne0), converting. Returns a view of dst that orders later
    /// readers after the write.
    /// </summary>
    /// <remarks>Effectively computes <c>dst[:, rowIds[r]] = convert(values[:, r])</c>; an id outside dst's rows fails at compute time.</remarks>
    public Tensor SetRows(Tensor dst, Tensor values, Tensor rowIds, string name = "")
    {
        RequireF32(values, OpKind.SetRows, "values");
        if (rowIds.Type != DType.I32 || rowIds.ElementCount != values.RowCount)
        {
            throw new ArgumentException($"SetRows: row ids '{rowIds.Name}' must be i32 with one entry per row of '{values.Name}' ({values.RowCount}).");
        }
        if (values.Ne[0] != dst.Ne[0] || dst.Ne[2] != 1 || dst.Ne[3] != 1)
        {
            throw new ArgumentException($"SetRows: rows of '{values.Name}' {values.Ne} do not fit the 2-D destination '{dst.Name}' {dst.Ne}.");
        }
        Tensor t = new() { Type = dst.Type, Ne = dst.Ne, Nb = dst.Nb, Op = OpKind.SetRows, Name = name, ViewSrc = dst, ViewOffset = 0 };
        t.Src[0] = values;
        t.Src[1] = dst;
        t.Src[2] = rowIds;
        return t;
    }

    /// <summary>A contiguous copy of <paramref name="a"/>.</summary>
    public Tensor Cont(Tensor a, string name = "")
    {
        Tensor t = Node(OpKind.Cont, a.Type, a.Ne[0], a.Ne[1], a.Ne[2], a.Ne[3], name, a);
        return t;
    }

    private static Tensor ViewOf(OpKind op, Tensor a, Long4 ne, Long4 nb, long offset, string name)
    {
        var t = new Tensor { Type = a.Type, Ne = ne, Nb = nb, Op = op, ViewSrc = a, ViewOffset = offset, Name = name.Length > 0 ? name : a.Name + " (view)" };
        t.Src[0] = a;
        if (offset < 0 || offset + t.ByteSize > a.ByteSize)
        {
            throw new ArgumentException($"{op}: view of {t.ByteSize} bytes at offset {offset} is outside '{a.Name}' ({a.ByteSize} bytes).");
        }
        return t;
    }

    /// <summary>A view of contiguous <paramref name="a"/> with another shape of the same element count.</summary>
    public Tensor Reshape(Tensor a, long ne0, long ne1 = 1, long ne2 = 1, long ne3 = 1, string name = "")
    {
        if (!a.IsContiguous)
        {
            throw new ArgumentException($"Reshape: '{a.Name}' is not contiguous; use Cont first.");
        }
        if (checked(ne0 * ne1 * ne2 * ne3) != a.ElementCount)
        {
            throw new ArgumentException($"Reshape: '{a.Name}' has {a.ElementCount} elements, not {ne0 * ne1 * ne2 * ne3}.");
        }
        Tensor shape = Tensor.NewLeaf(a.Type, ne0, ne1, ne2, ne3);
        return ViewOf(OpKind.Reshape, a, shape.Ne, shape.Nb, 0, name);
    }

    /// <summary>A view with explicit sizes, strides (nb1..nb3; nb0 is the type size) and byte offset.</summary>
    public Tensor View(Tensor a, Long4 ne, long nb1, long nb2, long nb3, long offset, string name = "")
    {
        Long4 nb = default;
        nb[0] = a.Traits.TypeSize;
        nb[1] = nb1;
        nb[2] = nb2;
        nb[3] = nb3;
        return ViewOf(OpKind.View, a, ne, nb, offset, name);
    }

    /// <summary>Permutes axes: axis i of <paramref name="a"/> becomes axis <c>axes[i]</c> of the view (ggml_permute).</summary>
    public Tensor Permute(Tensor a, int ax0, int ax1, int ax2, int ax3, string name = "")
    {
        Span<int> axes = [ax0, ax1, ax2, ax3];
        Span<bool> seen = stackalloc bool[4];
        foreach (int ax in axes)
        {
            if ((uint)ax > 3 || seen[ax])
            {
                throw new ArgumentException($"Permute: axes ({ax0}, {ax1}, {ax2}, {ax3}) are not a permutation of 0..3.");
            }
            seen[ax] = true;
        }
        Long4 ne = default, nb = default;
        for (int i = 0; i < 4; i++)
        {
            ne[axes[i]] = a.Ne[i];
            nb[axes[i]] = a.Nb[i];
        }
        Tensor t = ViewOf(OpKind.Permute, a, ne, nb, 0, name);
        for (int i = 0; i < 4; i++)
        {
            t.Params[i] = axes[i];
        }
        return t;
    }

    /// <summary>Swaps axes 0 and 1 (a view).</summary>
    public Tensor Transpose(Tensor a, string name = "")
    {
        Long4 ne = a.Ne, nb = a.Nb;
        (ne[0], ne[1]) = (ne[1], ne[0]);
        (nb[0], nb[1]) = (nb[1], nb[0]);
        return ViewOf(OpKind.Transpose, a, ne, nb, 0, name);
    }

    /// <summary>
    /// Distances between every column of <paramref name="a"/> (F32 [d, n_a], for example the base vectors) and every
    /// column of <paramref name="b"/> (F32 [d, n_b], for example a batch of queries); the result is F32 [n_a, n_b], so
    /// row j holds the distances of b's column j to all of a. Param 0 is the <see cref="PairwiseMetric"/>.
    /// </summary>
    /// <remarks>Effectively computes <c>dst[i, j] = Σ_k (a[k, i] − b[k, j])²</c> (<see cref="PairwiseMetric.L2Squared"/>)
    /// or <c>dst[i, j] = 1 − Σ_k a[k, i] · b[k, j]</c> (<see cref="PairwiseMetric.InnerProduct"/>), summed in F32; NaN inputs give NaN.</remarks>
    /// <exception cref="ArgumentException">a or b is not a 2-D F32 tensor, their dimensions differ, or the metric is unknown.</exception>
    public Tensor PairwiseDistance(Tensor a, Tensor b, PairwiseMetric metric, string name = "")
    {
        RequireF32(a, OpKind.PairwiseDistance, "src0");
        RequireF32(b, OpKind.PairwiseDistance, "src1");
        if (a.Ne[0] != b.Ne[0] || a.Ne[2] != 1 || a.Ne[3] != 1 || b.Ne[2] != 1 || b.Ne[3] != 1)
        {
            throw new ArgumentException($"PairwiseDistance: '{a.Name}' {a.Ne} and '{b.Name}' {b.Ne} must be 2-D with the same vector dimension (ne0).");
        }
        if (metric is not (PairwiseMetric.L2Squared or PairwiseMetric.InnerProduct))
        {
            throw new ArgumentException($"PairwiseDistance: unknown metric {metric}.", nameof(metric));
        }
        Tensor t = Node(OpKind.PairwiseDistance, DType.F32, a.Ne[1], b.Ne[1], 1, 1, name, a, b);
        t.Params[0] = (int)metric;
        return t;
    }

    /// <summary>
    /// Fused attention, flash-attention style (online softmax, no score matrix in memory).
    /// q: F32 [D, n_q, H]; k: F32/F16/Q8_0 [D, n_kv, H_kv]; v: F32/F16/Q8_0 [Dv, n_kv, H_kv]; H_kv must divide H (GQA/MQA);
    /// Q8_0 rows must hold a multiple of 32 elements. Optional mask (src3): F32/F16 [≥ n_kv, ≥ n_q, *, *], added to
    /// the scores, broadcast over heads (head h reads mask plane h % mask.ne2).
    /// Result: F32 [Dv, H, n_q] (heads of one token adjacent, ready to reshape to [Dv*H, n_q]).
    /// Params: 0 scale, 1 causal (query i sees keys j ≤ nPast + i), 2 n_past, 3 logit softcap (0 = off).
    /// With <paramref name="kvLength"/> (I32 [1], src4) only the first kvLength keys exist and n_past = kvLength - n_q
    /// at run time, so one graph serves every cache fill (decode graphs are reused across tokens).
    /// </summary>
    public Tensor FlashAttn(Tensor q, Tensor k, Tensor v, float scale, bool causal = true, int nPast = 0, Tensor? mask = null, float softcap = 0f, string name = "", Tensor? kvLength = null)
    {
        if (kvLength is not null && (kvLength.Type != DType.I32 || kvLength.ElementCount != 1))
        {
            throw new ArgumentException($"FlashAttn: kv length '{kvLength.Name}' must be a single i32.");
        }
        RequireF32(q, OpKind.FlashAttn, "q");
        if (k.Type is not (DType.F32 or DType.F16 or DType.Q8_0) || v.Type is not (DType.F32 or DType.F16 or DType.Q8_0))
        {
            throw new ArgumentException($"FlashAttn: k and v must be f32, f16 or q8_0 (got {k.Traits.Name}, {v.Traits.Name}).");
        }
        if ((k.Type == DType.Q8_0 && k.Ne[0] % 32 != 0) || (v.Type == DType.Q8_0 && v.Ne[0] % 32 != 0))
        {
            throw new ArgumentException($"FlashAttn: q8_0 keys and values need rows that are a multiple of 32 elements (k.ne0 = {k.Ne[0]}, v.ne0 = {v.Ne[0]}).");
        }
        if (k.Ne[0] != q.Ne[0] || v.Ne[1] != k.Ne[1] || v.Ne[2] != k.Ne[2] || q.Ne[2] % k.Ne[2] != 0)
        {
            throw new ArgumentException($"FlashAttn: shapes q {q.Ne}, k {k.Ne}, v {v.Ne} do not fit (k.ne0 = q.ne0, v and k share n_kv and heads, H_kv divides H).");
        }
        Tensor t = Node(OpKind.FlashAttn, DType.F32, v.Ne[0], q.Ne[2], q.Ne[1], q.Ne[3], name, q, k, v, mask, kvLength);
        t.SetParamF(0, scale);
        t.Params[1] = causal ? 1 : 0;
        t.Params[2] = nPast;
        t.SetParamF(3, softcap);
        return t;
    }
}
