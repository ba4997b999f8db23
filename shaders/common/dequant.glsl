// Element loads from src0 (binding 0) for every A_TYPE: row byte offset + element index -> float.
// A_TYPE: 0 F32, 1 F16, 8 Q8_0, 2 Q4_0, 12 Q4_K, 14 Q6_K (Weft.Core.DType values).
#ifndef WEFT_DEQUANT_GLSL
#define WEFT_DEQUANT_GLSL
#include "types.glsl"

uint a_u8(uint b) { return (a_u32[b >> 2] >> ((b & 3u) * 8u)) & 0xFFu; }
int a_i8(uint b) { return int(a_u8(b) << 24) >> 24; }
float a_f16(uint b) { uint w = a_u32[b >> 2]; return unpackHalf2x16((b & 2u) != 0u ? (w >> 16) : w).x; }

#if A_TYPE == 0
#define A_BLOCK 1
float deq_a(uint row, uint i) { return a_f32(row + i * 4u); }
#elif A_TYPE == 1
#define A_BLOCK 1
float deq_a(uint row, uint i) { return a_f16(row + i * 2u); }
#elif A_TYPE == 8
#define A_BLOCK QK8_0
float deq_a(uint row, uint i)
{
    uint b = row + (i / QK8_0) * Q8_0_BYTES;
    return a_f16(b + Q8_0_D) * float(a_i8(b + Q8_0_QS + (i % QK8_0)));
}
#elif A_TYPE == 2
#define A_BLOCK QK4_0
float deq_a(uint row, uint i)
{
    uint b = row + (i / QK4_0) * Q4_0_BYTES;
    uint j = i % QK4_0;
    uint q = a_u8(b + Q4_0_QS + (j % 16u));
    int nib = int(j < 16u ? (q & 0xFu) : (q >> 4));
    return a_f16(b + Q4_0_D) * float(nib - 8);
}
#elif A_TYPE == 12
#define A_BLOCK 32
float deq_a(uint row, uint i)
{
    uint b = row + (i / QK_K) * Q4_K_BYTES;
    uint j = i % QK_K;
    uint s = j / 32u;
    uint sc, m;
    uint sb = b + Q4_K_SCALES;
    if (s < 4u)
    {
        sc = a_u8(sb + s) & 63u;
        m = a_u8(sb + s + 4u) & 63u;
    }
    else
    {
        sc = (a_u8(sb + s + 4u) & 0xFu) | ((a_u8(sb + s - 4u) >> 6) << 4);
        m = (a_u8(sb + s + 4u) >> 4) | ((a_u8(sb + s) >> 6) << 4);
    }
    uint q = a_u8(b + Q4_K_QS + (j / 64u) * 32u + (j % 32u));
    uint nib = (j % 64u) < 32u ? (q & 0xFu) : (q >> 4);
    return a_f16(b + Q4_K_D) * float(sc) * float(nib) - a_f16(b + Q4_K_DMIN) * float(m);
}
#elif A_TYPE == 14
#define A_BLOCK 32
float deq_a(uint row, uint i)
{
    uint b = row + (i / QK_K) * Q6_K_BYTES;
    uint j = i % QK_K;
    uint h = j / 128u, r = j % 128u, quarter = r / 32u, l = r % 32u;
    uint ql = a_u8(b + Q6_K_QL + h * 64u + l + (quarter & 1u) * 32u);
    uint qh = a_u8(b + Q6_K_QH + h * 32u + l);
    uint lo = quarter >= 2u ? (ql >> 4) : (ql & 0xFu);
    int q = int(lo | (((qh >> (quarter * 2u)) & 3u) << 4)) - 32;
    int sc = a_i8(b + Q6_K_SCALES + h * 8u + l / 16u + quarter * 2u);
    return a_f16(b + Q6_K_D) * float(sc) * float(q);
}
#endif

#if A_TYPE != 0 && A_TYPE != 1
// Dot product of the 32 elements of row `row` starting at element i (a multiple of 32) with F32 values of binding 1
// at byte offset bOff, stride bStride. Block scales are decoded once per call.
float dot_sub32(uint row, uint i, uint bOff, uint bStride)
{
    float acc = 0.0;
#if A_TYPE == 8
    uint blk = row + (i / QK8_0) * Q8_0_BYTES;
    for (uint l = 0u; l < 32u; l++) acc += float(a_i8(blk + Q8_0_QS + l)) * b_f32(bOff + l * bStride);
    return acc * a_f16(blk + Q8_0_D);
#elif A_TYPE == 2
    uint blk = row + (i / QK4_0) * Q4_0_BYTES;
    for (uint l = 0u; l < 16u; l++)
    {
        uint q = a_u8(blk + Q4_0_QS + l);
        acc += float(int(q & 0xFu) - 8) * b_f32(bOff + l * bStride) + float(int(q >> 4) - 8) * b_f32(bOff + (l + 16u) * bStride);
    }
    return acc * a_f16(blk + Q4_0_D);
#elif A_TYPE == 12
    uint blk = row + (i / QK_K) * Q4_K_BYTES;
    uint j = i % QK_K, s = j / 32u, sb = blk + Q4_K_SCALES;
    uint sc, m;
    if (s < 4u) { sc = a_u8(sb + s) & 63u; m = a_u8(sb + s + 4u) & 63u; }
    else { sc = (a_u8(sb + s + 4u) & 0xFu) | ((a_u8(sb + s - 4u) >> 6) << 4); m = (a_u8(sb + s + 4u) >> 4) | ((a_u8(sb + s) >> 6) << 4); }
    uint qb = blk + Q4_K_QS + (j / 64u) * 32u;
    uint shift = (s & 1u) * 4u;
    float bsum = 0.0;
    for (uint l = 0u; l < 32u; l++)
    {
        float x = b_f32(bOff + l * bStride);
        acc += float((a_u8(qb + l) >> shift) & 0xFu) * x;
        bsum += x;
    }
    return a_f16(blk + Q4_K_D) * float(sc) * acc - a_f16(blk + Q4_K_DMIN) * float(m) * bsum;
#elif A_TYPE == 14
    uint blk = row + (i / QK_K) * Q6_K_BYTES;
    uint j = i % QK_K, h = j / 128u, quarter = (j % 128u) / 32u;
    uint qlb = blk + Q6_K_QL + h * 64u + (quarter & 1u) * 32u, qhb = blk + Q6_K_QH + h * 32u;
    uint lshift = quarter >= 2u ? 4u : 0u, hshift = quarter * 2u;
    for (uint half16 = 0u; half16 < 2u; half16++)
    {
        float part = 0.0;
        for (uint l = half16 * 16u; l < half16 * 16u + 16u; l++)
        {
            int q = int(((a_u8(qlb + l) >> lshift) & 0xFu) | (((a_u8(qhb + l) >> hshift) & 3u) << 4)) - 32;
            part += float(q) * b_f32(bOff + l * bStride);
        }
        acc += part * float(a_i8(blk + Q6_K_SCALES + h * 8u + half16 + quarter * 2u));
    }
    return acc * a_f16(blk + Q6_K_D);
#endif
}
#endif

#endif
