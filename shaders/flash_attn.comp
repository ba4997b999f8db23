#version 450
// Fused attention for one query row and head per workgroup (x = head, y = query, z = dim 3): scores of a chunk of
// keys (one per invocation), online softmax (running max and sum), then the value rows are accumulated per output
// dimension. KV_TYPE 0: K and V are F32, 1: F16. Bindings: 0 q, 1 k, 2 v, 3 dst (contiguous [Dv, H, n_q]), 4 kv length.
// Push constants: q and k shapes/strides in the src0/src1 slots; dst ne0 = Dv; the dst stride slots carry
// nb0 = v.nb1, nb1 = v.nb2, nb2 = v.nb3, nb3 = byte offset of the kv length; f0 scale; i0 bit 0 causal,
// bit 1 kv length bound; i1 n_past.
#include "common/head.glsl"

layout(std430, binding = 4) readonly buffer E { int e_i32[]; };

#define MAX_D 256
shared float s_q[MAX_D];
shared float s_acc[MAX_D];
shared float s_p[1024];
shared float s_m, s_l, s_c;

float k_at(uint b)
{
#if KV_TYPE == 0
    return b_f32(b);
#else
    uint w = b_u32[b >> 2];
    return unpackHalf2x16((b & 2u) != 0u ? (w >> 16) : w).x;
#endif
}

float v_at(uint b)
{
#if KV_TYPE == 0
    return c_f32(b);
#else
    uint w = c_u32[b >> 2];
    return unpackHalf2x16((b & 2u) != 0u ? (w >> 16) : w).x;
#endif
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
    for (uint d = t; d < D; d += w) s_q[d] = a_f32(qRow + d * p.nb00);
    for (uint d = t; d < Dv; d += w) s_acc[d] = 0.0;
    if (t == 0u) { s_m = -1.0 / 0.0; s_l = 0.0; }
    barrier();
    uint kBase = p.off1 + hk * p.nb12 + k3 * p.nb13;
    uint vBase = p.off2 + hk * p.nb1 + k3 * p.nb2;
    for (uint j0 = 0u; j0 < visible; j0 += w)
    {
        uint j = j0 + t;
        float s = -1.0 / 0.0;
        if (j < visible)
        {
            uint kRow = kBase + j * p.nb11;
            float dot = 0.0;
            for (uint d = 0u; d < D; d++) dot += s_q[d] * k_at(kRow + d * p.nb10);
            s = dot * p.f0;
        }
        s_p[t] = s;
        barrier();
        if (t == 0u)
        {
            uint n = min(w, visible - j0);
            float mx = s_m;
            for (uint i = 0u; i < n; i++) mx = max(mx, s_p[i]);
            float c = exp(s_m - mx);
            float sum = 0.0;
            for (uint i = 0u; i < n; i++) { float e = exp(s_p[i] - mx); s_p[i] = e; sum += e; }
            s_c = c;
            s_l = s_l * c + sum;
            s_m = mx;
        }
        barrier();
        uint n = min(w, visible - j0);
        for (uint d = t; d < Dv; d += w)
        {
            float a = s_acc[d] * s_c;
            for (uint i = 0u; i < n; i++) a += s_p[i] * v_at(vBase + (j0 + i) * p.nb0 + d * (KV_TYPE == 0 ? 4u : 2u));
            s_acc[d] = a;
        }
        barrier();
    }
    float inv = s_l > 0.0 ? 1.0 / s_l : 0.0;
    uint out_ = p.offd + ((i3 * p.ne01 + iq) * H + h) * Dv * 4u;
    for (uint d = t; d < Dv; d += w) d_store_f32(out_ + d * 4u, s_acc[d] * inv);
}
