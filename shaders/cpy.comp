#version 450
// Copy/convert element by element in row-major order: src0 (A_TYPE F32/F16, shape ne0x) into dst (D_TYPE F32/F16,
// shape ne0..3); both may be strided views. Used for Cpy and Cont.
#include "common/head.glsl"
#include "common/dequant.glsl"

void main()
{
    uint idx = global_index();
    uint n = p.ne0 * p.ne1 * p.ne2 * p.ne3;
    if (idx >= n) return;
    uint s0 = idx % p.ne00, r = idx / p.ne00;
    uint s1 = r % p.ne01; r /= p.ne01;
    uint s2 = r % p.ne02, s3 = r / p.ne02;
#if A_TYPE == 0
    float v = a_f32(p.off0 + s0 * p.nb00 + s1 * p.nb01 + s2 * p.nb02 + s3 * p.nb03);
#else
    float v = a_f16(p.off0 + s0 * p.nb00 + s1 * p.nb01 + s2 * p.nb02 + s3 * p.nb03);
#endif
    uint i0 = idx % p.ne0; r = idx / p.ne0;
    uint i1 = r % p.ne1; r /= p.ne1;
    uint i2 = r % p.ne2, i3 = r / p.ne2;
    uint o = p.offd + i0 * p.nb0 + i1 * p.nb1 + i2 * p.nb2 + i3 * p.nb3;
#if D_TYPE == 0
    d_store_f32(o, v);
#else
    d_store_f16(o, v);
#endif
}
