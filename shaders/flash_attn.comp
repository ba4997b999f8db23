#version 450
// Fused attention for one query row and head per workgroup (x = head, y = query, z = dim 3): the keys are visited in
// tiles of one key per invocation; each tile's scores update an online softmax (running max and sum, identical in
// every invocation), then each invocation accumulates the value rows into the output dimensions it owns.
//   KV_TYPE 0: K and V F32, 1: F16, 8: Q8_0 (rows of whole 32-value blocks).
//   SUBGROUP 0: the tile's max and sum are reduced by invocation 0 alone; 1: by subgroupMax/subgroupAdd, then across
//   the workgroup's subgroups through shared memory (any subgroup size; needs subgroup basic + arithmetic).
// Q8_0 keys are scored as on the CPU (ggml's CPU scheme): the query row is rounded to Q8_0 once per workgroup with
// the CPU's exact quantizer steps (common/q8_0_exact.glsl), each block's dot is an exact integer sum, and the blocks
// add up as float(sum) * (d_k * d_q) in the CPU reference's order, so the scores equal the CPU reference's bit for bit
// and the AVX2 path's up to its block summation order. Q8_0 values are dequantized (q * d) and accumulated in F32.
// Bindings: 0 q, 1 k, 2 v, 3 dst (contiguous [Dv, H, n_q]), 4 kv length (I32), 5 mask (F32 or F16).
// Push constants (slots whose own value is implied are reused):
//   src0: q shape and strides, except nb00 (q rows are contiguous) = mask nb1;
//   src1: k shape and strides, except ne10 (= D) = mask ne2 and nb10 (the k element size) = mask nb2;
//   dst:  ne0 = Dv, ne1 = mask ne3, ne2 = mask nb3, ne3 = mask byte offset, nb0..nb2 = v nb1..nb3,
//         nb3 = byte offset of the kv length; off2 = v offset;
//   f0 scale, f1 softcap (0 = off); i0 bit 0 causal, bit 1 kv length bound, bit 2 mask, bit 3 mask is F16; i1 n_past.
// Scores are cap(scale * q.k) + mask with cap(s) = softcap * tanh(s / softcap); -inf scores get zero weight, and a
// query that sees no key (all masked) gets zeros, as on the CPU.
#ifndef SUBGROUP
#define SUBGROUP 0
#endif
#if SUBGROUP
#extension GL_KHR_shader_subgroup_basic : require
#extension GL_KHR_shader_subgroup_arithmetic : require
#endif
#include "common/head.glsl"
#if KV_TYPE == 8
#include "common/q8_0_exact.glsl"
#endif

layout(std430, binding = 4) readonly buffer E { int e_i32[]; };
layout(std430, binding = 5) readonly buffer M { uint m_u32[]; };

#define MAX_D 256
#define MAX_WG 256
shared float s_q[MAX_D];
shared float s_acc[MAX_D];
shared float s_p[MAX_WG];
#if KV_TYPE == 8
shared int s_qi[MAX_D];
shared float s_qd[MAX_D / 32];
#endif
#if SUBGROUP
shared float s_red[MAX_WG];
#else
shared float s_c, s_l, s_m;
#endif

const float NEG_INF = -1.0 / 0.0;

float f16_at_b(uint b) { uint w = b_u32[b >> 2]; return unpackHalf2x16((b & 2u) != 0u ? (w >> 16) : w).x; }
float f16_at_c(uint b) { uint w = c_u32[b >> 2]; return unpackHalf2x16((b & 2u) != 0u ? (w >> 16) : w).x; }

// Four bytes starting at an even byte offset.
uint word_b(uint b) { uint i = b >> 2; return (b & 2u) == 0u ? b_u32[i] : (b_u32[i] >> 16) | (b_u32[i + 1u] << 16); }
int i8_c(uint b) { return int(c_u32[b >> 2] << (24u - (b & 3u) * 8u)) >> 24; }

// q . k for the key row at byte offset row.
float k_dot(uint row, uint D)
{
    float dot = 0.0;
#if KV_TYPE == 8
    precise float acc = 0.0;
    for (uint blk = 0u; blk < D / 32u; blk++)
    {
        uint b = row + blk * 34u;
        int sumi = 0;
        for (uint i = 0u; i < 32u; i += 4u)
        {
            uint w = word_b(b + 2u + i);
            uint qd = blk * 32u + i;
            sumi += s_qi[qd] * (int(w << 24) >> 24) + s_qi[qd + 1u] * (int(w << 16) >> 24) +
                    s_qi[qd + 2u] * (int(w << 8) >> 24) + s_qi[qd + 3u] * (int(w) >> 24);
        }
        uint hw = b_u32[b >> 2];
        precise float dd = half_value((b & 2u) != 0u ? (hw >> 16) : (hw & 0xFFFFu)) * s_qd[blk];
        precise float term = float(sumi) * dd;
        acc = acc + term;
    }
    dot = acc;
#elif KV_TYPE == 1
    for (uint d = 0u; d < D; d++) dot += s_q[d] * f16_at_b(row + d * 2u);
#else
    for (uint d = 0u; d < D; d++) dot += s_q[d] * b_f32(row + d * 4u);
#endif
    return dot;
}

// Element d of the value row at byte offset row.
float v_at(uint row, uint d)
{
#if KV_TYPE == 8
    uint b = row + (d / 32u) * 34u;
    return f16_at_c(b) * float(i8_c(b + 2u + d % 32u));
#elif KV_TYPE == 1
    return f16_at_c(row + d * 2u);
#else
    return c_f32(row + d * 4u);
#endif
}

float mask_at(uint row, uint j)
{
    if ((p.i0 & 8u) != 0u)
    {
        uint b = row + j * 2u;
        uint w = m_u32[b >> 2];
        return unpackHalf2x16((b & 2u) != 0u ? (w >> 16) : w).x;
    }
    return uintBitsToFloat(m_u32[(row + j * 4u) >> 2]);
}

void main()
{
    uint h = gl_WorkGroupID.x, iq = gl_WorkGroupID.y, i3 = gl_WorkGroupID.z;
    uint t = gl_LocalInvocationID.x, w = gl_WorkGroupSize.x;
    uint D = p.ne00, Dv = p.ne0, H = p.ne02;
    uint nKv = p.ne11;
    int nPast = int(p.i1);
    if ((p.i0 & 2u) != 0u)
    {
        nKv = uint(e_i32[p.nb3 >> 2]);
        nPast = int(nKv) - int(p.ne01);
    }
    uint visible = (p.i0 & 1u) != 0u ? uint(clamp(nPast + int(iq) + 1, 0, int(nKv))) : nKv;
    uint hk = h / (H / p.ne12), k3 = i3 % p.ne13;
    uint qRow = p.off0 + iq * p.nb01 + h * p.nb02 + i3 * p.nb03;
    for (uint d = t; d < D; d += w) s_q[d] = a_f32(qRow + d * 4u);
    for (uint d = t; d < Dv; d += w) s_acc[d] = 0.0;
#if KV_TYPE == 8
    barrier();
    for (uint blk = t; blk < D / 32u; blk += w)
    {
        float x[32];
        for (uint j = 0u; j < 32u; j++) x[j] = s_q[blk * 32u + j];
        uint hb;
        int qi[32];
        q8_0_quantize_block(x, hb, qi);
        s_qd[blk] = half_value(hb);
        for (uint j = 0u; j < 32u; j++) s_qi[blk * 32u + j] = qi[j];
    }
#endif
    bool hasMask = (p.i0 & 4u) != 0u;
    uint maskRow = hasMask ? p.ne3 + iq * p.nb00 + (h % p.ne10) * p.nb10 + (i3 % p.ne1) * p.ne2 : 0u;
    float softcap = p.f1;
#if SUBGROUP
    float m = NEG_INF, l = 0.0;
#else
    if (t == 0u) { s_m = NEG_INF; s_l = 0.0; }
#endif
    barrier();
    uint kBase = p.off1 + hk * p.nb12 + k3 * p.nb13;
    uint vBase = p.off2 + hk * p.nb1 + k3 * p.nb2;
    for (uint j0 = 0u; j0 < visible; j0 += w)
    {
        uint j = j0 + t;
        float s = NEG_INF;
        if (j < visible)
        {
            s = k_dot(kBase + j * p.nb11, D) * p.f0;
            if (softcap != 0.0) s = softcap * tanh(clamp(s / softcap, -15.0, 15.0));
            if (hasMask) s += mask_at(maskRow, j);
        }
        uint n = min(w, visible - j0);
        float c;
#if SUBGROUP
        // Tile max: per subgroup, then over the subgroups (every invocation reads the same partials in the same
        // order, so m, l and c are identical across the workgroup).
        float sm = subgroupMax(s);
        if (subgroupElect()) s_red[gl_SubgroupID] = sm;
        barrier();
        float mx = m;
        for (uint i = 0u; i < gl_NumSubgroups; i++) mx = max(mx, s_red[i]);
        barrier();
        float e = (s == NEG_INF) ? 0.0 : exp(s - mx);
        s_p[t] = e;
        float ss = subgroupAdd(e);
        if (subgroupElect()) s_red[gl_SubgroupID] = ss;
        barrier();
        float sum = 0.0;
        for (uint i = 0u; i < gl_NumSubgroups; i++) sum += s_red[i];
        c = (m == NEG_INF) ? 0.0 : exp(m - mx);
        if (mx == NEG_INF) c = 1.0;
        l = l * c + sum;
        m = mx;
#else
        s_p[t] = s;
        barrier();
        if (t == 0u)
        {
            float mx = s_m;
            for (uint i = 0u; i < n; i++) mx = max(mx, s_p[i]);
            float cc = 1.0, sum = 0.0;
            if (mx != NEG_INF)
            {
                cc = s_m == NEG_INF ? 0.0 : exp(s_m - mx);
                for (uint i = 0u; i < n; i++)
                {
                    float e = s_p[i] == NEG_INF ? 0.0 : exp(s_p[i] - mx);
                    s_p[i] = e;
                    sum += e;
                }
            }
            else
            {
                for (uint i = 0u; i < n; i++) s_p[i] = 0.0;
            }
            s_c = cc;
            s_l = s_l * cc + sum;
            s_m = mx;
        }
        barrier();
        c = s_c;
#endif
        for (uint d = t; d < Dv; d += w)
        {
            float a = s_acc[d] * c;
            for (uint i = 0u; i < n; i++)
            {
                float pi = s_p[i];
                if (pi != 0.0) a += pi * v_at(vBase + (j0 + i) * p.nb0, d);
            }
            s_acc[d] = a;
        }
        barrier();
    }
#if SUBGROUP
    float total = l;
#else
    float total = s_l;
#endif
    float inv = total > 0.0 ? 1.0 / total : 0.0;
    uint out_ = p.offd + ((i3 * p.ne01 + iq) * H + h) * Dv * 4u;
    for (uint d = t; d < Dv; d += w) d_store_f32(out_ + d * 4u, s_acc[d] * inv);
}
