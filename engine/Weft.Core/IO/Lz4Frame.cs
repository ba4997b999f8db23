using System.Runtime.InteropServices;

namespace Weft.Core.IO;

/// <summary>
/// LZ4 frame format (the format of the <c>lz4</c> command-line tool) through the system liblz4
/// (<c>liblz4.so.1</c> on Linux, <c>liblz4.dylib</c> on macOS, <c>liblz4.dll</c> on Windows).
/// </summary>
/// <remarks>
/// Frames written here carry the content size and an xxHash32 content checksum, so a reader detects truncation and
/// corruption. Every frame can be decoded by <c>lz4 -d</c>; a sequence of frames (including skippable frames, see
/// <see cref="WriteSkippableFrameHeader"/>) decodes to the concatenation of their contents.
/// <code>
/// byte[] packed = Lz4Frame.Compress(data);
/// byte[] back = Lz4Frame.Decompress(packed, expectedLength: data.Length);
/// </code>
/// </remarks>
public static unsafe class Lz4Frame
{
    /// <summary>First magic number of the skippable frames (0x184D2A50..0x184D2A5F).</summary>
    public const uint SkippableMagic = 0x184D2A50;

    /// <summary>Magic number that opens an LZ4 data frame.</summary>
    public const uint FrameMagic = 0x184D2204;

    /// <summary>True when the system liblz4 could be loaded.</summary>
    public static bool IsAvailable => Lz4Native.TryGet(out _);

    /// <summary>Upper bound of the frame size produced by <see cref="Compress(ReadOnlySpan{byte}, int)"/> for <paramref name="sourceLength"/> bytes.</summary>
    /// <exception cref="Lz4Exception">liblz4 is not installed.</exception>
    public static long CompressBound(long sourceLength)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(sourceLength);
        Lz4Native n = Lz4Native.Get();
        Preferences p = MakePreferences(sourceLength, 1);
        return (long)n.CompressFrameBound((nuint)sourceLength, &p);
    }

    /// <summary>Compresses <paramref name="source"/> into one LZ4 frame (content size and content checksum included).</summary>
    /// <param name="source">Bytes to compress.</param>
    /// <param name="level">Compression level: 0 or 1 = fast, 3..12 = LZ4-HC.</param>
    /// <exception cref="Lz4Exception">liblz4 is missing or reports an error.</exception>
    public static byte[] Compress(ReadOnlySpan<byte> source, int level = 1)
    {
        fixed (byte* src = source)
        {
            return Compress(src, source.Length, level);
        }
    }

    /// <summary>Compresses <paramref name="length"/> bytes at <paramref name="source"/> into one LZ4 frame.</summary>
    /// <exception cref="Lz4Exception">liblz4 is missing or reports an error.</exception>
    public static byte[] Compress(byte* source, long length, int level = 1)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        Lz4Native n = Lz4Native.Get();
        Preferences p = MakePreferences(length, level);
        nuint bound = n.CompressFrameBound((nuint)length, &p);
        if (bound > (nuint)Array.MaxLength)
        {
            throw new Lz4Exception($"LZ4 frame for {length} bytes would exceed the largest array; split the data into smaller sections.");
        }
        byte[] dst = GC.AllocateUninitializedArray<byte>((int)bound);
        nuint written;
        fixed (byte* d = dst)
        {
            written = n.CompressFrame(d, bound, source, (nuint)length, &p);
        }
        n.Check(written, "LZ4F_compressFrame");
        Array.Resize(ref dst, (int)written);
        return dst;
    }

    /// <summary>Decompresses one LZ4 frame that must hold exactly <paramref name="expectedLength"/> bytes.</summary>
    /// <exception cref="Lz4Exception">The frame is corrupt, truncated, followed by extra bytes, or decodes to another length.</exception>
    public static byte[] Decompress(ReadOnlySpan<byte> frame, long expectedLength)
    {
        if (expectedLength > Array.MaxLength)
        {
            throw new Lz4Exception($"LZ4 frame declares {expectedLength} bytes, more than one array can hold.");
        }
        byte[] dst = GC.AllocateUninitializedArray<byte>((int)expectedLength);
        fixed (byte* s = frame)
        fixed (byte* d = dst)
        {
            DecompressInto(s, frame.Length, d, expectedLength);
        }
        return dst;
    }

    /// <summary>
    /// Decompresses the LZ4 frame of <paramref name="frameLength"/> bytes at <paramref name="frame"/> into
    /// <paramref name="destination"/>, which must receive exactly <paramref name="expectedLength"/> bytes.
    /// </summary>
    /// <exception cref="Lz4Exception">The frame is corrupt, truncated, longer than expected or shorter than expected.</exception>
    public static void DecompressInto(byte* frame, long frameLength, byte* destination, long expectedLength)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(frameLength);
        ArgumentOutOfRangeException.ThrowIfNegative(expectedLength);
        Lz4Native n = Lz4Native.Get();
        if (frameLength < 7 || *(uint*)frame != FrameMagic)
        {
            throw new Lz4Exception($"not an LZ4 frame (expected magic 0x{FrameMagic:X8}, {frameLength} bytes available)");
        }
        nint dctx;
        n.Check(n.CreateDecompressionContext(&dctx, Lz4Native.Version), "LZ4F_createDecompressionContext");
        try
        {
            long inPos = 0, outPos = 0;
            while (true)
            {
                nuint srcSize = (nuint)(frameLength - inPos);
                // Give the decoder one spare byte of room so that content longer than expected is detected.
                nuint dstSize = (nuint)(expectedLength - outPos);
                byte spare;
                byte* dst = dstSize == 0 ? &spare : destination + outPos;
                if (dstSize == 0)
                {
                    dstSize = 1;
                }
                nuint hint = n.Decompress(dctx, dst, &dstSize, frame + inPos, &srcSize, null);
                n.Check(hint, "LZ4F_decompress");
                inPos += (long)srcSize;
                if (dst == &spare && dstSize > 0)
                {
                    throw new Lz4Exception($"LZ4 frame decodes to more than the expected {expectedLength} bytes");
                }
                outPos += (long)dstSize;
                if (hint == 0)
                {
                    break;
                }
                if (srcSize == 0 && dstSize == 0 && inPos >= frameLength)
                {
                    throw new Lz4Exception($"LZ4 frame is truncated: input ended after {frameLength} bytes with {outPos} of {expectedLength} bytes decoded");
                }
            }
            if (outPos != expectedLength)
            {
                throw new Lz4Exception($"LZ4 frame decodes to {outPos} bytes, expected {expectedLength}");
            }
            if (inPos != frameLength)
            {
                throw new Lz4Exception($"LZ4 frame ends at byte {inPos} of {frameLength}: trailing bytes");
            }
        }
        finally
        {
            n.FreeDecompressionContext(dctx);
        }
    }

    /// <summary>
    /// Writes the 8-byte header of a skippable frame (magic <c>0x184D2A50 + <paramref name="variant"/></c>, then the
    /// little-endian payload length) to <paramref name="destination"/>. Decoders, the <c>lz4</c> tool included, skip
    /// the payload that follows, which makes skippable frames a place for a file's own header.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">Variant outside 0..15 or destination shorter than 8 bytes.</exception>
    public static void WriteSkippableFrameHeader(Span<byte> destination, int variant, uint payloadLength)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(variant);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(variant, 15);
        ArgumentOutOfRangeException.ThrowIfLessThan(destination.Length, 8);
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(destination, SkippableMagic + (uint)variant);
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(destination[4..], payloadLength);
    }

    private static Preferences MakePreferences(long contentSize, int level)
    {
        Preferences p = default;
        p.BlockSizeId = 7; // 4 MB blocks: fewer block headers on large sections.
        p.BlockMode = 1; // independent blocks
        p.ContentChecksumFlag = 1;
        p.ContentSize = (ulong)contentSize;
        p.BlockChecksumFlag = 0;
        p.CompressionLevel = level;
        return p;
    }

    /// <summary>Layout of LZ4F_preferences_t (LZ4F_frameInfo_t first), liblz4 1.8 and later.</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct Preferences
    {
        public int BlockSizeId;
        public int BlockMode;
        public int ContentChecksumFlag;
        public int FrameType;
        public ulong ContentSize;
        public uint DictId;
        public int BlockChecksumFlag;
        public int CompressionLevel;
        public uint AutoFlush;
        public uint FavorDecSpeed;
        public uint Reserved0, Reserved1, Reserved2;
    }
}
