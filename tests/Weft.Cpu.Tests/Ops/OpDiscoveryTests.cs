using Weft.Core;
using Weft.Cpu.Ops;

namespace Weft.Cpu.Tests.Ops;

public class OpDiscoveryTests
{
    [TestCase(OpKind.GetRows, typeof(GetRowsOp))]
    [TestCase(OpKind.Add, typeof(AddOp))]
    [TestCase(OpKind.Mul, typeof(MulOp))]
    [TestCase(OpKind.Scale, typeof(ScaleOp))]
    [TestCase(OpKind.RmsNorm, typeof(RmsNormOp))]
    [TestCase(OpKind.Norm, typeof(NormOp))]
    [TestCase(OpKind.Rope, typeof(RopeOp))]
    [TestCase(OpKind.SoftMax, typeof(SoftMaxOp))]
    [TestCase(OpKind.Silu, typeof(SiluOp))]
    [TestCase(OpKind.Gelu, typeof(GeluOp))]
    [TestCase(OpKind.SwiGlu, typeof(SwiGluOp))]
    [TestCase(OpKind.Cpy, typeof(CpyOp))]
    [TestCase(OpKind.Cont, typeof(ContOp))]
    [TestCase(OpKind.FlashAttn, typeof(FlashAttnOp))]
    public void DefaultTableFindsTheOp(OpKind kind, Type type)
    {
        ICpuOp op = (ICpuOp)Activator.CreateInstance(type)!;
        Assert.That(op.Kind, Is.EqualTo(kind));
        Assert.That(CpuOpTable.Default.Implementations(kind).Select(o => o.GetType()), Does.Contain(type));
    }
}
