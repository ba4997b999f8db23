#version 450
// Pairwise distances: dst[n, m] = dist(src0[:, n], src1[:, m]) with METRIC 0 = squared L2 sum((a-b)^2) (summed
// directly, not as |a|^2 + |b|^2 - 2ab) or 1 = inner-product distance 1 - sum(a*b). src0 [K, N] (base vectors),
// src1 [K, M] (queries), dst [N, M]; all F32 with contiguous rows.
// Each workgroup (256 invocations as 16 x 16) computes a 64 x 64 tile of dst, each invocation a 4 x 4 block of it
// (n = n0 + tx + 16u, m = m0 + ty + 16v, so shared-memory reads and dst writes are consecutive across tx). K is walked
// in steps of 16 through shared-memory tiles; every pair is summed over k in order.
#include "common/head.glsl"

#define TN 64
#define TM 64
#define TK 16
shared float s_a[TN][TK + 1];
shared float s_b[TM][TK + 1];

void main()
{
    uint lid = gl_LocalInvocationID.x;
    uint tx = lid % 16u, ty = lid / 16u;
    uint n0 = gl_WorkGroupID.x * TN, m0 = gl_WorkGroupID.y * TM;
    float acc[4][4];
    [[unroll]] for (uint u = 0u; u < 4u; u++)
        [[unroll]] for (uint v = 0u; v < 4u; v++) acc[u][v] = 0.0;
    for (uint k0 = 0u; k0 < p.ne00; k0 += TK)
    {
        // 256 invocations load 64 x 16 base values and 64 x 16 query values: four of each.
        [[unroll]] for (uint e = lid; e < TN * TK; e += 256u)
        {
            uint r = e / TK, c = e % TK, k = k0 + c;
            uint n = n0 + r, m = m0 + r;
            s_a[r][c] = (n < p.ne01 && k < p.ne00) ? a_f32(p.off0 + n * p.nb01 + k * 4u) : 0.0;
            s_b[r][c] = (m < p.ne11 && k < p.ne00) ? b_f32(p.off1 + m * p.nb11 + k * 4u) : 0.0;
        }
        barrier();
        uint kn = min(TK, p.ne00 - k0);
        for (uint c = 0u; c < kn; c++)
        {
            float av[4], bv[4];
            [[unroll]] for (uint u = 0u; u < 4u; u++) av[u] = s_a[tx + 16u * u][c];
            [[unroll]] for (uint v = 0u; v < 4u; v++) bv[v] = s_b[ty + 16u * v][c];
            [[unroll]] for (uint u = 0u; u < 4u; u++)
            {
                [[unroll]] for (uint v = 0u; v < 4u; v++)
                {
#if METRIC == 0
                    float d = av[u] - bv[v];
                    acc[u][v] += d * d;
#else
                    acc[u][v] += av[u] * bv[v];
#endif
                }
            }
        }
        barrier();
    }
    [[unroll]] for (uint u = 0u; u < 4u; u++)
    {
        uint n = n0 + tx + 16u * u;
        [[unroll]] for (uint v = 0u; v < 4u; v++)
        {
            uint m = m0 + ty + 16u * v;
            if (n < p.ne01 && m < p.ne11)
            {
#if METRIC == 0
                d_store_f32(p.offd + n * p.nb0 + m * p.nb1, acc[u][v]);
#else
                d_store_f32(p.offd + n * p.nb0 + m * p.nb1, 1.0 - acc[u][v]);
#endif
            }
        }
    }
}
