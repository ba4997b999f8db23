#version 450
// OP 0: add, 1: mul (src1 broadcast along dims where it is smaller), 2: swiglu (silu(src0) * src1, same shape).
#include "common/head.glsl"

void main()
{
    uint idx = global_index();
    uint n = p.ne0 * p.ne1 * p.ne2 * p.ne3;
    if (idx >= n) return;
    uint i0 = idx % p.ne0, r = idx / p.ne0;
    uint i1 = r % p.ne1; r /= p.ne1;
    uint i2 = r % p.ne2, i3 = r / p.ne2;
    float a = a_f32(p.off0 + i0 * p.nb00 + i1 * p.nb01 + i2 * p.nb02 + i3 * p.nb03);
    float b = b_f32(p.off1 + (i0 % p.ne10) * p.nb10 + (i1 % p.ne11) * p.nb11 + (i2 % p.ne12) * p.nb12 + (i3 % p.ne13) * p.nb13);
#if OP == 0
    float v = a + b;
#elif OP == 1
    float v = a * b;
#else
    float v = a / (1.0 + exp(-a)) * b;
#endif
    d_store_f32(p.offd + i0 * p.nb0 + i1 * p.nb1 + i2 * p.nb2 + i3 * p.nb3, v);
}
