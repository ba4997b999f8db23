namespace Weft.Core;

/// <summary>Static facts about one <see cref="DType"/>: block geometry, name and dot-product partner.</summary>
/// <param name="Type">The type described.</param>
/// <param name="Name">Lower-case name as ggml prints it (<c>q4_k</c>, <c>f16</c>).</param>
/// <param name="BlockSize">Elements per block (1 for plain types).</param>
/// <param name="TypeSize">Bytes per block.</param>
/// <param name="IsQuantized">True for block-quantized types.</param>
/// <param name="IsSupported">True when Weft's kernels compute with the type (others can be read and inspected only).</param>
/// <param name="VecDotType">The type the other operand (activations) is converted to for a dot product with this type.</param>
public readonly record struct TypeTraits(
    DType Type, string Name, int BlockSize, int TypeSize, bool IsQuantized, bool IsSupported, DType VecDotType)
{
    private static readonly TypeTraits[] s_table = Build();

    /// <summary>Traits of <paramref name="type"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is not a known type id.</exception>
    public static TypeTraits Of(DType type)
    {
        int i = (int)type;
        if ((uint)i >= (uint)s_table.Length || s_table[i].Name is null)
        {
            throw new ArgumentOutOfRangeException(nameof(type), (int)type, $"Unknown tensor type id {(int)type}.");
        }
        return s_table[i];
    }

    /// <summary>True when <paramref name="id"/> is a type id Weft knows (computable or not).</summary>
    public static bool IsKnown(int id) => (uint)id < (uint)s_table.Length && s_table[id].Name is not null;

    /// <summary>Every known type, in id order.</summary>
    public static IEnumerable<TypeTraits> All => s_table.Where(t => t.Name is not null);

    /// <summary>Parses a type name such as <c>q4_k</c> or <c>F16</c> (case-insensitive).</summary>
    public static bool TryParse(string name, out DType type)
    {
        foreach (TypeTraits t in All)
        {
            if (string.Equals(t.Name, name, StringComparison.OrdinalIgnoreCase))
            {
                type = t.Type;
                return true;
            }
        }
        type = default;
        return false;
    }

    /// <summary>Bytes of a row of <paramref name="n"/> elements.</summary>
    /// <exception cref="ArgumentException"><paramref name="n"/> is not a multiple of the block size.</exception>
    /// <exception cref="OverflowException">The byte count does not fit in a long.</exception>
    public long RowSize(long n)
    {
        if (n < 0 || n % BlockSize != 0)
        {
            throw new ArgumentException($"A row of {n} elements is not a whole number of {Name} blocks of {BlockSize}.", nameof(n));
        }
        return checked(n / BlockSize * TypeSize);
    }

    private static TypeTraits[] Build()
    {
        var t = new TypeTraits[40];
        void Add(DType type, string name, int bs, int ts, bool q, bool sup, DType dot) =>
            t[(int)type] = new TypeTraits(type, name, bs, ts, q, sup, dot);

        Add(DType.F32, "f32", 1, 4, false, true, DType.F32);
        Add(DType.F16, "f16", 1, 2, false, true, DType.F16);
        Add(DType.BF16, "bf16", 1, 2, false, true, DType.BF16);
        Add(DType.Q4_0, "q4_0", 32, 18, true, true, DType.Q8_0);
        Add(DType.Q4_1, "q4_1", 32, 20, true, true, DType.Q8_1);
        Add(DType.Q5_0, "q5_0", 32, 22, true, true, DType.Q8_0);
        Add(DType.Q5_1, "q5_1", 32, 24, true, true, DType.Q8_1);
        Add(DType.Q8_0, "q8_0", 32, 34, true, true, DType.Q8_0);
        Add(DType.Q8_1, "q8_1", 32, 36, true, true, DType.Q8_1);
        Add(DType.Q2_K, "q2_k", 256, 84, true, false, DType.Q8_K);
        Add(DType.Q3_K, "q3_k", 256, 110, true, false, DType.Q8_K);
        Add(DType.Q4_K, "q4_k", 256, 144, true, true, DType.Q8_K);
        Add(DType.Q5_K, "q5_k", 256, 176, true, true, DType.Q8_K);
        Add(DType.Q6_K, "q6_k", 256, 210, true, true, DType.Q8_K);
        Add(DType.Q8_K, "q8_k", 256, 292, true, true, DType.Q8_K);
        Add(DType.IQ2_XXS, "iq2_xxs", 256, 66, true, false, DType.Q8_K);
        Add(DType.IQ2_XS, "iq2_xs", 256, 74, true, false, DType.Q8_K);
        Add(DType.IQ3_XXS, "iq3_xxs", 256, 98, true, false, DType.Q8_K);
        Add(DType.IQ1_S, "iq1_s", 256, 50, true, false, DType.Q8_K);
        Add(DType.IQ4_NL, "iq4_nl", 32, 18, true, false, DType.Q8_0);
        Add(DType.IQ3_S, "iq3_s", 256, 110, true, false, DType.Q8_K);
        Add(DType.IQ2_S, "iq2_s", 256, 82, true, false, DType.Q8_K);
        Add(DType.IQ4_XS, "iq4_xs", 256, 136, true, false, DType.Q8_K);
        Add(DType.I8, "i8", 1, 1, false, false, DType.I8);
        Add(DType.I16, "i16", 1, 2, false, false, DType.I16);
        Add(DType.I32, "i32", 1, 4, false, true, DType.I32);
        Add(DType.I64, "i64", 1, 8, false, false, DType.I64);
        Add(DType.F64, "f64", 1, 8, false, false, DType.F64);
        Add(DType.IQ1_M, "iq1_m", 256, 56, true, false, DType.Q8_K);
        Add(DType.TQ1_0, "tq1_0", 256, 54, true, false, DType.Q8_K);
        Add(DType.TQ2_0, "tq2_0", 256, 66, true, false, DType.Q8_K);
        Add(DType.MXFP4, "mxfp4", 32, 17, true, false, DType.Q8_0);
        return t;
    }
}
