#version 450
// Tiled matrix x matrix: each workgroup (256 invocations) computes a 16 x 16 tile of dst (16 weight rows n by 16
// activation columns m); K is walked in steps of 32 through shared-memory tiles (weights dequantized on load).
// Same push constants and broadcast rule as mul_mat_vec.comp; z = b2 + ne12 * b3.
#include "common/head.glsl"
#include "common/dequant.glsl"

#define TN 16
#define TM 16
#define TK 32
shared float s_a[TN][TK + 1];
shared float s_b[TM][TK + 1];

void main()
{
    uint lid = gl_LocalInvocationID.x;
    uint tx = lid % TN, ty = lid / TN;
    uint n0 = gl_WorkGroupID.x * TN, m0 = gl_WorkGroupID.y * TM;
    uint b2 = gl_WorkGroupID.z % p.ne12, b3 = gl_WorkGroupID.z / p.ne12;
    uint aBase = p.off0 + (b2 / (p.ne12 / p.ne02)) * p.nb02 + (b3 / (p.ne13 / p.ne03)) * p.nb03;
    uint bBase = p.off1 + b2 * p.nb12 + b3 * p.nb13;
    float acc = 0.0;
    for (uint k0 = 0u; k0 < p.ne00; k0 += TK)
    {
        // 256 invocations load 16 x 32 weights and 16 x 32 activations: two of each.
        for (uint e = lid; e < TN * TK; e += 256u)
        {
            uint r = e / TK, c = e % TK;
            uint n = n0 + r, k = k0 + c;
            s_a[r][c] = (n < p.ne01 && k < p.ne00) ? deq_a(aBase + n * p.nb01, k) : 0.0;
            uint m = m0 + r;
            s_b[r][c] = (m < p.ne11 && k < p.ne00) ? b_f32(bBase + m * p.nb11 + k * p.nb10) : 0.0;
        }
        barrier();
        [[unroll]] for (uint c = 0u; c < TK; c++) acc += s_a[tx][c] * s_b[ty][c];
        barrier();
    }
    uint n = n0 + tx, m = m0 + ty;
    if (n < p.ne01 && m < p.ne11) d_store_f32(p.offd + n * p.nb0 + m * p.nb1 + b2 * p.nb2 + b3 * p.nb3, acc);
}
