#version 450
// Rotary embedding, one invocation per element. src1: I32 positions (one per i2). src2: frequency factors (HAS_FF).
// Params: i0 n_dims, i1 mode (2 = NeoX), f0 freq_base, f1 freq_scale; the src1 shape slots, which rope does not
// need, carry ne10 = ext_factor, ne11 = attn_factor, ne12 = corr_low, ne13 = corr_high (float bits).
#include "common/head.glsl"

void main()
{
    uint idx = global_index();
    uint n = p.ne0 * p.ne1 * p.ne2 * p.ne3;
    if (idx >= n) return;
    uint i0 = idx % p.ne0, r = idx / p.ne0;
    uint i1 = r % p.ne1; r /= p.ne1;
    uint i2 = r % p.ne2, i3 = r / p.ne2;
    uint a = p.off0 + i1 * p.nb01 + i2 * p.nb02 + i3 * p.nb03;
    uint d = p.offd + i1 * p.nb1 + i2 * p.nb2 + i3 * p.nb3;
    uint nDims = p.i0;
    if (i0 >= nDims)
    {
        d_store_f32(d + i0 * p.nb0, a_f32(a + i0 * p.nb00));
        return;
    }
    uint half_ = nDims / 2u;
    bool neox = (p.i1 & 2u) != 0u;
    uint k = neox ? i0 % half_ : i0 / 2u;
    uint ia = neox ? k : 2u * k;
    uint ib = neox ? k + half_ : 2u * k + 1u;
    float extFactor = uintBitsToFloat(p.ne10), attnFactor = uintBitsToFloat(p.ne11);
    float corrLow = uintBitsToFloat(p.ne12), corrHigh = uintBitsToFloat(p.ne13);
    float thetaScale = pow(p.f0, -2.0 / float(nDims));
    float theta = float(b_i32(p.off1 + i2 * 4u));
    for (uint j = 0u; j < k; j++) theta *= thetaScale;
#if HAS_FF
    float ff = c_f32(p.off2 + k * 4u);
#else
    float ff = 1.0;
#endif
    float thetaExtrap = theta / ff;
    float thetaInterp = p.f1 * thetaExtrap;
    float th = thetaInterp;
    float mscale = attnFactor;
    if (extFactor != 0.0)
    {
        float y = (float(k) - corrLow) / max(0.001, corrHigh - corrLow);
        float ramp = (1.0 - min(1.0, max(0.0, y))) * extFactor;
        th = thetaInterp * (1.0 - ramp) + thetaExtrap * ramp;
        mscale *= 1.0 + 0.1 * log(1.0 / p.f1);
    }
    float c = cos(th) * mscale, s = sin(th) * mscale;
    float x0 = a_f32(a + ia * p.nb00), x1 = a_f32(a + ib * p.nb00);
    d_store_f32(d + i0 * p.nb0, i0 == ia ? x0 * c - x1 * s : x0 * s + x1 * c);
}
