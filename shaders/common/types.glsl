// Quant block layouts, mirroring engine/Weft.Core/Quants/QuantBlocks.cs (byte offsets inside one block).
// Shaders read blocks as raw bytes from a uint[] buffer, so no 8/16-bit storage feature is needed.
// Weft.Vulkan.Tests/ShaderLayoutTests parses these defines and compares them with the C# structs.
#ifndef WEFT_TYPES_GLSL
#define WEFT_TYPES_GLSL

#define QK4_0 32
#define Q4_0_BYTES 18
#define Q4_0_D 0
#define Q4_0_QS 2

#define QK8_0 32
#define Q8_0_BYTES 34
#define Q8_0_D 0
#define Q8_0_QS 2

#define QK_K 256
#define Q4_K_BYTES 144
#define Q4_K_D 0
#define Q4_K_DMIN 2
#define Q4_K_SCALES 4
#define Q4_K_QS 16

#define Q6_K_BYTES 210
#define Q6_K_QL 0
#define Q6_K_QH 128
#define Q6_K_SCALES 192
#define Q6_K_D 208

#endif
