#version 450
// dst[i0, i1, i2, i3] = src0[i0, ids[i1, i2, i3], i2 % ne02, i3 % ne03] as F32 (A_TYPE any supported type).
// An id outside src0's rows writes zeros (the backend validates ids before recording).
#include "common/head.glsl"
#include "common/dequant.glsl"

void main()
{
    uint idx = global_index();
    uint n = p.ne0 * p.ne1 * p.ne2 * p.ne3;
    if (idx >= n) return;
    uint i0 = idx % p.ne0, r = idx / p.ne0;
    uint i1 = r % p.ne1; r /= p.ne1;
    uint i2 = r % p.ne2, i3 = r / p.ne2;
    int id = b_i32(p.off1 + i1 * p.nb10 + i2 * p.nb11 + i3 * p.nb12);
    float v = 0.0;
    if (id >= 0 && uint(id) < p.ne01)
    {
        v = deq_a(p.off0 + uint(id) * p.nb01 + (i2 % p.ne02) * p.nb02 + (i3 % p.ne03) * p.nb03, i0);
    }
    d_store_f32(p.offd + i0 * p.nb0 + i1 * p.nb1 + i2 * p.nb2 + i3 * p.nb3, v);
}
