using Weft.Core;
using Weft.Core.Quants;

namespace Weft.Vulkan.Tests;

/// <summary>A backend this suite runs on.</summary>
public enum BackendKind
{
    /// <summary>The CPU backend, checked against <see cref="NaiveReference"/>.</summary>
    Cpu,
    /// <summary>The first Vulkan device (lavapipe here), checked against the CPU backend.</summary>
    Vulkan,
}

/// <summary>One small graph: inputs with seeded values, the node under test, and its NMSE bound.</summary>
public sealed class OpCase
{
    public OpCase(string name, Func<GraphBuilder, OpInputs, Tensor> build, double maxNmse = 1e-7, double? maxNmseVsCpu = null)
    {
        Name = name;
        Build = build;
        MaxNmse = maxNmse;
        MaxNmseVsCpu = maxNmseVsCpu ?? maxNmse;
    }

    public string Name { get; }

    public Func<GraphBuilder, OpInputs, Tensor> Build { get; }

    /// <summary>Bound against the double-precision reference.</summary>
    public double MaxNmse { get; }

    /// <summary>Bound of another backend against the CPU (the CPU quantizes activations for quantized matmuls).</summary>
    public double MaxNmseVsCpu { get; }

    public override string ToString() => Name;
}

/// <summary>Creates graph inputs and remembers their host values (as floats and as the bytes of their dtype).</summary>
public sealed class OpInputs
{
    private readonly Random _rng;

    public OpInputs(int seed)
    {
        _rng = new Random(seed);
    }

    public List<(Tensor Tensor, byte[] Bytes, float[] Values)> All { get; } = new();

    public Tensor Random(GraphBuilder g, DType type, long ne0, long ne1 = 1, long ne2 = 1, long ne3 = 1, float scale = 1f, float bias = 0f)
    {
        Tensor t = g.Input(type, ne0, ne1, ne2, ne3, name: $"in{All.Count}");
        var values = new float[t.ElementCount];
        for (int i = 0; i < values.Length; i++)
        {
            values[i] = (float)(_rng.NextDouble() * 2 - 1) * scale + bias;
        }
        Add(t, values);
        return t;
    }

    public Tensor Ints(GraphBuilder g, int[] values, long ne0, long ne1 = 1, long ne2 = 1)
    {
        Tensor t = g.Input(DType.I32, ne0, ne1, ne2, name: $"in{All.Count}");
        var bytes = new byte[values.Length * 4];
        Buffer.BlockCopy(values, 0, bytes, 0, bytes.Length);
        All.Add((t, bytes, values.Select(v => (float)v).ToArray()));
        return t;
    }

    private void Add(Tensor t, float[] values)
    {
        byte[] bytes = new byte[t.ByteSize];
        long rowBytes = t.RowBytes;
        int n0 = (int)t.Ne[0];
        for (long r = 0; r < t.RowCount; r++)
        {
            Quantize.Row(t.Type, values.AsSpan((int)(r * n0), n0), bytes.AsSpan((int)(r * rowBytes), (int)rowBytes));
        }
        // Values as the backends see them: after the round trip through the dtype.
        var seen = new float[values.Length];
        for (long r = 0; r < t.RowCount; r++)
        {
            Dequantize.Row(t.Type, bytes.AsSpan((int)(r * rowBytes), (int)rowBytes), seen.AsSpan((int)(r * n0), n0));
        }
        All.Add((t, bytes, seen));
    }

    /// <summary>Writes every input into its placed memory (host or device).</summary>
    public unsafe void Upload()
    {
        foreach (var (t, bytes, _) in All)
        {
            if (t.Data != 0)
            {
                bytes.CopyTo(t.HostBytes());
            }
            else
            {
                t.Buffer!.Write(t.Offset, bytes);
            }
        }
    }
}
