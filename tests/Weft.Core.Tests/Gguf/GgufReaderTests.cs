using Weft.Core.Gguf;
using Weft.Tests;

namespace Weft.Core.Tests.Gguf;

public class GgufReaderTests
{
    private static string Stories => TestAssets.Require("models/stories260K.gguf");

    [Test]
    public void Stories260KHeaderAndHyperParameters()
    {
        using GgufFile f = GgufFile.Open(Stories);
        Assert.Multiple(() =>
        {
            Assert.That(f.Version, Is.EqualTo(3u));
            Assert.That(f.GetString("general.architecture"), Is.EqualTo("llama"));
            Assert.That(f.GetInt("llama.context_length"), Is.EqualTo(2048));
            Assert.That(f.GetInt("llama.block_count"), Is.EqualTo(5));
            Assert.That(f.GetInt("llama.embedding_length"), Is.EqualTo(64));
            Assert.That(f.GetInt("llama.feed_forward_length"), Is.EqualTo(172));
            Assert.That(f.GetInt("llama.attention.head_count"), Is.EqualTo(8));
            Assert.That(f.GetInt("llama.attention.head_count_kv"), Is.EqualTo(4));
            Assert.That(f.GetFloat("llama.attention.layer_norm_rms_epsilon"), Is.EqualTo(1e-5f));
            Assert.That(f.GetStringArray("tokenizer.ggml.tokens"), Has.Count.EqualTo(512));
            Assert.That(f.GetFloatArray("tokenizer.ggml.scores"), Has.Length.EqualTo(512));
            Assert.That(f.GetIntArray("tokenizer.ggml.token_type"), Has.Length.EqualTo(512));
            Assert.That(f.GetInt32("tokenizer.ggml.bos_token_id"), Is.EqualTo(1));
            Assert.That(f.GetInt32("tokenizer.ggml.eos_token_id"), Is.EqualTo(2));
            Assert.That(f.Tensors, Has.Count.EqualTo(48));
            Assert.That(f.Alignment, Is.EqualTo(32));
            Assert.That(f.DataOffset % 32, Is.Zero);
        });
    }

    [Test]
    public void ReadIntoMemoryGivesTheMappedFilesContent()
    {
        using GgufFile mapped = GgufFile.Open(Stories, GgufLoadMode.Map);
        using GgufFile read = GgufFile.Open(Stories, GgufLoadMode.Read);
        Assert.That(read.Tensors, Is.EqualTo(mapped.Tensors));
        Assert.That(read.GetStringArray("tokenizer.ggml.tokens"), Is.EqualTo(mapped.GetStringArray("tokenizer.ggml.tokens")));
        for (int i = 0; i < mapped.Tensors.Count; i++)
        {
            GgufTensorInfo m = mapped.Tensors[i], r = read.Tensors[i];
            Assert.That(read.TensorBytes(r).SequenceEqual(mapped.TensorBytes(m)), m.Name);
            Assert.That((long)read.DataPointer(r) % read.Alignment, Is.Zero, $"{m.Name} is aligned in the read copy");
        }
        Assert.That(read.DataPointer(read.Tensors[0]), Is.Not.EqualTo(mapped.DataPointer(mapped.Tensors[0])));
    }

    [Test]
    public void ReadIntoMemoryRejectsATruncatedFileLikeTheMapping()
    {
        byte[] full = File.ReadAllBytes(Stories);
        string cut = Path.Combine(Path.GetTempPath(), $"weft-gguf-cut-{Environment.ProcessId}.gguf");
        try
        {
            File.WriteAllBytes(cut, full.AsSpan(0, full.Length - 1000).ToArray()); // the last tensor loses its end
            var mapped = Assert.Throws<GgufFormatException>(() => GgufFile.Open(cut, GgufLoadMode.Map))!;
            var read = Assert.Throws<GgufFormatException>(() => GgufFile.Open(cut, GgufLoadMode.Read))!;
            Assert.That(read.Message, Is.EqualTo(mapped.Message));
            Assert.That(read.Message, Does.Contain(cut));
        }
        finally
        {
            File.Delete(cut);
        }
    }

    [Test]
    public void TensorsPointIntoTheMappingAndMatchTheLlama2cCheckpoint()
    {
        // stories260K.bin (llama2.c format) holds the same weights: a 7-int header (28 bytes), then
        // token_embedding_table [vocab x dim] f32. MANIFEST.md states the two files are bit-identical per tensor.
        string bin = TestAssets.Require("models/stories260K.bin");
        byte[] binBytes = File.ReadAllBytes(bin);
        using GgufFile f = GgufFile.Open(Stories);
        GgufTensorInfo emb = f.GetTensorInfo("token_embd.weight");
        Assert.That(emb.Shape, Is.EqualTo(new long[] { 64, 512 }));
        Assert.That(emb.Type, Is.EqualTo(DType.F32));
        Assert.That(emb.ByteSize, Is.EqualTo(64 * 512 * 4));
        Assert.That(f.TensorBytes(emb).SequenceEqual(binBytes.AsSpan(28, 64 * 512 * 4)), Is.True);

        Tensor t = f.CreateTensor(emb);
        Assert.Multiple(() =>
        {
            Assert.That(t.Flags, Is.EqualTo(TensorFlags.Weight));
            Assert.That(t.Buffer, Is.SameAs(f.DataBuffer));
            Assert.That(t.Data, Is.EqualTo(f.DataBuffer.HostPointer + (nint)t.Offset));
            Assert.That(t.Ne[0], Is.EqualTo(64));
            Assert.That(t.Ne[1], Is.EqualTo(512));
            Assert.That(t.ByteSize, Is.EqualTo(emb.ByteSize));
        });
        var first = new byte[16];
        f.DataBuffer.Read(t.Offset, first);
        Assert.That(first, Is.EqualTo(binBytes.AsSpan(28, 16).ToArray()));
        Assert.That(f.CreateTensors(), Has.Length.EqualTo(48));
    }

    [Test]
    public void CopyOnWriteNeverChangesTheFile()
    {
        string copy = Path.Combine(Path.GetTempPath(), $"weft-gguf-cow-{Environment.ProcessId}.gguf");
        File.Copy(Stories, copy, overwrite: true);
        try
        {
            byte[] before = File.ReadAllBytes(copy);
            using (GgufFile f = GgufFile.Open(copy))
            {
                f.DataBuffer.Write(0, new byte[] { 1, 2, 3, 4 });
                var back = new byte[4];
                f.DataBuffer.Read(0, back);
                Assert.That(back, Is.EqualTo(new byte[] { 1, 2, 3, 4 }));
                Assert.Throws<ArgumentOutOfRangeException>(() => f.DataBuffer.Write(f.DataBuffer.Size - 2, new byte[4]));
            }
            Assert.That(File.ReadAllBytes(copy), Is.EqualTo(before));
        }
        finally
        {
            File.Delete(copy);
        }
    }

    [Test]
    public void ParseFromMemoryEqualsOpen()
    {
        byte[] bytes = File.ReadAllBytes(Stories);
        using GgufFile a = GgufFile.Open(Stories);
        using GgufFile b = GgufFile.Parse(bytes, "stories");
        Assert.That(b.MetadataKeys, Is.EqualTo(a.MetadataKeys));
        foreach (string k in a.MetadataKeys)
        {
            Assert.That(b.Metadata[k], Is.EqualTo(a.Metadata[k]), k);
        }
        Assert.That(b.Tensors, Is.EqualTo(a.Tensors));
        Assert.Throws<NotSupportedException>(() => b.DataBuffer.Write(0, new byte[1]));
    }

    [Test]
    public void DisposedFileRejectsAccess()
    {
        GgufFile f = GgufFile.Open(Stories);
        GgufTensorInfo info = f.Tensors[0];
        f.Dispose();
        f.Dispose();
        Assert.Throws<ObjectDisposedException>(() => f.DataPointer(info));
        Assert.Throws<ObjectDisposedException>(() => f.DataBuffer.Read(0, new byte[1]));
        Assert.That(f.DataBuffer.HostPointer, Is.EqualTo((nint)0));
    }

    [Test]
    public void TensorInfoFromAnotherFileIsRejected()
    {
        using GgufFile a = GgufFile.Open(Stories);
        using GgufFile b = GgufFile.Open(Stories);
        Assert.Throws<ArgumentException>(() => a.DataPointer(b.Tensors[0]));
    }

    [Test]
    public void TypedAccessorsReportMissingKeysAndWrongTypes()
    {
        using GgufFile f = GgufFile.Open(Stories);
        var missing = Assert.Throws<GgufFormatException>(() => f.GetInt("llama.nope"))!;
        Assert.That(missing.Message, Does.Contain("llama.nope").And.Contain(Stories));
        var wrong = Assert.Throws<GgufFormatException>(() => f.GetInt("general.architecture"))!;
        Assert.That(wrong.Message, Does.Contain("general.architecture").And.Contain("string"));
        Assert.That(wrong.Offset, Is.GreaterThan(0));
        Assert.That(f.TryGetInt("llama.nope", out _), Is.False);
        Assert.Throws<GgufFormatException>(() => f.TryGetString("llama.block_count", out _));
        Assert.Throws<GgufFormatException>(() => f.GetTensorInfo("nope.weight"));
    }

    public static IEnumerable<string> LlamaCppVocabs()
    {
        string dir = Path.Combine(TestAssets.Root, "tokenizers", "llamacpp");
        return Directory.Exists(dir) ? Directory.GetFiles(dir, "*.gguf").Select(Path.GetFileName).OrderBy(x => x, StringComparer.Ordinal)! : [];
    }

    [TestCaseSource(nameof(LlamaCppVocabs))]
    public void EveryLlamaCppVocabParses(string name)
    {
        using GgufFile f = GgufFile.Open(TestAssets.Require("tokenizers/llamacpp/" + name));
        Assert.That(f.Tensors, Is.Empty);
        IReadOnlyList<string> tokens = f.GetStringArray("tokenizer.ggml.tokens");
        Assert.That(tokens.Count, Is.GreaterThan(1000));
        Assert.That(f.GetString("tokenizer.ggml.model"), Is.Not.Empty);
        if (f.TryGetIntArray("tokenizer.ggml.token_type", out int[]? types))
        {
            Assert.That(types, Has.Length.EqualTo(tokens.Count));
        }
    }

    [Test]
    public void VocabFilesExist() => Assert.That(LlamaCppVocabs().Count(), Is.GreaterThanOrEqualTo(12));
}
