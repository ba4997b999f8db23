using System.Buffers.Binary;

namespace Weft.Core.Quants;

// The 32-weight formats. Block layouts: see QuantBlocks.cs (BlockQ4_0 ... BlockQ8_1).
public static partial class Quantize
{
    private const int Qk = QK.Simple;

    /// <summary>Q4_0: d = max / -8 where max is the signed value of largest magnitude; q = min(15, trunc(x/d + 8.5)).</summary>
    /// <exception cref="ArgumentException">The lengths do not fit whole blocks.</exception>
    public static void RowQ4_0(ReadOnlySpan<float> src, Span<byte> dst)
    {
        int nb = CheckSizes(DType.Q4_0, src.Length, dst.Length);
        for (int i = 0; i < nb; i++)
        {
            ReadOnlySpan<float> x = src.Slice(i * Qk, Qk);
            Span<byte> y = dst.Slice(i * 18, 18);
            float amax = 0f, max = 0f;
            for (int j = 0; j < Qk; j++)
            {
                float v = x[j];
                if (amax < MathF.Abs(v))
                {
                    amax = MathF.Abs(v);
                    max = v;
                }
            }
            float d = max / -8;
            float id = d != 0 ? 1.0f / d : 0.0f;
            WriteHalf(y, d);
            for (int j = 0; j < Qk / 2; ++j)
            {
                float x0 = x[j] * id;
                float x1 = x[Qk / 2 + j] * id;
                int xi0 = Math.Min(15, (int)(sbyte)(int)(x0 + 8.5f));
                int xi1 = Math.Min(15, (int)(sbyte)(int)(x1 + 8.5f));
                y[2 + j] = (byte)(xi0 | (xi1 << 4));
            }
        }
    }

    /// <summary>Q4_1: d = (max - min) / 15, m = min; q = min(15, trunc((x - min)/d + 0.5)).</summary>
    /// <exception cref="ArgumentException">The lengths do not fit whole blocks.</exception>
    public static void RowQ4_1(ReadOnlySpan<float> src, Span<byte> dst)
    {
        int nb = CheckSizes(DType.Q4_1, src.Length, dst.Length);
        for (int i = 0; i < nb; i++)
        {
            ReadOnlySpan<float> x = src.Slice(i * Qk, Qk);
            Span<byte> y = dst.Slice(i * 20, 20);
            MinMax(x, out float min, out float max);
            float d = (max - min) / ((1 << 4) - 1);
            float id = d != 0 ? 1.0f / d : 0.0f;
            WriteHalf(y, d);
            WriteHalf(y[2..], min);
            for (int j = 0; j < Qk / 2; ++j)
            {
                float x0 = (x[j] - min) * id;
                float x1 = (x[Qk / 2 + j] - min) * id;
                int xi0 = Math.Min(15, (int)(sbyte)(int)(x0 + 0.5f));
                int xi1 = Math.Min(15, (int)(sbyte)(int)(x1 + 0.5f));
                y[4 + j] = (byte)(xi0 | (xi1 << 4));
            }
        }
    }

    /// <summary>Q5_0: d = max / -16; q = min(31, trunc(x/d + 16.5)); fifth bits gathered into a 32-bit mask.</summary>
    /// <exception cref="ArgumentException">The lengths do not fit whole blocks.</exception>
    public static void RowQ5_0(ReadOnlySpan<float> src, Span<byte> dst)
    {
        int nb = CheckSizes(DType.Q5_0, src.Length, dst.Length);
        for (int i = 0; i < nb; i++)
        {
            ReadOnlySpan<float> x = src.Slice(i * Qk, Qk);
            Span<byte> y = dst.Slice(i * 22, 22);
            float amax = 0f, max = 0f;
            for (int j = 0; j < Qk; j++)
            {
                float v = x[j];
                if (amax < MathF.Abs(v))
                {
                    amax = MathF.Abs(v);
                    max = v;
                }
            }
            float d = max / -16;
            float id = d != 0 ? 1.0f / d : 0.0f;
            WriteHalf(y, d);
            uint qh = 0;
            for (int j = 0; j < Qk / 2; ++j)
            {
                float x0 = x[j] * id;
                float x1 = x[Qk / 2 + j] * id;
                uint xi0 = (byte)Math.Min(31, (int)(sbyte)(int)(x0 + 16.5f));
                uint xi1 = (byte)Math.Min(31, (int)(sbyte)(int)(x1 + 16.5f));
                y[6 + j] = (byte)((xi0 & 0x0F) | ((xi1 & 0x0F) << 4));
                qh |= ((xi0 & 0x10u) >> 4) << j;
                qh |= ((xi1 & 0x10u) >> 4) << (j + Qk / 2);
            }
            BinaryPrimitives.WriteUInt32LittleEndian(y[2..], qh);
        }
    }

    /// <summary>Q5_1: d = (max - min) / 31, m = min; q = trunc((x - min)/d + 0.5).</summary>
    /// <exception cref="ArgumentException">The lengths do not fit whole blocks.</exception>
    public static void RowQ5_1(ReadOnlySpan<float> src, Span<byte> dst)
    {
        int nb = CheckSizes(DType.Q5_1, src.Length, dst.Length);
        for (int i = 0; i < nb; i++)
        {
            ReadOnlySpan<float> x = src.Slice(i * Qk, Qk);
            Span<byte> y = dst.Slice(i * 24, 24);
            MinMax(x, out float min, out float max);
            float d = (max - min) / ((1 << 5) - 1);
            float id = d != 0 ? 1.0f / d : 0.0f;
            WriteHalf(y, d);
            WriteHalf(y[2..], min);
            uint qh = 0;
            for (int j = 0; j < Qk / 2; ++j)
            {
                float x0 = (x[j] - min) * id;
                float x1 = (x[Qk / 2 + j] - min) * id;
                uint xi0 = (byte)(int)(x0 + 0.5f);
                uint xi1 = (byte)(int)(x1 + 0.5f);
                y[8 + j] = (byte)((xi0 & 0x0F) | ((xi1 & 0x0F) << 4));
                qh |= ((xi0 & 0x10u) >> 4) << j;
                qh |= ((xi1 & 0x10u) >> 4) << (j + Qk / 2);
            }
            BinaryPrimitives.WriteUInt32LittleEndian(y[4..], qh);
        }
    }

    /// <summary>Q8_0: d = amax / 127; q = round(x/d), halves away from zero (C <c>roundf</c>).</summary>
    /// <exception cref="ArgumentException">The lengths do not fit whole blocks.</exception>
    public static void RowQ8_0(ReadOnlySpan<float> src, Span<byte> dst)
    {
        int nb = CheckSizes(DType.Q8_0, src.Length, dst.Length);
        for (int i = 0; i < nb; i++)
        {
            ReadOnlySpan<float> x = src.Slice(i * Qk, Qk);
            Span<byte> y = dst.Slice(i * 34, 34);
            float amax = 0f;
            for (int j = 0; j < Qk; j++)
            {
                amax = QuantMath.Max(amax, MathF.Abs(x[j]));
            }
            float d = amax / ((1 << 7) - 1);
            float id = d != 0 ? 1.0f / d : 0.0f;
            WriteHalf(y, d);
            for (int j = 0; j < Qk; ++j)
            {
                y[2 + j] = (byte)RoundToInt8(x[j] * id);
            }
        }
    }

    /// <summary>Q8_1: as Q8_0, plus s = sum(q) * d stored as f16.</summary>
    /// <exception cref="ArgumentException">The lengths do not fit whole blocks.</exception>
    public static void RowQ8_1(ReadOnlySpan<float> src, Span<byte> dst)
    {
        int nb = CheckSizes(DType.Q8_1, src.Length, dst.Length);
        for (int i = 0; i < nb; i++)
        {
            ReadOnlySpan<float> x = src.Slice(i * Qk, Qk);
            Span<byte> y = dst.Slice(i * 36, 36);
            float amax = 0f;
            for (int j = 0; j < Qk; j++)
            {
                amax = QuantMath.Max(amax, MathF.Abs(x[j]));
            }
            float d = amax / ((1 << 7) - 1);
            float id = d != 0 ? 1.0f / d : 0.0f;
            WriteHalf(y, d);
            int sum = 0;
            for (int j = 0; j < Qk; ++j)
            {
                sbyte q = RoundToInt8(x[j] * id);
                y[4 + j] = (byte)q;
                sum += q;
            }
            WriteHalf(y[2..], sum * d);
        }
    }

    private static void MinMax(ReadOnlySpan<float> x, out float min, out float max)
    {
        min = float.MaxValue;
        max = -float.MaxValue;
        for (int j = 0; j < x.Length; j++)
        {
            float v = x[j];
            if (v < min)
            {
                min = v;
            }
            if (v > max)
            {
                max = v;
            }
        }
    }

    // roundf then the implicit float -> int8 conversion of the C store; in range by construction (|x/d| <= 127).
    private static sbyte RoundToInt8(float v) => (sbyte)(int)MathF.Round(v, MidpointRounding.AwayFromZero);
}
