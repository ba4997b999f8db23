using System.Buffers.Binary;
using System.Runtime.InteropServices;
using Weft.Core.Quants;

namespace Weft.Core.Tests.Quants;

/// <summary>The block structs' field offsets follow ggml-common.h, and the bytes Quantize writes land in those fields.</summary>
public class QuantBlockLayoutTests
{
    // Offsets from ggml-common.h's struct definitions (fields in declaration order, no padding).
    [TestCase(typeof(BlockQ4_0), "D", 0)]
    [TestCase(typeof(BlockQ4_0), "Qs", 2)]
    [TestCase(typeof(BlockQ4_1), "M", 2)]
    [TestCase(typeof(BlockQ4_1), "Qs", 4)]
    [TestCase(typeof(BlockQ5_0), "Qh", 2)]
    [TestCase(typeof(BlockQ5_0), "Qs", 6)]
    [TestCase(typeof(BlockQ5_1), "M", 2)]
    [TestCase(typeof(BlockQ5_1), "Qh", 4)]
    [TestCase(typeof(BlockQ5_1), "Qs", 8)]
    [TestCase(typeof(BlockQ8_0), "Qs", 2)]
    [TestCase(typeof(BlockQ8_1), "S", 2)]
    [TestCase(typeof(BlockQ8_1), "Qs", 4)]
    [TestCase(typeof(BlockQ4_K), "DMin", 2)]
    [TestCase(typeof(BlockQ4_K), "Scales", 4)]
    [TestCase(typeof(BlockQ4_K), "Qs", 16)]
    [TestCase(typeof(BlockQ5_K), "Scales", 4)]
    [TestCase(typeof(BlockQ5_K), "Qh", 16)]
    [TestCase(typeof(BlockQ5_K), "Qs", 48)]
    [TestCase(typeof(BlockQ6_K), "Qh", 128)]
    [TestCase(typeof(BlockQ6_K), "Scales", 192)]
    [TestCase(typeof(BlockQ6_K), "D", 208)]
    [TestCase(typeof(BlockQ8_K), "Qs", 4)]
    [TestCase(typeof(BlockQ8_K), "BSums", 260)]
    public void FieldOffsetMatchesGgml(Type block, string field, int offset)
    {
        Assert.That((int)Marshal.OffsetOf(block, field), Is.EqualTo(offset));
    }

    [Test]
    public unsafe void Q4_0BytesMapOntoTheStruct()
    {
        float[] x = Enumerable.Range(0, 64).Select(i => MathF.Sin(i * 0.7f) * 3).ToArray();
        var q = new byte[36];
        Quantize.RowQ4_0(x, q);
        var y = new float[64];
        Dequantize.RowQ4_0(q, y);
        BlockQ4_0 b = MemoryMarshal.Read<BlockQ4_0>(q.AsSpan(18));
        for (int j = 0; j < 16; j++)
        {
            Assert.That(y[32 + j], Is.EqualTo(((b.Qs[j] & 0xF) - 8) * (float)b.D));
            Assert.That(y[48 + j], Is.EqualTo(((b.Qs[j] >> 4) - 8) * (float)b.D));
        }
    }

    [Test]
    public unsafe void Q5_0FifthBitsMapOntoTheStruct()
    {
        float[] x = Enumerable.Range(0, 32).Select(i => i - 15.5f).ToArray();
        var q = new byte[22];
        Quantize.RowQ5_0(x, q);
        var y = new float[32];
        Dequantize.RowQ5_0(q, y);
        BlockQ5_0 b = MemoryMarshal.Read<BlockQ5_0>(q);
        uint qh = (uint)(b.Qh[0] | (b.Qh[1] << 8) | (b.Qh[2] << 16) | (b.Qh[3] << 24));
        for (int j = 0; j < 32; j++)
        {
            int lo = j < 16 ? b.Qs[j] & 0xF : b.Qs[j - 16] >> 4;
            int v = lo | (int)(((qh >> j) & 1) << 4);
            Assert.That(y[j], Is.EqualTo((v - 16) * (float)b.D));
        }
    }

    [Test]
    public unsafe void Q6_KScaleAndSuperScaleMapOntoTheStruct()
    {
        float[] x = Enumerable.Range(0, 256).Select(i => MathF.Cos(i * 0.37f) * (1 + i / 64)).ToArray();
        var q = new byte[210];
        Quantize.RowQ6_K(x, q);
        var y = new float[256];
        Dequantize.RowQ6_K(q, y);
        BlockQ6_K b = MemoryMarshal.Read<BlockQ6_K>(q);
        // Element 0: low nibble of ql[0], bits 0-1 of qh[0], sub-block scale 0.
        int v0 = (b.Ql[0] & 0xF) | ((b.Qh[0] & 3) << 4);
        Assert.That(y[0], Is.EqualTo((float)b.D * b.Scales[0] * (v0 - 32)));
        // Element 200 = 128 + 64 + 8: second half, third group of 32 (high nibble of ql[64 + 8], bits 4-5 of
        // qh[32 + 8]), sub-block 12 (8 scales per half, + 4 for the third group, l / 16 = 0).
        int v200 = (b.Ql[64 + 8] >> 4) | (((b.Qh[32 + 8] >> 4) & 3) << 4);
        Assert.That(y[200], Is.EqualTo((float)b.D * b.Scales[12] * (v200 - 32)));
    }

    [Test]
    public void Q4_KSuperScalesMapOntoTheStruct()
    {
        float[] x = Enumerable.Range(0, 256).Select(i => MathF.Cos(i * 0.37f) + 0.3f).ToArray();
        var q = new byte[144];
        Quantize.RowQ4_K(x, q);
        BlockQ4_K b = MemoryMarshal.Read<BlockQ4_K>(q);
        Assert.That(BitConverter.HalfToUInt16Bits(b.D), Is.EqualTo(BinaryPrimitives.ReadUInt16LittleEndian(q)));
        Assert.That(BitConverter.HalfToUInt16Bits(b.DMin), Is.EqualTo(BinaryPrimitives.ReadUInt16LittleEndian(q.AsSpan(2))));
        Assert.That((float)b.D, Is.GreaterThan(0f));
    }
}
