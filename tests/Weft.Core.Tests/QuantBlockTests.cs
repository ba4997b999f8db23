using System.Runtime.CompilerServices;
using Weft.Core;
using Weft.Core.Quants;

namespace Weft.Core.Tests;

public class QuantBlockTests
{
    // Sizes from ggml-common.h: sizeof(block_xxx).
    [TestCase(typeof(BlockQ4_0), 18)]
    [TestCase(typeof(BlockQ4_1), 20)]
    [TestCase(typeof(BlockQ5_0), 22)]
    [TestCase(typeof(BlockQ5_1), 24)]
    [TestCase(typeof(BlockQ8_0), 34)]
    [TestCase(typeof(BlockQ8_1), 36)]
    [TestCase(typeof(BlockQ2_K), 84)]
    [TestCase(typeof(BlockQ3_K), 110)]
    [TestCase(typeof(BlockQ4_K), 144)]
    [TestCase(typeof(BlockQ5_K), 176)]
    [TestCase(typeof(BlockQ6_K), 210)]
    [TestCase(typeof(BlockQ8_K), 292)]
    public void BlockStructSizeMatchesGgml(Type block, int expected)
    {
        int size = (int)typeof(Unsafe).GetMethod(nameof(Unsafe.SizeOf))!.MakeGenericMethod(block).Invoke(null, null)!;
        Assert.That(size, Is.EqualTo(expected));
    }

    [TestCase(DType.Q4_0, typeof(BlockQ4_0))]
    [TestCase(DType.Q4_1, typeof(BlockQ4_1))]
    [TestCase(DType.Q5_0, typeof(BlockQ5_0))]
    [TestCase(DType.Q5_1, typeof(BlockQ5_1))]
    [TestCase(DType.Q8_0, typeof(BlockQ8_0))]
    [TestCase(DType.Q8_1, typeof(BlockQ8_1))]
    [TestCase(DType.Q2_K, typeof(BlockQ2_K))]
    [TestCase(DType.Q3_K, typeof(BlockQ3_K))]
    [TestCase(DType.Q4_K, typeof(BlockQ4_K))]
    [TestCase(DType.Q5_K, typeof(BlockQ5_K))]
    [TestCase(DType.Q6_K, typeof(BlockQ6_K))]
    [TestCase(DType.Q8_K, typeof(BlockQ8_K))]
    public void TraitsTypeSizeMatchesStruct(DType type, Type block)
    {
        int size = (int)typeof(Unsafe).GetMethod(nameof(Unsafe.SizeOf))!.MakeGenericMethod(block).Invoke(null, null)!;
        Assert.That(TypeTraits.Of(type).TypeSize, Is.EqualTo(size));
    }

    [Test]
    public void EveryKnownTypeHasAUniqueName()
    {
        var names = TypeTraits.All.Select(t => t.Name).ToList();
        Assert.That(names, Is.Unique);
        foreach (TypeTraits t in TypeTraits.All)
        {
            Assert.That(TypeTraits.TryParse(t.Name.ToUpperInvariant(), out DType parsed), Is.True);
            Assert.That(parsed, Is.EqualTo(t.Type));
        }
    }

    [Test]
    public void UnknownTypeIdIsRejected()
    {
        Assert.That(TypeTraits.IsKnown(4), Is.False);
        Assert.Throws<ArgumentOutOfRangeException>(() => TypeTraits.Of((DType)4));
    }
}
