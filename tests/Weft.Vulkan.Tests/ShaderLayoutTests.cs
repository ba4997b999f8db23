using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text.RegularExpressions;
using Weft.Core.Quants;
using Weft.Tests;

namespace Weft.Vulkan.Tests;

/// <summary>shaders/common/types.glsl mirrors QuantBlocks.cs: sizes, block lengths and field offsets.</summary>
public sealed class ShaderLayoutTests
{
    private static Dictionary<string, int> Defines()
    {
        string path = Path.Combine(TestAssets.RepoRoot, "shaders", "common", "types.glsl");
        var d = new Dictionary<string, int>();
        foreach (Match m in Regex.Matches(File.ReadAllText(path), @"^#define (\w+) (\d+)\s*$", RegexOptions.Multiline))
        {
            d[m.Groups[1].Value] = int.Parse(m.Groups[2].Value);
        }
        return d;
    }

    private static int Off<T>(string field) => (int)Marshal.OffsetOf<T>(field);

    [Test]
    public void QuantLayoutsMatchTheCSharpStructs()
    {
        Dictionary<string, int> d = Defines();
        Assert.Multiple(() =>
        {
            Assert.That(d["QK4_0"], Is.EqualTo(QK.Simple));
            Assert.That(d["QK8_0"], Is.EqualTo(QK.Simple));
            Assert.That(d["QK_K"], Is.EqualTo(QK.K));
            Assert.That(d["Q4_0_BYTES"], Is.EqualTo(Unsafe.SizeOf<BlockQ4_0>()));
            Assert.That(d["Q4_0_D"], Is.EqualTo(Off<BlockQ4_0>(nameof(BlockQ4_0.D))));
            Assert.That(d["Q4_0_QS"], Is.EqualTo(Off<BlockQ4_0>(nameof(BlockQ4_0.Qs))));
            Assert.That(d["Q8_0_BYTES"], Is.EqualTo(Unsafe.SizeOf<BlockQ8_0>()));
            Assert.That(d["Q8_0_D"], Is.EqualTo(Off<BlockQ8_0>(nameof(BlockQ8_0.D))));
            Assert.That(d["Q8_0_QS"], Is.EqualTo(Off<BlockQ8_0>(nameof(BlockQ8_0.Qs))));
            Assert.That(d["Q4_K_BYTES"], Is.EqualTo(Unsafe.SizeOf<BlockQ4_K>()));
            Assert.That(d["Q4_K_D"], Is.EqualTo(Off<BlockQ4_K>(nameof(BlockQ4_K.D))));
            Assert.That(d["Q4_K_DMIN"], Is.EqualTo(Off<BlockQ4_K>(nameof(BlockQ4_K.DMin))));
            Assert.That(d["Q4_K_SCALES"], Is.EqualTo(Off<BlockQ4_K>(nameof(BlockQ4_K.Scales))));
            Assert.That(d["Q4_K_QS"], Is.EqualTo(Off<BlockQ4_K>(nameof(BlockQ4_K.Qs))));
            Assert.That(d["Q6_K_BYTES"], Is.EqualTo(Unsafe.SizeOf<BlockQ6_K>()));
            Assert.That(d["Q6_K_QL"], Is.EqualTo(Off<BlockQ6_K>(nameof(BlockQ6_K.Ql))));
            Assert.That(d["Q6_K_QH"], Is.EqualTo(Off<BlockQ6_K>(nameof(BlockQ6_K.Qh))));
            Assert.That(d["Q6_K_SCALES"], Is.EqualTo(Off<BlockQ6_K>(nameof(BlockQ6_K.Scales))));
            Assert.That(d["Q6_K_D"], Is.EqualTo(Off<BlockQ6_K>(nameof(BlockQ6_K.D))));
        });
    }

    [Test]
    public void EveryManifestVariantIsEmbedded()
    {
        string manifest = File.ReadAllText(Path.Combine(TestAssets.RepoRoot, "shaders", "variants.json"));
        string[] names = Regex.Matches(manifest, "\"name\"\\s*:\\s*\"([^\"]+)\"").Select(m => m.Groups[1].Value).ToArray();
        Assert.That(names, Is.Not.Empty);
        Assert.That(ShaderTable.Names, Is.EquivalentTo(names));
        foreach (string n in names)
        {
            byte[] spv = ShaderTable.Load(n);
            Assert.That(BitConverter.ToUInt32(spv, 0), Is.EqualTo(0x07230203u), $"{n} is SPIR-V");
        }
    }
}
