using Weft.Core;

namespace Weft.Cpu.Tests.Runtime;

internal static class RuntimeTestUtil
{
    /// <summary>A leaf with its own host buffer holding <paramref name="values"/> (the buffer is owned by <paramref name="owned"/>).</summary>
    public static Tensor HostLeaf(List<IDisposable> owned, float[] values, long ne0, long ne1 = 1, string name = "", TensorFlags flags = TensorFlags.None)
    {
        Tensor t = Tensor.NewLeaf(DType.F32, ne0, ne1, name: name);
        t.Flags |= flags;
        IBuffer buf = CpuBufferType.Instance.Allocate(t.ByteSize);
        owned.Add(buf);
        t.Buffer = buf;
        t.Offset = 0;
        t.Data = buf.HostPointer;
        t.SetData(values);
        return t;
    }

    public static float[] Random(int n, int seed)
    {
        var rng = new Random(seed);
        var a = new float[n];
        for (int i = 0; i < n; i++)
        {
            a[i] = (float)(rng.NextDouble() * 2 - 1);
        }
        return a;
    }
}
