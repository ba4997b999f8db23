#version 450
// dst[n, m, b2, b3] = sum_k src0[k, n, b2 / (ne12/ne02), b3 / (ne13/ne03)] * src1[k, m, b2, b3].
// One workgroup per dst element (workgroup x = row n, y = column m, z = b2 + ne12 * b3); the threads split k in
// blocks of A_BLOCK elements and reduce in shared memory. A_TYPE: see common/dequant.glsl.
#include "common/head.glsl"
#include "common/dequant.glsl"

shared float s_sum[1024];

void main()
{
    uint row = gl_WorkGroupID.x, col = gl_WorkGroupID.y;
    uint b2 = gl_WorkGroupID.z % p.ne12, b3 = gl_WorkGroupID.z / p.ne12;
    uint a = p.off0 + row * p.nb01 + (b2 / (p.ne12 / p.ne02)) * p.nb02 + (b3 / (p.ne13 / p.ne03)) * p.nb03;
    uint b = p.off1 + col * p.nb11 + b2 * p.nb12 + b3 * p.nb13;
    uint t = gl_LocalInvocationID.x, w = gl_WorkGroupSize.x;
    float acc = 0.0;
#if A_TYPE == 0 || A_TYPE == 1
    for (uint i = t; i < p.ne00; i += w)
    {
        acc += deq_a(a, i) * b_f32(b + i * p.nb10);
    }
#else
    // Quantized rows: each thread takes 32-element sub-blocks and decodes their scales once (dot_sub32).
    for (uint i = t * 32u; i < p.ne00; i += w * 32u)
    {
        acc += dot_sub32(a, i, b + i * p.nb10, p.nb10);
    }
#endif
    s_sum[t] = acc;
    barrier();
    for (uint s = w / 2u; s > 0u; s >>= 1u)
    {
        if (t < s) s_sum[t] += s_sum[t + s];
        barrier();
    }
    if (t == 0u) d_store_f32(p.offd + row * p.nb0 + col * p.nb1 + b2 * p.nb2 + b3 * p.nb3, s_sum[0]);
}
