// Exactly rounded steps of ggml's reference Q8_0 quantizer (quantize_row_q8_0_ref, Weft.Core.Quants.Quantize.RowQ8_0
// and Weft.Cpu QuantizeActivations.Q8_0Reference), for shaders whose Q8_0 bytes or values must equal the CPU's:
// d = amax / 127, id = d != 0 ? 1 / d : 0, q = round-half-away-from-zero(x * id), d stored as f16 (nearest even).
// A Vulkan implementation may round OpFDiv loosely (2.5 ulp), packHalf2x16 with an implementation-defined mode and
// round() with implementation-defined ties, so those steps are done in integer arithmetic here. x * id is a
// correctly rounded OpFMul; callers keep it `precise` so it is not fused with a later add. Denormal inputs may differ
// where a device flushes them.
#ifndef WEFT_Q8_0_EXACT_GLSL
#define WEFT_Q8_0_EXACT_GLSL

// a / b rounded to nearest, ties to even, for positive finite normal a and b with a normal quotient (the caller
// passes amax (> 0) / 127 and 1 / d; quotients outside the normal range are flushed to 0 or infinity).
float div_nearest(float a, float b)
{
    uint ua = floatBitsToUint(a), ub = floatBitsToUint(b);
    int e = int((ua >> 23) & 0xFFu) - int((ub >> 23) & 0xFFu);
    uint na = (ua & 0x7FFFFFu) | 0x800000u, nb = (ub & 0x7FFFFFu) | 0x800000u;
    if (na < nb)
    {
        na <<= 1;
        e -= 1;
    }
    // na / nb lies in [1, 2): long division gives its 24 leading bits; rem ends as twice the final remainder.
    uint quo = 0u, rem = na;
    for (int i = 0; i < 24; i++)
    {
        quo <<= 1;
        if (rem >= nb)
        {
            rem -= nb;
            quo |= 1u;
        }
        rem <<= 1;
    }
    if (rem > nb || (rem == nb && (quo & 1u) != 0u))
    {
        quo += 1u;
        if (quo == 0x1000000u)
        {
            quo >>= 1;
            e += 1;
        }
    }
    int biased = e + 127;
    if (biased <= 0) return 0.0;
    if (biased >= 255) return uintBitsToFloat(0x7F800000u);
    return uintBitsToFloat((uint(biased) << 23) | (quo & 0x7FFFFFu));
}

// Non-negative f32 -> f16 bits, round to nearest even, as Weft.Core.Quants.Fp16.ToHalf (subnormal halves included).
uint half_bits(float v)
{
    uint a = floatBitsToUint(v) & 0x7FFFFFFFu;
    if (a > 0x7F800000u) return 0x7E00u;
    if (a >= 0x477FF000u) return 0x7C00u;
    uint e = a >> 23, mant = a & 0x7FFFFFu;
    if (e >= 113u)
    {
        uint h = ((e - 112u) << 10) | (mant >> 13);
        uint low = mant & 0x1FFFu;
        if (low > 0x1000u || (low == 0x1000u && (h & 1u) != 0u)) h += 1u;
        return h;
    }
    if (e < 102u) return 0u;
    uint m = mant | 0x800000u, sh = 126u - e;
    uint h = m >> sh, low = m & ((1u << sh) - 1u), half_ = 1u << (sh - 1u);
    if (low > half_ || (low == half_ && (h & 1u) != 0u)) h += 1u;
    return h;
}

// roundf(v) for |v| ≤ 127.5 (here |x| ≤ amax): ties away from zero.
int round_away(float v)
{
    precise float t = trunc(v);
    precise float frac = abs(v - t);
    int r = int(t);
    if (frac >= 0.5) r += v < 0.0 ? -1 : 1;
    return r;
}

// The float value of f16 bits, exact for normal and subnormal halves (no reliance on a device's denormal handling).
float half_value(uint h)
{
    uint sign = (h & 0x8000u) << 16, e = (h >> 10) & 0x1Fu, m = h & 0x3FFu;
    if (e == 31u) return uintBitsToFloat(sign | 0x7F800000u | (m << 13));
    if (e != 0u) return uintBitsToFloat(sign | ((e + 112u) << 23) | (m << 13));
    if (m == 0u) return uintBitsToFloat(sign);
    // m * 2^-24 with m's top bit at position k: 1.f * 2^(k - 24), a normal float.
    int k = findMSB(m);
    return uintBitsToFloat(sign | (uint(k + 103) << 23) | ((m << uint(23 - k)) & 0x7FFFFFu));
}

// The f16 scale and the 32 int8 values of one block of 32 floats, as the CPU's reference quantizer computes them.
void q8_0_quantize_block(float x[32], out uint scaleBits, out int q[32])
{
    float amax = 0.0;
    for (uint j = 0u; j < 32u; j++)
    {
        // a > b ? a : b, as the CPU's QuantMath.Max / MathF.Max on non-NaN values
        float ax = abs(x[j]);
        amax = amax > ax ? amax : ax;
    }
    float d = amax == 0.0 ? 0.0 : div_nearest(amax, 127.0);
    float id = d != 0.0 ? div_nearest(1.0, d) : 0.0;
    scaleBits = half_bits(d);
    for (uint j = 0u; j < 32u; j++)
    {
        precise float v = x[j] * id;
        q[j] = round_away(v);
    }
}

#endif
