// Shared binding and push-constant layout of every Weft compute shader (VulkanBackend fills it, PushConstants.cs).
// Bindings: 0 src0, 1 src1, 2 src2, 3 dst. Shapes are element counts, strides and offsets are in BYTES
// (offsets are relative to the bound range, which starts at an aligned offset).
#ifndef WEFT_HEAD_GLSL
#define WEFT_HEAD_GLSL
#extension GL_EXT_control_flow_attributes : enable

layout(local_size_x_id = 0, local_size_y = 1, local_size_z = 1) in;

layout(push_constant) uniform PushConstants {
    uint ne00, ne01, ne02, ne03;
    uint nb00, nb01, nb02, nb03;
    uint ne10, ne11, ne12, ne13;
    uint nb10, nb11, nb12, nb13;
    uint ne0, ne1, ne2, ne3;
    uint nb0, nb1, nb2, nb3;
    uint off0, off1, off2, offd;
    float f0, f1;
    uint i0, i1;
} p;

layout(std430, binding = 0) readonly buffer A { uint a_u32[]; };
layout(std430, binding = 1) readonly buffer B { uint b_u32[]; };
layout(std430, binding = 2) readonly buffer C { uint c_u32[]; };
layout(std430, binding = 3) buffer D { uint d_u32[]; };

float a_f32(uint byteOff) { return uintBitsToFloat(a_u32[byteOff >> 2]); }
float b_f32(uint byteOff) { return uintBitsToFloat(b_u32[byteOff >> 2]); }
float c_f32(uint byteOff) { return uintBitsToFloat(c_u32[byteOff >> 2]); }
int b_i32(uint byteOff) { return int(b_u32[byteOff >> 2]); }
void d_store_f32(uint byteOff, float v) { d_u32[byteOff >> 2] = floatBitsToUint(v); }

// Stores one half into a uint word shared with a neighbour: two atomics touching only this half's bits.
void d_store_f16(uint byteOff, float v)
{
    uint h = packHalf2x16(vec2(v, 0.0)) & 0xFFFFu;
    uint shift = (byteOff & 2u) * 8u;
    atomicAnd(d_u32[byteOff >> 2], ~(0xFFFFu << shift));
    atomicOr(d_u32[byteOff >> 2], h << shift);
}

// Linear invocation index over a 2D grid of workgroups (x up to the device limit, y for the rest).
uint global_index() { return (gl_WorkGroupID.y * gl_NumWorkGroups.x + gl_WorkGroupID.x) * gl_WorkGroupSize.x + gl_LocalInvocationID.x; }

#endif
