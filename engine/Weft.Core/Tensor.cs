using System.Diagnostics;
using System.Runtime.CompilerServices;

namespace Weft.Core;

/// <summary>Four longs, inline (no heap array): sizes <c>ne</c> or byte strides <c>nb</c>.</summary>
[InlineArray(Tensor.MaxDims)]
public struct Long4
{
    private long _e0;

    /// <summary>Creates the tuple (a, b, c, d).</summary>
    public static Long4 Of(long a, long b = 1, long c = 1, long d = 1)
    {
        Long4 r = default;
        r[0] = a; r[1] = b; r[2] = c; r[3] = d;
        return r;
    }

    /// <inheritdoc/>
    public override readonly string ToString()
    {
        ReadOnlySpan<long> s = this;
        return $"[{s[0]}, {s[1]}, {s[2]}, {s[3]}]";
    }
}

/// <summary>Sixteen ints, inline: an op's parameters (floats stored as their bits).</summary>
[InlineArray(16)]
public struct OpParams
{
    private int _e0;
}

/// <summary>Up to six source tensors of a node, inline.</summary>
[InlineArray(Tensor.MaxSrc)]
public struct SrcArray
{
    private Tensor? _e0;
}

/// <summary>Flags on a tensor.</summary>
[Flags]
public enum TensorFlags
{
    /// <summary>Nothing special.</summary>
    None = 0,
    /// <summary>Written by the host before evaluation (tokens, positions).</summary>
    Input = 1,
    /// <summary>Read by the host after evaluation: its memory is never reused by the planner.</summary>
    Output = 2,
    /// <summary>Model weight: lives for the model's lifetime, uploaded once per backend.</summary>
    Weight = 4,
    /// <summary>Trainable parameter (LoRA): backward builds a gradient for it.</summary>
    Param = 8,
}

/// <summary>
/// A tensor of up to four dimensions with ggml's conventions: <see cref="Ne"/> counts elements per dimension
/// (dimension 0 is the fastest-moving), <see cref="Nb"/> holds byte strides; for block-quantized types nb[0] is the
/// block size in bytes and rows are whole blocks. A tensor is also a graph node: <see cref="Op"/>, <see cref="Src"/>
/// and <see cref="Params"/> say how it is computed; <see cref="OpKind.None"/> marks a leaf.
/// </summary>
/// <remarks>
/// Tensors are created by <see cref="GraphBuilder"/> (nodes) or <see cref="NewLeaf"/> (weights, inputs). Data is
/// placed by a backend buffer: <see cref="Buffer"/> + <see cref="Offset"/>; on host buffers <see cref="Data"/> is
/// the address of element 0.
/// </remarks>
public sealed unsafe class Tensor
{
    /// <summary>Maximum number of dimensions.</summary>
    public const int MaxDims = 4;
    /// <summary>Maximum number of sources of one node.</summary>
    public const int MaxSrc = 6;

    /// <summary>Element type.</summary>
    public DType Type;
    /// <summary>Elements per dimension.</summary>
    public Long4 Ne;
    /// <summary>Byte stride per dimension.</summary>
    public Long4 Nb;
    /// <summary>The operation computing this tensor; <see cref="OpKind.None"/> for leaves.</summary>
    public OpKind Op;
    /// <summary>Operation parameters.</summary>
    public OpParams Params;
    /// <summary>Sources of the operation.</summary>
    public SrcArray Src;
    /// <summary>For views: the tensor whose memory this one aliases.</summary>
    public Tensor? ViewSrc;
    /// <summary>For views: byte offset into <see cref="ViewSrc"/>.</summary>
    public long ViewOffset;
    /// <summary>Flags.</summary>
    public TensorFlags Flags;
    /// <summary>Name, for errors, profiles and GGUF.</summary>
    public string Name = "";
    /// <summary>The buffer holding the data, once placed.</summary>
    public IBuffer? Buffer;
    /// <summary>Byte offset of element 0 in <see cref="Buffer"/>.</summary>
    public long Offset;
    /// <summary>Host address of element 0 when the tensor lives in host memory; 0 otherwise.</summary>
    public nint Data;
    /// <summary>The planner that placed this tensor in its arena (it may move it on the next plan); null otherwise.</summary>
    internal object? PlacedBy;
    /// <summary>Gradient, when the graph is built for training (see OpInfo.Backward).</summary>
    public Tensor? Grad;

    /// <summary>Creates a contiguous leaf of the given type and shape (unplaced).</summary>
    /// <exception cref="ArgumentException">A size is negative, or ne0 is not a multiple of the block size.</exception>
    /// <exception cref="OverflowException">The byte size does not fit in a long.</exception>
    public static Tensor NewLeaf(DType type, long ne0, long ne1 = 1, long ne2 = 1, long ne3 = 1, string name = "")
    {
        var t = new Tensor { Type = type, Name = name };
        t.Ne = Long4.Of(ne0, ne1, ne2, ne3);
        t.SetContiguousStrides();
        return t;
    }

    /// <summary>Sets <see cref="Nb"/> to the contiguous strides of <see cref="Ne"/>.</summary>
    public void SetContiguousStrides()
    {
        TypeTraits tt = TypeTraits.Of(Type);
        for (int i = 0; i < MaxDims; i++)
        {
            if (Ne[i] < 0)
            {
                throw new ArgumentException($"Tensor '{Name}': dimension {i} is negative ({Ne[i]}).");
            }
        }
        if (Ne[0] % tt.BlockSize != 0)
        {
            throw new ArgumentException($"Tensor '{Name}': ne0 = {Ne[0]} is not a multiple of the {tt.Name} block size {tt.BlockSize}.");
        }
        Nb[0] = tt.TypeSize;
        Nb[1] = checked(Nb[0] * (Ne[0] / tt.BlockSize));
        Nb[2] = checked(Nb[1] * Ne[1]);
        Nb[3] = checked(Nb[2] * Ne[2]);
        _ = checked(Nb[3] * Ne[3]);
    }

    /// <summary>Traits of <see cref="Type"/>.</summary>
    public TypeTraits Traits => TypeTraits.Of(Type);

    /// <summary>Total number of elements.</summary>
    public long ElementCount => Ne[0] * Ne[1] * Ne[2] * Ne[3];

    /// <summary>Number of rows (ne1 * ne2 * ne3).</summary>
    public long RowCount => Ne[1] * Ne[2] * Ne[3];

    /// <summary>Bytes of one contiguous row.</summary>
    public long RowBytes => Ne[0] / Traits.BlockSize * Traits.TypeSize;

    /// <summary>Bytes spanned in memory (from element 0 to the end of the last element), as ggml_nbytes.</summary>
    public long ByteSize
    {
        get
        {
            for (int i = 0; i < MaxDims; i++)
            {
                if (Ne[i] <= 0)
                {
                    return 0;
                }
            }
            TypeTraits tt = Traits;
            long bytes;
            if (tt.BlockSize == 1)
            {
                bytes = tt.TypeSize;
                for (int i = 0; i < MaxDims; i++)
                {
                    bytes += (Ne[i] - 1) * Nb[i];
                }
            }
            else
            {
                bytes = Ne[0] * Nb[0] / tt.BlockSize;
                for (int i = 1; i < MaxDims; i++)
                {
                    bytes += (Ne[i] - 1) * Nb[i];
                }
            }
            return bytes;
        }
    }

    /// <summary>True when rows and dimensions are packed with no gaps, in order.</summary>
    public bool IsContiguous
    {
        get
        {
            TypeTraits tt = Traits;
            long next = tt.TypeSize;
            if (Ne[0] != tt.BlockSize && Nb[0] != next)
            {
                return false;
            }
            next *= Ne[0] / tt.BlockSize;
            for (int i = 1; i < MaxDims; i++)
            {
                if (Ne[i] != 1)
                {
                    if (Nb[i] != next)
                    {
                        return false;
                    }
                    next *= Ne[i];
                }
                else
                {
                    next *= Ne[i];
                }
            }
            return true;
        }
    }

    /// <summary>True when each row is contiguous (nb0 is the element/block size), whatever the other strides.</summary>
    public bool IsRowContiguous => Nb[0] == Traits.TypeSize;

    /// <summary>Number of dimensions up to the last that is not 1 (at least 1).</summary>
    public int Rank
    {
        get
        {
            for (int i = MaxDims - 1; i > 0; i--)
            {
                if (Ne[i] != 1)
                {
                    return i + 1;
                }
            }
            return 1;
        }
    }

    /// <summary>True when both have the same sizes in every dimension.</summary>
    public static bool SameShape(Tensor a, Tensor b) =>
        a.Ne[0] == b.Ne[0] && a.Ne[1] == b.Ne[1] && a.Ne[2] == b.Ne[2] && a.Ne[3] == b.Ne[3];

    /// <summary>True when <paramref name="b"/> can broadcast to <paramref name="a"/> (each a.ne divisible by b.ne).</summary>
    public static bool CanRepeat(Tensor b, Tensor a) =>
        b.Ne[0] > 0 && b.Ne[1] > 0 && b.Ne[2] > 0 && b.Ne[3] > 0 &&
        a.Ne[0] % b.Ne[0] == 0 && a.Ne[1] % b.Ne[1] == 0 && a.Ne[2] % b.Ne[2] == 0 && a.Ne[3] % b.Ne[3] == 0;

    /// <summary>The tensor that owns the memory this one aliases (itself when not a view).</summary>
    public Tensor ViewRoot
    {
        get
        {
            Tensor t = this;
            while (t.ViewSrc is not null)
            {
                t = t.ViewSrc;
            }
            return t;
        }
    }

    /// <summary>True for Reshape/View/Permute/Transpose nodes, which only alias memory.</summary>
    public bool IsView => Op is OpKind.Reshape or OpKind.View or OpKind.Permute or OpKind.Transpose;

    /// <summary>Address of element (i0, i1, i2, i3) in host memory.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public byte* At(long i0, long i1 = 0, long i2 = 0, long i3 = 0)
    {
        Debug.Assert(Data != 0, $"Tensor '{Name}' has no host data.");
        return (byte*)Data + i0 / Traits.BlockSize * Nb[0] + i1 * Nb[1] + i2 * Nb[2] + i3 * Nb[3];
    }

    /// <summary>Reads a float parameter stored as bits at <paramref name="index"/>.</summary>
    public float GetParamF(int index) => BitConverter.Int32BitsToSingle(Params[index]);

    /// <summary>Stores a float parameter as bits at <paramref name="index"/>.</summary>
    public void SetParamF(int index, float value) => Params[index] = BitConverter.SingleToInt32Bits(value);

    /// <summary>Copies host F32 data into a placed host tensor (contiguous).</summary>
    /// <exception cref="InvalidOperationException">The tensor is not F32, not contiguous or not in host memory.</exception>
    public void SetData(ReadOnlySpan<float> values)
    {
        if (Type != DType.F32 || !IsContiguous || Data == 0 || values.Length != ElementCount)
        {
            throw new InvalidOperationException($"Tensor '{Name}': SetData<float> needs a contiguous F32 host tensor of {ElementCount} elements (got {values.Length}, type {Traits.Name}).");
        }
        values.CopyTo(new Span<float>((void*)Data, values.Length));
    }

    /// <summary>
    /// Reads a placed contiguous F32 tensor into a new array: from host memory, or through <see cref="IBuffer.Read"/>
    /// when it lives in device memory.
    /// </summary>
    /// <exception cref="InvalidOperationException">The tensor is not F32, not contiguous, or not placed.</exception>
    public float[] ToFloatArray()
    {
        if (Type != DType.F32 || !IsContiguous)
        {
            throw new InvalidOperationException($"Tensor '{Name}': ToFloatArray needs a contiguous F32 tensor (type {Traits.Name}, ne {Ne}, nb {Nb}).");
        }
        var result = new float[checked((int)ElementCount)];
        Span<byte> bytes = System.Runtime.InteropServices.MemoryMarshal.AsBytes(result.AsSpan());
        if (Data != 0)
        {
            new ReadOnlySpan<byte>((void*)Data, bytes.Length).CopyTo(bytes);
        }
        else if (Buffer is not null)
        {
            Buffer.Read(Offset, bytes);
        }
        else
        {
            throw new InvalidOperationException($"Tensor '{Name}' has no memory yet; allocate the graph (GraphAllocator.Plan or Scheduler.Allocate) first.");
        }
        return result;
    }

    /// <summary>The host bytes of a placed contiguous tensor.</summary>
    public Span<byte> HostBytes()
    {
        if (Data == 0)
        {
            throw new InvalidOperationException($"Tensor '{Name}' is not in host memory.");
        }
        return new Span<byte>((void*)Data, checked((int)ByteSize));
    }

    /// <inheritdoc/>
    public override string ToString() => $"{Name} {Op} {Traits.Name} {Ne}";
}
