#version 450
// One workgroup per row: softmax(x * f0 + mask) over the first `valid` columns (causal: n_past (i1) + row + 1,
// i0 = causal flag), zeros after. Mask is src1 (HAS_MASK), broadcast over dims 2 and 3.
#include "common/head.glsl"

shared float s_red[1024];

float reduce(float v, bool isMax)
{
    uint t = gl_LocalInvocationID.x;
    s_red[t] = v;
    barrier();
    for (uint s = gl_WorkGroupSize.x / 2u; s > 0u; s >>= 1u)
    {
        if (t < s) s_red[t] = isMax ? max(s_red[t], s_red[t + s]) : s_red[t] + s_red[t + s];
        barrier();
    }
    float r = s_red[0];
    barrier();
    return r;
}

void main()
{
    uint row = gl_WorkGroupID.y * gl_NumWorkGroups.x + gl_WorkGroupID.x;
    if (row >= p.ne1 * p.ne2 * p.ne3) return;
    uint i1 = row % p.ne1, i2 = (row / p.ne1) % p.ne2, i3 = row / (p.ne1 * p.ne2);
    uint a = p.off0 + i1 * p.nb01 + i2 * p.nb02 + i3 * p.nb03;
    uint d = p.offd + i1 * p.nb1 + i2 * p.nb2 + i3 * p.nb3;
    uint m = p.off1 + i1 * p.nb11 + (i2 % p.ne12) * p.nb12 + (i3 % p.ne13) * p.nb13;
    uint valid = p.i0 != 0u ? uint(clamp(int(p.i1) + int(i1) + 1, 0, int(p.ne0))) : p.ne0;
    uint t = gl_LocalInvocationID.x, w = gl_WorkGroupSize.x;
    float mx = -1.0 / 0.0;
    for (uint i = t; i < valid; i += w)
    {
        float v = a_f32(a + i * p.nb00) * p.f0;
#if HAS_MASK
        v += b_f32(m + i * p.nb10);
#endif
        mx = max(mx, v);
    }
    mx = reduce(mx, true);
    float sum = 0.0;
    for (uint i = t; i < valid; i += w)
    {
        float v = a_f32(a + i * p.nb00) * p.f0;
#if HAS_MASK
        v += b_f32(m + i * p.nb10);
#endif
        float e = mx == -1.0 / 0.0 ? 0.0 : exp(v - mx);
        sum += e;
        d_store_f32(d + i * p.nb0, e);
    }
    sum = reduce(sum, false);
    memoryBarrierBuffer();
    barrier();
    float inv = sum > 0.0 ? 1.0 / sum : 0.0;
    for (uint i = t; i < p.ne0; i += w)
    {
        float e = i < valid ? uintBitsToFloat(d_u32[(d + i * p.nb0) >> 2]) * inv : 0.0;
        d_store_f32(d + i * p.nb0, e);
    }
}
