using System.Runtime.CompilerServices;
using Weft.Core;
using Weft.Cpu.Kernels;

namespace Weft.Cpu.Quants;

/// <summary>
/// The kernels a matrix product with one weight type uses: how F32 activations are converted
/// (<see cref="Convert"/>) and the dot product of one weight row with one converted activation row
/// (<see cref="Dot"/>). Mirrors ggml's <c>type_traits_cpu</c> (<c>from_float</c>, <c>vec_dot</c>, <c>vec_dot_type</c>).
/// </summary>
public readonly unsafe struct VecDotKernel
{
    /// <summary>Creates a kernel entry.</summary>
    public VecDotKernel(DType weight, DType activation, int actBlock, int actBlockBytes,
        delegate*<int, byte*, byte*, float> dot, delegate*<float*, byte*, int, void> convert,
        delegate*<int, byte*, byte*, long, float*, void> dot4 = null, delegate*<int, byte*, byte*, float> dotFinite = null)
    {
        Dot4 = dot4;
        DotFinite = dotFinite;
        Weight = weight;
        Activation = activation;
        ActBlock = actBlock;
        ActBlockBytes = actBlockBytes;
        Dot = dot;
        Convert = convert;
    }

    /// <summary>The weight type.</summary>
    public DType Weight { get; }
    /// <summary>
    /// The activation format (ggml's vec_dot_type). For F16/BF16 weights it is F16/BF16 in value, stored as F32
    /// holding the rounded values (see <see cref="QuantizeActivations"/>); the AVX2 F16 kernels take those values
    /// times 2^112 (<see cref="VecDotF16.ActivationScale"/>), which saves a multiply per decoded weight.
    /// </summary>
    public DType Activation { get; }
    /// <summary>Elements per activation block.</summary>
    public int ActBlock { get; }
    /// <summary>Bytes per activation block.</summary>
    public int ActBlockBytes { get; }
    /// <summary><c>float Dot(int n, byte* weightRow, byte* activationRow)</c> over n elements.</summary>
    public delegate*<int, byte*, byte*, float> Dot { get; }
    /// <summary>
    /// Optional (null when absent): <see cref="Dot"/> for weight rows known to hold no inf/NaN (F16 on AVX2, see
    /// <see cref="FiniteWeights"/>), the same result without the per-row check.
    /// </summary>
    public delegate*<int, byte*, byte*, float> DotFinite { get; }
    /// <summary>
    /// Optional (null when absent): <c>void Dot4(int n, byte* weightRow, byte* act, long actStride, float* result)</c>,
    /// the dots of one weight row with four activation rows <c>act + c * actStride</c>, decoding the weights once.
    /// </summary>
    public delegate*<int, byte*, byte*, long, float*, void> Dot4 { get; }
    /// <summary><c>void Convert(float* src, byte* dst, int n)</c>: one activation row to <see cref="Activation"/>.</summary>
    public delegate*<float*, byte*, int, void> Convert { get; }

    /// <summary>Bytes of a converted activation row of <paramref name="n"/> elements.</summary>
    public long ActRowBytes(long n) => n / ActBlock * ActBlockBytes;
}

/// <summary>
/// Chooses the dot-product kernel of each weight type once at start-up: the AVX2/FMA paths when
/// <see cref="CpuFeatures.UseAvx2"/>, else the scalar references (<c>WEFT_FORCE_SCALAR=1</c> forces them).
/// </summary>
public static unsafe class VecDot
{
    private static readonly VecDotKernel?[] s_avx2 = Build(simd: true);
    private static readonly VecDotKernel?[] s_reference = Build(simd: false);

    /// <summary>True when <paramref name="weight"/> has a matmul kernel.</summary>
    public static bool Supports(DType weight) => (uint)weight < (uint)s_reference.Length && s_reference[(int)weight] is not null;

    /// <summary>The kernel for <paramref name="weight"/>: the start-up choice, or the references when <paramref name="reference"/>.</summary>
    /// <exception cref="NotSupportedException">No kernel for the type.</exception>
    public static VecDotKernel For(DType weight, bool reference = false)
    {
        if (!Supports(weight))
        {
            throw new NotSupportedException($"No CPU matmul kernel for weight type {weight}; supported: f32, f16, bf16, q4_0, q4_1, q5_0, q5_1, q8_0, q4_k, q5_k, q6_k.");
        }
        return (reference || !CpuFeatures.UseAvx2 ? s_reference : s_avx2)[(int)weight]!.Value;
    }

    private static VecDotKernel?[] Build(bool simd)
    {
        var t = new VecDotKernel?[40];
        void Add(DType w, DType a, int bs, int bytes, delegate*<int, byte*, byte*, float> dot, delegate*<float*, byte*, int, void> conv,
            delegate*<int, byte*, byte*, long, float*, void> dot4 = null, delegate*<int, byte*, byte*, float> dotFinite = null) =>
            t[(int)w] = new VecDotKernel(w, a, bs, bytes, dot, conv, dot4, dotFinite);

        if (simd)
        {
            Add(DType.F32, DType.F32, 1, 4, &VecDotF32.Avx2Path, &QuantizeActivations.CopyF32, &VecDotFloat4.F32);
            Add(DType.F16, DType.F16, 1, 4, &VecDotF16.Avx2PathF32, &QuantizeActivations.RoundF16ScaledAvx2, &VecDotFloat4.F16, &VecDotF16.Avx2PathF32Finite);
            Add(DType.BF16, DType.BF16, 1, 4, &VecDotBF16.Avx2PathF32, &QuantizeActivations.RoundBf16Avx2, &VecDotFloat4.BF16);
            Add(DType.Q4_0, DType.Q8_0, 32, 34, &VecDotQ4_0.Avx2Path, &QuantizeActivations.Q8_0Avx2, &VecDotQ8_0x4.Q4_0);
            Add(DType.Q4_1, DType.Q8_1, 32, 36, &VecDotQ4_1.Avx2Path, &QuantizeActivations.Q8_1Avx2);
            Add(DType.Q5_0, DType.Q8_0, 32, 34, &VecDotQ5_0.Avx2Path, &QuantizeActivations.Q8_0Avx2, &VecDotQ8_0x4.Q5_0);
            Add(DType.Q5_1, DType.Q8_1, 32, 36, &VecDotQ5_1.Avx2Path, &QuantizeActivations.Q8_1Avx2);
            Add(DType.Q8_0, DType.Q8_0, 32, 34, &VecDotQ8_0.Avx2Path, &QuantizeActivations.Q8_0Avx2, &VecDotQ8_0x4.Q8_0);
            Add(DType.Q4_K, DType.Q8_K, 256, 292, &VecDotQ4_K.Avx2Path, &QuantizeActivations.Q8_KAvx2, &VecDotK4.Q4_K);
            Add(DType.Q5_K, DType.Q8_K, 256, 292, &VecDotQ5_K.Avx2Path, &QuantizeActivations.Q8_KAvx2);
            Add(DType.Q6_K, DType.Q8_K, 256, 292, &VecDotQ6_K.Avx2Path, &QuantizeActivations.Q8_KAvx2, &VecDotK4.Q6_K);
        }
        else
        {
            Add(DType.F32, DType.F32, 1, 4, &VecDotF32.Reference, &QuantizeActivations.CopyF32);
            Add(DType.F16, DType.F16, 1, 4, &VecDotF16.ReferenceF32, &QuantizeActivations.RoundF16Reference);
            Add(DType.BF16, DType.BF16, 1, 4, &VecDotBF16.ReferenceF32, &QuantizeActivations.RoundBf16Reference);
            Add(DType.Q4_0, DType.Q8_0, 32, 34, &VecDotQ4_0.Reference, &QuantizeActivations.Q8_0Reference);
            Add(DType.Q4_1, DType.Q8_1, 32, 36, &VecDotQ4_1.Reference, &QuantizeActivations.Q8_1Reference);
            Add(DType.Q5_0, DType.Q8_0, 32, 34, &VecDotQ5_0.Reference, &QuantizeActivations.Q8_0Reference);
            Add(DType.Q5_1, DType.Q8_1, 32, 36, &VecDotQ5_1.Reference, &QuantizeActivations.Q8_1Reference);
            Add(DType.Q8_0, DType.Q8_0, 32, 34, &VecDotQ8_0.Reference, &QuantizeActivations.Q8_0Reference);
            Add(DType.Q4_K, DType.Q8_K, 256, 292, &VecDotQ4_K.Reference, &QuantizeActivations.Q8_KReference);
            Add(DType.Q5_K, DType.Q8_K, 256, 292, &VecDotQ5_K.Reference, &QuantizeActivations.Q8_KReference);
            Add(DType.Q6_K, DType.Q8_K, 256, 292, &VecDotQ6_K.Reference, &QuantizeActivations.Q8_KReference);
        }
        return t;
    }
}
