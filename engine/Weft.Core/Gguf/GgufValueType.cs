namespace Weft.Core.Gguf;

/// <summary>Type tags of GGUF metadata values (<c>gguf_type</c>); the numeric values are the on-disk ids.</summary>
public enum GgufValueType : uint
{
    /// <summary>Unsigned 8-bit integer.</summary>
    UInt8 = 0,
    /// <summary>Signed 8-bit integer.</summary>
    Int8 = 1,
    /// <summary>Unsigned 16-bit integer.</summary>
    UInt16 = 2,
    /// <summary>Signed 16-bit integer.</summary>
    Int16 = 3,
    /// <summary>Unsigned 32-bit integer.</summary>
    UInt32 = 4,
    /// <summary>Signed 32-bit integer.</summary>
    Int32 = 5,
    /// <summary>32-bit IEEE float.</summary>
    Float32 = 6,
    /// <summary>Boolean stored as one byte, 0 or 1.</summary>
    Bool = 7,
    /// <summary>UTF-8 string: u64 byte length, then the bytes (no terminator).</summary>
    String = 8,
    /// <summary>Array: u32 element type, u64 count, then the elements (arrays may nest).</summary>
    Array = 9,
    /// <summary>Unsigned 64-bit integer.</summary>
    UInt64 = 10,
    /// <summary>Signed 64-bit integer.</summary>
    Int64 = 11,
    /// <summary>64-bit IEEE float.</summary>
    Float64 = 12,
}
