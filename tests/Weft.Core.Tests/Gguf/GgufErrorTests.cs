using System.Buffers.Binary;
using System.Diagnostics;
using Weft.Core.Gguf;
using Weft.Tests;

namespace Weft.Core.Tests.Gguf;

public class GgufErrorTests
{
    private const uint TString = 8, TArray = 9, TU32 = 4, TBool = 7;

    private static GgufFormatException Fails(byte[] bytes, string field, string problem)
    {
        var ex = Assert.Throws<GgufFormatException>(() => GgufFile.Parse(bytes, "bad.gguf").Dispose())!;
        Assert.That(ex.Message, Does.StartWith("bad.gguf: "));
        Assert.That(ex.Field, Does.Contain(field));
        Assert.That(ex.Message, Does.Contain(problem));
        return ex;
    }

    private static GgufFile Loads(byte[] bytes) => GgufFile.Parse(bytes, "ok.gguf");

    [Test]
    public void MinimalFileLoads()
    {
        byte[] b = new RawGguf().Header(3, 1, 1).Key("general.architecture", TString).Str("llama")
            .TensorInfo("w", 0, 0, 4, 2).PadTo(32).Bytes(32).ToArray();
        using GgufFile f = Loads(b);
        Assert.That(f.Tensors[0].ByteSize, Is.EqualTo(32));
        Assert.That(f.DataOffset + 32, Is.EqualTo(b.Length));
    }

    [Test]
    public void VocabOnlyFileWithDataSectionPastTheEndLoads()
    {
        byte[] b = new RawGguf().Header(3, 0, 1).Key("a", TU32).U32(7).ToArray();
        using GgufFile f = Loads(b);
        Assert.That(f.DataOffset, Is.GreaterThan(b.Length));
        Assert.That(f.DataBuffer.Size, Is.Zero);
        Assert.That(f.GetInt("a"), Is.EqualTo(7));
    }

    [Test]
    public void Version2Loads()
    {
        using GgufFile f = Loads(new RawGguf().Header(2, 0, 1).Key("a", TString).Str("x").ToArray());
        Assert.That(f.Version, Is.EqualTo(2u));
    }

    [Test]
    public void EmptyAndShortFiles()
    {
        Fails([], "header.magic", "empty");
        Fails([0x47, 0x47], "header.magic", "truncated");
        Fails(new RawGguf().Header(3, 0, 0).ToArray()[..20], "header.kv_count", "truncated");
    }

    [Test]
    public void WrongMagic()
    {
        Fails(new RawGguf().Header(3, 0, 0, magic: 0x12345678).ToArray(), "header.magic", "78 56 34 12");
        Fails(new RawGguf().Header(3, 0, 0, magic: 0x67676a74).ToArray(), "header.magic", "legacy");
    }

    [TestCase(1u, "version 1")]
    [TestCase(4u, "unknown GGUF version 4")]
    [TestCase(0x03000000u, "big-endian")]
    public void UnsupportedVersions(uint version, string problem)
    {
        GgufFormatException ex = Fails(new RawGguf().Header(version, 0, 0).ToArray(), "header.version", problem);
        Assert.That(ex.Offset, Is.EqualTo(4));
    }

    [Test]
    public void AbsurdCountsFailWithoutAllocating()
    {
        Fails(new RawGguf().Header(3, 0, 1UL << 60).ToArray(), "header.kv_count", "cannot fit");
        Fails(new RawGguf().Header(3, ulong.MaxValue, 0).ToArray(), "header.tensor_count", "cannot fit");
        Fails(new RawGguf().Header(3, 0, 1).Key("a", TArray).U32(TU32).U64(1UL << 40).ToArray(), "kv[0] 'a' count", "run past");
        Fails(new RawGguf().Header(3, 0, 1).Key("a", TArray).U32(TString).U64(100).Str("x").ToArray(), "kv[0] 'a' count", "run past");
        Fails(new RawGguf().Header(3, 0, 1).Key("a", TArray).U32(TString).U64(2).Str("x").Bytes(7).ToArray(), "kv[0] 'a'[1]", "truncated");
    }

    [Test]
    public void StringLengthPastEndOfFile()
    {
        GgufFormatException ex = Fails(new RawGguf().Header(3, 0, 1).U64(1000).Bytes(20).ToArray(), "kv[0].key", "runs past the end");
        Assert.That(ex.Offset, Is.EqualTo(24));
        Fails(new RawGguf().Header(3, 0, 1).Key("k", TString).U64(ulong.MaxValue).ToArray(), "kv[0] 'k'", "runs past the end");
    }

    [Test]
    public void BadValuesAndTypes()
    {
        Fails(new RawGguf().Header(3, 0, 1).Key("k", 13).U32(0).ToArray(), "kv[0] 'k' type", "unknown value type 13");
        Fails(new RawGguf().Header(3, 0, 1).Key("k", TArray).U32(99).U64(0).ToArray(), "element type", "unknown array element type 99");
        Fails(new RawGguf().Header(3, 0, 1).Key("k", TBool).U8(2).Bytes(8).ToArray(), "kv[0] 'k'", "bool byte is 2");
        Fails(new RawGguf().Header(3, 0, 2).Key("k", TU32).U32(1).Key("k", TU32).U32(2).ToArray(), "kv[1] 'k'", "duplicate key");
    }

    [Test]
    public void NestedArrays()
    {
        // Three levels of nesting load; MaxArrayNesting + 1 levels are rejected (bounded recursion).
        var ok = new RawGguf().Header(3, 0, 1).Key("n", TArray).U32(TArray).U64(1).U32(TArray).U64(1).U32(TU32).U64(2).U32(5).U32(6);
        using (GgufFile f = Loads(ok.ToArray()))
        {
            GgufValue v = f.GetValue("n");
            Assert.That(v.AsArrayList()[0].AsArrayList()[0].AsInt64Array(), Is.EqualTo(new long[] { 5, 6 }));
        }
        var deep = new RawGguf().Header(3, 0, 1).Key("n", TArray);
        for (int i = 0; i < GgufFile.MaxArrayNesting + 1; i++)
        {
            deep.U32(TArray).U64(1);
        }
        deep.U32(TU32).U64(0).Bytes(64);
        Fails(deep.ToArray(), "kv[0] 'n'", "nested deeper");
    }

    [Test]
    public void BadTensorInfos()
    {
        RawGguf Start(ulong n = 1) => new RawGguf().Header(3, n, 0);
        Fails(Start().TensorInfo("t", 0, 0, 1, 1, 1, 1, 1).PadTo(32).Bytes(64).ToArray(), "n_dims", "5 dimensions");
        Fails(Start().TensorInfo("t", 4, 0, 32).PadTo(32).Bytes(64).ToArray(), "type", "unknown ggml type id 4");
        Fails(Start().TensorInfo("t", 1000, 0, 32).PadTo(32).Bytes(64).ToArray(), "type", "unknown ggml type id 1000");
        Fails(Start().TensorInfo("t", 2, 0, 33).PadTo(32).Bytes(64).ToArray(), "ne[0]", "block size 32");
        Fails(Start().TensorInfo("t", 0, 0, 1UL << 32, 1UL << 32).PadTo(32).Bytes(64).ToArray(), "ne", "overflows");
        Fails(Start().TensorInfo("t", 0, 0, 1UL << 63).PadTo(32).Bytes(64).ToArray(), "ne[0]", "does not fit");
        Fails(Start().TensorInfo("t", 0, 16, 4).PadTo(32).Bytes(64).ToArray(), "offset", "not a multiple of the alignment 32");
        Fails(Start().TensorInfo("t", 0, 32, 16).PadTo(32).Bytes(64).ToArray(), "offset", "runs past the end of the data section");
        Fails(Start().TensorInfo("t", 0, 0, 16).ToArray(), "data section", "truncated");
        Fails(Start(2).TensorInfo("t", 0, 0, 16).TensorInfo("t", 0, 64, 16).PadTo(32).Bytes(128).ToArray(), "tensor[1] 't'", "duplicate tensor name");
        Fails(Start(2).TensorInfo("a", 0, 0, 16).TensorInfo("b", 0, 32, 16).PadTo(32).Bytes(128).ToArray(), "tensor[1] 'b' offset", "overlaps tensor 'a'");
        // A zero-size tensor between two overlapping ones must not hide the overlap.
        Fails(Start(3).TensorInfo("big", 0, 0, 32).TensorInfo("none", 0, 32, 0).TensorInfo("c", 0, 64, 8).PadTo(32).Bytes(128).ToArray(), "tensor[2] 'c' offset", "overlaps tensor 'big'");
        // Tensors stored out of order, with gaps, are fine.
        using (GgufFile f = Loads(Start(2).TensorInfo("late", 0, 64, 8).TensorInfo("early", 0, 0, 8).PadTo(32).Bytes(96).ToArray()))
        {
            Assert.That(f.Tensors.Select(t => t.Offset), Is.EqualTo(new long[] { 64, 0 }));
        }
    }

    [Test]
    public void AlignmentKey()
    {
        Fails(new RawGguf().Header(3, 0, 1).Key(GgufFile.AlignmentKey, TU32).U32(48).ToArray(), "general.alignment", "power of two");
        Fails(new RawGguf().Header(3, 0, 1).Key(GgufFile.AlignmentKey, TString).Str("64").ToArray(), "general.alignment", "power of two");
        byte[] b = new RawGguf().Header(3, 1, 1).Key(GgufFile.AlignmentKey, TU32).U32(64).TensorInfo("t", 0, 0, 4).PadTo(64).Bytes(16).ToArray();
        using GgufFile f = Loads(b);
        Assert.That(f.Alignment, Is.EqualTo(64));
        Assert.That(f.DataOffset % 64, Is.Zero);
    }

    [Test]
    public void EveryTruncationOfTheHeaderRegionFails()
    {
        byte[] full = File.ReadAllBytes(TestAssets.Require("models/stories260K.gguf"));
        long dataOffset;
        using (GgufFile f = GgufFile.Parse(full))
        {
            dataOffset = f.DataOffset;
        }
        for (int len = 0; len < dataOffset + 64; len++)
        {
            Assert.Throws<GgufFormatException>(() => GgufFile.Parse(full.AsMemory(0, len)).Dispose(), $"length {len}");
        }
    }

    [Test]
    public void OpenOnAMissingOrEmptyFile()
    {
        string empty = Path.Combine(Path.GetTempPath(), $"weft-gguf-empty-{Environment.ProcessId}.gguf");
        File.WriteAllBytes(empty, []);
        try
        {
            var ex = Assert.Throws<GgufFormatException>(() => GgufFile.Open(empty))!;
            Assert.That(ex.Message, Does.Contain(empty).And.Contain("empty"));
            File.WriteAllBytes(empty, "GGUF\u0003\0\0\0"u8.ToArray());
            ex = Assert.Throws<GgufFormatException>(() => GgufFile.Open(empty))!;
            Assert.That(ex.Field, Is.EqualTo("header.tensor_count"));
            Assert.That(ex.Message, Does.Contain("truncated"));
            File.WriteAllBytes(empty, "<html>"u8.ToArray());
            ex = Assert.Throws<GgufFormatException>(() => GgufFile.Open(empty))!;
            Assert.That(ex.Field, Is.EqualTo("header.magic"));
        }
        finally
        {
            File.Delete(empty);
        }
        Assert.Throws<FileNotFoundException>(() => GgufFile.Open(empty + ".missing"));
    }

    /// <summary>
    /// Mutates the header and metadata region of stories260K 10,000 times (bit flips, byte sets, truncations, bumps of
    /// u32/u64 fields); every attempt must load or throw <see cref="GgufFormatException"/>, and loaded files must
    /// give in-range tensor bytes.
    /// </summary>
    [Test]
    public void FuzzedHeadersLoadOrThrowGgufFormatException()
    {
        byte[] original = File.ReadAllBytes(TestAssets.Require("models/stories260K.gguf"));
        int region = Math.Min(64 * 1024, original.Length);
        byte[] buf = (byte[])original.Clone();
        var rng = new Random(20251122);
        int loaded = 0, rejected = 0;
        var sw = Stopwatch.StartNew();
        for (int iter = 0; iter < 10_000; iter++)
        {
            Array.Copy(original, buf, region);
            int length = buf.Length;
            int mutations = 1 + rng.Next(3);
            for (int m = 0; m < mutations; m++)
            {
                int pos = rng.Next(region - 8);
                switch (rng.Next(5))
                {
                    case 0: buf[pos] ^= (byte)(1 << rng.Next(8)); break;
                    case 1: buf[pos] = (byte)rng.Next(256); break;
                    case 2: length = Math.Min(length, rng.Next(region)); break;
                    case 3:
                        ulong v = BinaryPrimitives.ReadUInt64LittleEndian(buf.AsSpan(pos));
                        ulong[] bumps = [1, ulong.MaxValue, 256, 1UL << 32, 1UL << 62, 0x8000];
                        BinaryPrimitives.WriteUInt64LittleEndian(buf.AsSpan(pos), v + bumps[rng.Next(bumps.Length)]);
                        break;
                    default:
                        uint u = BinaryPrimitives.ReadUInt32LittleEndian(buf.AsSpan(pos));
                        BinaryPrimitives.WriteUInt32LittleEndian(buf.AsSpan(pos), u + (uint)rng.Next(-4, 5));
                        break;
                }
            }
            try
            {
                using GgufFile f = GgufFile.Parse(buf.AsMemory(0, length), $"fuzz#{iter}");
                foreach (GgufTensorInfo t in f.Tensors)
                {
                    ReadOnlySpan<byte> bytes = f.TensorBytes(t);
                    Assert.That(f.DataOffset + t.Offset + bytes.Length, Is.LessThanOrEqualTo(length));
                }
                f.TryGetStringArray("tokenizer.ggml.tokens", out _);
                loaded++;
            }
            catch (GgufFormatException)
            {
                rejected++;
            }
        }
        TestContext.Out.WriteLine($"fuzz: {loaded} loaded, {rejected} rejected in {sw.ElapsedMilliseconds} ms");
        Assert.That(sw.Elapsed.TotalSeconds, Is.LessThan(30));
        Assert.That(loaded, Is.GreaterThan(0), "some mutations (e.g. inside token text) leave a valid file");
        Assert.That(rejected, Is.GreaterThan(0));
    }
}
