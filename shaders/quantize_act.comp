#version 450
// Activation round trip of a quantized matmul: each block of src1 (F32 rows, any strides) is converted to the dot
// partner format of the weight type exactly as the CPU does (Weft.Cpu QuantizeActivations, ggml's
// quantize_row_*_ref) and written back to dst (contiguous F32) as its dequantized values, so the F32-activation
// matmul shaders that follow compute the CPU's integer dot products up to float summation order.
//   ACT_TYPE 0: F16 rounding  y = float(half(x)), ties to even (F16 weights).
//   ACT_TYPE 1: Q8_0 (32)     d = amax / 127, id = 1 / d, q = round_half_away(x * id), y = float(half(d)) * q.
//   ACT_TYPE 2: Q8_K (256)    max = first value of largest magnitude, iscale = -127 / max,
//                             q = min(127, round_half_even(iscale * x)), y = (1 / iscale) * q (f32 scale).
// One invocation per block (per value for ACT_TYPE 0). Every rounding step that a GPU may do loosely is done in
// integer arithmetic: division (Vulkan allows 2.5 ulp for OpFDiv), float <-> half conversion (rounding mode and
// denormal handling are implementation-defined) and the round-to-integer steps. Multiplication is correctly rounded
// in Vulkan; `precise` keeps it from being contracted.
#include "common/head.glsl"

#if ACT_TYPE == 0
#define BLOCK 1u
#elif ACT_TYPE == 1
#define BLOCK 32u
#else
#define BLOCK 256u
#endif

// Correctly rounded a / b (round to nearest, ties to even) for finite a and nonzero b, denormals exact.
float div_rn(float a, float b)
{
    uint ua = floatBitsToUint(a), ub = floatBitsToUint(b);
    uint sign = (ua ^ ub) & 0x80000000u;
    uint ea = (ua >> 23) & 0xFFu, eb = (ub >> 23) & 0xFFu;
    uint ma = ua & 0x7FFFFFu, mb = ub & 0x7FFFFFu;
    if ((ea == 0u && ma == 0u) || eb == 255u) return uintBitsToFloat(sign);  // 0 / b and a / inf
    // Normalize both mantissas to [2^23, 2^24) with value = m * 2^(e - 150).
    int xa = int(ea), xb = int(eb);
    if (ea == 0u) { xa = 1; while (ma < 0x800000u) { ma <<= 1; xa--; } } else { ma |= 0x800000u; }
    if (eb == 0u) { xb = 1; while (mb < 0x800000u) { mb <<= 1; xb--; } } else { mb |= 0x800000u; }
    int e = xa - xb;
    if (ma < mb) { ma <<= 1; e--; }
    // ma / mb in [1, 2): 24 quotient bits by restoring division; r ends as twice the remainder.
    uint q = 0u, r = ma;
    for (int i = 0; i < 24; i++)
    {
        q <<= 1;
        if (r >= mb) { r -= mb; q |= 1u; }
        r <<= 1;
    }
    // Result = q * 2^(e - 23); biased exponent of a normal result = e + 127.
    int biased = e + 127;
    if (biased >= 255) return uintBitsToFloat(sign | 0x7F800000u);
    if (biased >= 1)
    {
        uint bits = (uint(biased) << 23) | (q & 0x7FFFFFu);
        if (r > mb || (r == mb && (q & 1u) != 0u)) bits++;  // a carry may bump the exponent (up to infinity)
        return uintBitsToFloat(sign | bits);
    }
    int shift = 1 - biased;
    if (shift > 25) return uintBitsToFloat(sign);
    uint kept = q >> uint(shift), lost = q & ((1u << uint(shift)) - 1u), halfway = 1u << uint(shift - 1);
    if (lost > halfway || (lost == halfway && (r != 0u || (kept & 1u) != 0u))) kept++;
    return uintBitsToFloat(sign | kept);
}

// F32 -> F16 bits, round to nearest even, overflow to infinity, gradual underflow (as Weft.Core.Quants.Fp16.ToHalf).
uint to_half(float v)
{
    uint x = floatBitsToUint(v);
    uint sign = (x >> 16) & 0x8000u, a = x & 0x7FFFFFFFu;
    if (a > 0x7F800000u) return sign | 0x7E00u;
    if (a >= 0x477FF000u) return sign | 0x7C00u;
    uint e = a >> 23, mant = a & 0x7FFFFFu;
    if (e >= 113u)
    {
        uint h = ((e - 112u) << 10) | (mant >> 13), rest = mant & 0x1FFFu;
        if (rest > 0x1000u || (rest == 0x1000u && (h & 1u) != 0u)) h++;
        return sign | h;
    }
    if (e < 102u) return sign;
    uint m = mant | 0x800000u, shift = 126u - e;
    uint q = m >> shift, rem = m & ((1u << shift) - 1u), halfway = 1u << (shift - 1u);
    if (rem > halfway || (rem == halfway && (q & 1u) != 0u)) q++;
    return sign | q;
}

// F16 bits -> F32 (exact; subnormal halves become normal floats).
float from_half(uint h)
{
    uint sign = (h & 0x8000u) << 16, e = (h >> 10) & 0x1Fu, m = h & 0x3FFu;
    if (e == 31u) return uintBitsToFloat(sign | 0x7F800000u | (m << 13));
    if (e == 0u)
    {
        if (m == 0u) return uintBitsToFloat(sign);
        // m * 2^-24 = 1.f * 2^(k - 24) with k the position of m's top bit.
        int k = findMSB(m);
        return uintBitsToFloat(sign | (uint(k + 103) << 23) | ((m << uint(23 - k)) & 0x7FFFFFu));
    }
    return uintBitsToFloat(sign | ((e + 112u) << 23) | (m << 13));
}

// Integer nearest to v (|v| well inside the int range, or clamped to +-128 beyond it): ties away from zero (roundf).
int round_away(float v)
{
    if (!(abs(v) < 256.0)) return v > 0.0 ? 128 : (v < 0.0 ? -128 : 0);
    precise float t = trunc(v);
    precise float f = abs(v - t);  // exact
    int q = int(t);
    if (f >= 0.5) q += v < 0.0 ? -1 : 1;
    return q;
}

// Integer nearest to v: ties to even (ggml's nearest_int).
int round_even(float v)
{
    if (!(abs(v) < 256.0)) return v > 0.0 ? 128 : (v < 0.0 ? -128 : 0);
    precise float t = trunc(v);
    precise float f = abs(v - t);
    int q = int(t);
    if (f > 0.5 || (f == 0.5 && (q & 1) != 0)) q += v < 0.0 ? -1 : 1;
    return q;
}

void main()
{
    uint idx = global_index();
    uint perRow = p.ne10 / BLOCK;
    uint rows = p.ne11 * p.ne12 * p.ne13;
    if (idx >= perRow * rows) return;
    uint blk = idx % perRow, r = idx / perRow;
    uint i1 = r % p.ne11; r /= p.ne11;
    uint i2 = r % p.ne12, i3 = r / p.ne12;
    uint src = p.off1 + i1 * p.nb11 + i2 * p.nb12 + i3 * p.nb13 + blk * BLOCK * p.nb10;
    uint dst = p.offd + i1 * p.nb1 + i2 * p.nb2 + i3 * p.nb3 + blk * BLOCK * p.nb0;
#if ACT_TYPE == 0
    d_store_f32(dst, from_half(to_half(b_f32(src))));
#elif ACT_TYPE == 1
    float amax = 0.0;
    for (uint j = 0u; j < BLOCK; j++) amax = max(amax, abs(b_f32(src + j * p.nb10)));
    float d = div_rn(amax, 127.0);
    float id = d != 0.0 ? div_rn(1.0, d) : 0.0;
    float dh = from_half(to_half(d));
    for (uint j = 0u; j < BLOCK; j++)
    {
        precise float v = b_f32(src + j * p.nb10) * id;
        d_store_f32(dst + j * p.nb0, dh * float(round_away(v)));
    }
#else
    float mx = 0.0, amax = 0.0;
    for (uint j = 0u; j < BLOCK; j++)
    {
        float x = b_f32(src + j * p.nb10);
        if (abs(x) > amax) { amax = abs(x); mx = x; }
    }
    if (amax == 0.0)
    {
        for (uint j = 0u; j < BLOCK; j++) d_store_f32(dst + j * p.nb0, 0.0);
        return;
    }
    float iscale = div_rn(-127.0, mx);
    float dk = div_rn(1.0, iscale);
    for (uint j = 0u; j < BLOCK; j++)
    {
        precise float v = iscale * b_f32(src + j * p.nb10);
        precise float y = dk * float(min(127, round_even(v)));
        d_store_f32(dst + j * p.nb0, y);
    }
#endif
}
