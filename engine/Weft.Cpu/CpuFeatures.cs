using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Weft.Cpu;

/// <summary>The instruction-set choice, made once at start-up.</summary>
public static class CpuFeatures
{
    /// <summary>True when <c>WEFT_FORCE_SCALAR=1</c>: every kernel uses its scalar reference.</summary>
    public static bool ForceScalar { get; } = Environment.GetEnvironmentVariable("WEFT_FORCE_SCALAR") == "1";

    /// <summary>True when the AVX2 + FMA + F16C paths run (hardware has them and scalar is not forced).</summary>
    public static bool UseAvx2 { get; } = !ForceScalar && Avx2.IsSupported && Fma.IsSupported && Vector256.IsHardwareAccelerated;

    /// <summary>A short description for logs and benchmarks.</summary>
    public static string Describe() => UseAvx2 ? "AVX2+FMA" : ForceScalar ? "scalar (forced)" : "scalar";
}
