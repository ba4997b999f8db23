#version 450
// One workgroup per row. OP 0: rms_norm x / sqrt(mean(x^2) + eps); 1: norm (x - mean) / sqrt(var + eps). eps = f0.
#include "common/head.glsl"

shared float s_sum[1024];

float reduce_sum(float v)
{
    uint t = gl_LocalInvocationID.x;
    s_sum[t] = v;
    barrier();
    for (uint s = gl_WorkGroupSize.x / 2u; s > 0u; s >>= 1u)
    {
        if (t < s) s_sum[t] += s_sum[t + s];
        barrier();
    }
    float r = s_sum[0];
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
    uint t = gl_LocalInvocationID.x, w = gl_WorkGroupSize.x;
    float mean = 0.0;
#if OP == 1
    float s = 0.0;
    for (uint i = t; i < p.ne0; i += w) s += a_f32(a + i * p.nb00);
    mean = reduce_sum(s) / float(p.ne0);
#endif
    float q = 0.0;
    for (uint i = t; i < p.ne0; i += w) { float x = a_f32(a + i * p.nb00) - mean; q += x * x; }
    float scale = 1.0 / sqrt(reduce_sum(q) / float(p.ne0) + p.f0);
    for (uint i = t; i < p.ne0; i += w) d_store_f32(d + i * p.nb0, (a_f32(a + i * p.nb00) - mean) * scale);
}
