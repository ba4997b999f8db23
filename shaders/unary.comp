#version 450
// OP 0: scale by f0, 1: silu, 2: gelu (tanh approximation). F32 in and out, any strides.
#include "common/head.glsl"

void main()
{
    uint idx = global_index();
    uint n = p.ne0 * p.ne1 * p.ne2 * p.ne3;
    if (idx >= n) return;
    uint i0 = idx % p.ne0, r = idx / p.ne0;
    uint i1 = r % p.ne1; r /= p.ne1;
    uint i2 = r % p.ne2, i3 = r / p.ne2;
    float x = a_f32(p.off0 + i0 * p.nb00 + i1 * p.nb01 + i2 * p.nb02 + i3 * p.nb03);
#if OP == 0
    float v = x * p.f0;
#elif OP == 1
    float v = x / (1.0 + exp(-x));
#else
    const float c = 0.7978845608028654;
    float u = c * (x + 0.044715 * x * x * x);
    float v = 0.5 * x * (1.0 + tanh(clamp(u, -15.0, 15.0)));
#endif
    d_store_f32(p.offd + i0 * p.nb0 + i1 * p.nb1 + i2 * p.nb2 + i3 * p.nb3, v);
}
