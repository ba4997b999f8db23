#version 450
// dst[i0, ids[r]] = src0[i0, r] converted to D_TYPE (0 F32, 1 F16, 8 Q8_0); r runs over src0's rows (i1, i2, i3), ids
// (src1) are I32 and contiguous. An id outside dst's rows writes nothing (the CPU op throws; the backend checks ids).
// F32/F16: one invocation per element. Q8_0: one invocation per 32-value block, bytes identical to the CPU's reference
// quantizer (Weft.Core.Quants.Quantize.RowQ8_0, ggml's quantize_row_q8_0_ref, which ggml's set_rows uses), every
// loosely specified rounding step done exactly (common/q8_0_exact.glsl).
#include "common/head.glsl"

#if D_TYPE == 8
#include "common/q8_0_exact.glsl"

// Writes the bytes [lo, hi) of word w (the others belong to neighbouring blocks, possibly written concurrently).
void store_bytes(uint w, uint value, uint lo, uint hi)
{
    if (lo == 0u && hi == 4u)
    {
        d_u32[w] = value;
        return;
    }
    uint mask = (hi == 4u ? 0xFFFFFFFFu : ((1u << (hi * 8u)) - 1u)) & ~((1u << (lo * 8u)) - 1u);
    atomicAnd(d_u32[w], ~mask);
    atomicOr(d_u32[w], value & mask);
}

void main()
{
    uint idx = global_index();
    uint blocks = p.ne00 / 32u;
    if (idx >= blocks * p.ne01 * p.ne02 * p.ne03) return;
    uint blk = idx % blocks, r = idx / blocks;
    uint i1 = r % p.ne01, i2 = (r / p.ne01) % p.ne02, i3 = r / (p.ne01 * p.ne02);
    int row = b_i32(p.off1 + r * 4u);
    if (row < 0 || uint(row) >= p.ne1) return;
    uint src = p.off0 + blk * 32u * p.nb00 + i1 * p.nb01 + i2 * p.nb02 + i3 * p.nb03;
    float x[32];
    for (uint j = 0u; j < 32u; j++) x[j] = a_f32(src + j * p.nb00);
    uint hb;
    int q[32];
    q8_0_quantize_block(x, hb, q);
    // The block's 34 bytes: f16 scale then 32 int8, packed into the words they fall in.
    uint bytes[34];
    bytes[0] = hb & 0xFFu;
    bytes[1] = hb >> 8;
    for (uint j = 0u; j < 32u; j++) bytes[2u + j] = uint(q[j]) & 0xFFu;
    uint o = p.offd + uint(row) * p.nb1 + blk * 34u;
    uint first = o >> 2, last = (o + 33u) >> 2;
    for (uint w = first; w <= last; w++)
    {
        uint value = 0u, lo = 4u, hi = 0u;
        for (uint k = 0u; k < 4u; k++)
        {
            uint b = w * 4u + k;
            if (b >= o && b < o + 34u)
            {
                value |= bytes[b - o] << (k * 8u);
                lo = min(lo, k);
                hi = k + 1u;
            }
        }
        store_bytes(w, value, lo, hi);
    }
}
#else
void main()
{
    uint idx = global_index();
    uint n = p.ne00 * p.ne01 * p.ne02 * p.ne03;
    if (idx >= n) return;
    uint i0 = idx % p.ne00, r = idx / p.ne00;
    uint i1 = r % p.ne01, i2 = (r / p.ne01) % p.ne02, i3 = r / (p.ne01 * p.ne02);
    int row = b_i32(p.off1 + r * 4u);
    if (row < 0 || uint(row) >= p.ne1) return;
    float v = a_f32(p.off0 + i0 * p.nb00 + i1 * p.nb01 + i2 * p.nb02 + i3 * p.nb03);
    uint o = p.offd + uint(row) * p.nb1 + i0 * p.nb0;
#if D_TYPE == 0
    d_store_f32(o, v);
#else
    d_store_f16(o, v);
#endif
}
#endif
