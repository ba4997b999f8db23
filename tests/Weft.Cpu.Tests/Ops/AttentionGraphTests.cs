using Weft.Core;
using Weft.Core.Quants;

namespace Weft.Cpu.Tests.Ops;

/// <summary>
/// A Llama attention block run through <see cref="CpuBackend"/>: rope q/k, write k/v into an F16 cache through Cpy
/// into views, then fused FlashAttn over strided cache views, checked against the unfused graph
/// softmax(KᵀQ·scale, causal)·V built from MatMul/SoftMax/Cont/Permute, and across thread counts.
/// </summary>
public unsafe class AttentionGraphTests
{
    private const int D = 32, H = 4, HKv = 2, T = 5, NPast = 27, NCtx = 40, NKv = NPast + T;

    private static (float[] Fused, float[] Unfused) Run(int threads)
    {
        using var host = new OpHost();
        using var cpu = new CpuBackend(threads);
        var g = new GraphBuilder();
        Tensor q0 = host.F32(OpHost.Random(D * H * T, 1), D, H, T, name: "q");
        Tensor k0 = host.F32(OpHost.Random(D * HKv * T, 2), D, HKv, T, name: "k");
        Tensor v0 = host.F32(OpHost.Random(D * HKv * T, 3), D, HKv, T, name: "v");
        Tensor pos = host.I32(Enumerable.Range(NPast, T).ToArray(), T);
        Tensor kCache = host.Place(Tensor.NewLeaf(DType.F16, D * HKv, NCtx, name: "cache_k"));
        Tensor vCache = host.Place(Tensor.NewLeaf(DType.F16, D * HKv, NCtx, name: "cache_v"));
        float[] old = OpHost.Random(D * HKv * NCtx, 4);
        for (int i = 0; i < old.Length; i++)
        {
            ((ushort*)kCache.Data)[i] = Fp16.ToHalf(old[i]);
            ((ushort*)vCache.Data)[i] = Fp16.ToHalf(-old[i] * 0.5f);
        }

        Tensor qr = g.Rope(q0, pos, D, RopeMode.NeoX);
        Tensor kr = g.Rope(k0, pos, D, RopeMode.NeoX);
        long rowBytes = kCache.Nb[1];
        Tensor kSlot = g.View(kCache, Long4.Of(D * HKv, T), rowBytes, rowBytes * T, rowBytes * T, NPast * rowBytes);
        Tensor vSlot = g.View(vCache, Long4.Of(D * HKv, T), rowBytes, rowBytes * T, rowBytes * T, NPast * rowBytes);
        Tensor kw = g.Cpy(g.Reshape(kr, D * HKv, T), kSlot);
        Tensor vw = g.Cpy(g.Reshape(v0, D * HKv, T), vSlot);
        cpu.Evaluate(kw, vw);

        Tensor k = g.View(kCache, Long4.Of(D, NKv, HKv), rowBytes, D * 2, rowBytes * NKv, 0);
        Tensor v = g.View(vCache, Long4.Of(D, NKv, HKv), rowBytes, D * 2, rowBytes * NKv, 0);
        Tensor q = g.Permute(qr, 0, 2, 1, 3); // [D, T, H]
        float scale = 1f / MathF.Sqrt(D);
        Tensor fused = g.FlashAttn(q, k, v, scale, causal: true, nPast: NPast);

        Tensor kq = g.MatMul(g.Cont(k), q);                                  // [NKv, T, H]
        Tensor p = g.SoftMax(kq, scale, causal: true, nPast: NPast);
        Tensor vt = g.Cont(g.Permute(v, 1, 0, 2, 3));                        // [NKv, D, HKv]
        Tensor o = g.MatMul(vt, p);                                          // [D, T, H]
        Tensor unfused = g.Cont(g.Permute(o, 0, 2, 1, 3));                   // [D, H, T]
        cpu.Evaluate(fused, unfused);
        return (fused.ToFloatArray(), unfused.ToFloatArray());
    }

    [Test]
    public void FusedMatchesUnfusedAndIsThreadCountIndependent()
    {
        (float[] f1, float[] u1) = Run(1);
        (float[] f3, _) = Run(3);
        Assert.That(f1.Length, Is.EqualTo(D * H * T));
        double worst = 0;
        for (int i = 0; i < f1.Length; i++)
        {
            worst = Math.Max(worst, Math.Abs(f1[i] - u1[i]));
        }
        TestContext.Out.WriteLine($"max |fused - unfused| = {worst:E3}");
        // The unfused MatMul may round activations to F16 for the F16 weights (as ggml does): allow ~1e-3.
        Assert.That(worst, Is.LessThan(3e-3));
        Assert.That(f3, Is.EqualTo(f1));
    }
}
