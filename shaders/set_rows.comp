#version 450
// dst[i0, ids[r]] = src0[i0, r] converted to D_TYPE (0 F32, 1 F16); r runs over src0's rows (i1, i2, i3), ids (src1)
// are I32 and contiguous. An id outside dst's rows writes nothing (the CPU op throws; the backend checks ids).
#include "common/head.glsl"

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
