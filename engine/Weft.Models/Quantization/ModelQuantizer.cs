using System.Diagnostics;
using Weft.Core;
using Weft.Core.Gguf;
using Weft.Core.Quants;

namespace Weft.Models.Quantization;

/// <summary>Options of <see cref="ModelQuantizer.Run"/>.</summary>
public sealed record QuantizeOptions
{
    /// <summary>Worker threads for the rows of one tensor (default: processor count).</summary>
    public int Threads { get; init; } = Environment.ProcessorCount;

    /// <summary>
    /// Dequantize already-quantized tensors to F32 and quantize them again (quality loss compounds, as llama.cpp's
    /// <c>--allow-requantize</c> warns). When false such inputs are refused.
    /// </summary>
    public bool AllowRequantize { get; init; }
}

/// <summary>Progress of a model quantization: one report after each tensor.</summary>
/// <param name="Tensor">The tensor just written.</param>
/// <param name="Index">Its position (0-based) in the output.</param>
/// <param name="Count">Number of tensors.</param>
/// <param name="ElementsDone">Elements converted or copied so far.</param>
/// <param name="ElementsTotal">Elements in the model.</param>
public readonly record struct QuantizeProgress(TensorPlan Tensor, int Index, int Count, long ElementsDone, long ElementsTotal);

/// <summary>What <see cref="ModelQuantizer.Run"/> did.</summary>
/// <param name="Plans">Each tensor's decision, in output order.</param>
/// <param name="InputBytes">Tensor bytes read.</param>
/// <param name="OutputBytes">Tensor bytes written.</param>
/// <param name="Warnings">Requantization and fallback warnings.</param>
/// <param name="Elapsed">Wall time.</param>
public sealed record QuantizeResult(IReadOnlyList<TensorPlan> Plans, long InputBytes, long OutputBytes, IReadOnlyList<string> Warnings, TimeSpan Elapsed);

/// <summary>
/// Quantizes a whole GGUF model the way llama-quantize does without an importance matrix: per-tensor types from
/// <see cref="TensorTypePlanner"/>, data through the ggml reference quantizers (<see cref="Quantize"/>), every
/// metadata key copied, <c>general.file_type</c> and <c>general.quantization_version</c> set.
/// </summary>
/// <remarks>
/// <code>
/// QuantizeResult r = ModelQuantizer.Run("model-f32.gguf", "model-q4_k_m.gguf", QuantizationTarget.Parse("q4_k_m"));
/// </code>
/// Tensors are converted one at a time while the output is streamed, so memory stays near the largest tensor (F32
/// copy plus its quantized bytes). The rows of a tensor are split across <see cref="QuantizeOptions.Threads"/>.
/// </remarks>
public static class ModelQuantizer
{
    /// <summary>ggml's <c>GGML_QNT_VERSION</c>, stored as <c>general.quantization_version</c>.</summary>
    public const uint QuantizationVersion = 2;

    /// <summary>Plans the conversion of an open file without writing anything.</summary>
    /// <exception cref="ArgumentException">A MoE tensor name carries no usable layer number.</exception>
    public static IReadOnlyList<TensorPlan> Plan(GgufFile file, QuantizationTarget target)
    {
        ArgumentNullException.ThrowIfNull(file);
        ArgumentNullException.ThrowIfNull(target);
        string arch = file.TryGetString("general.architecture", out string? a) ? a : "";
        int layers = file.TryGetInt($"{arch}.block_count", out long bc) ? (int)bc : 0;
        int experts = file.TryGetInt($"{arch}.expert_count", out long ec) ? (int)ec : 0;
        if (layers == 0)
        {
            // No block_count: count the blk.N prefixes, as the layer rules need some layer count.
            layers = file.Tensors.Select(t => TensorTypePlanner.LayerOf(t.Name) ?? -1).DefaultIfEmpty(-1).Max() + 1;
        }
        return TensorTypePlanner.Plan(file.Tensors.Select(t => new PlannerTensor(t.Name, t.Type, t.Shape)), target, arch, layers, experts);
    }

    /// <summary>Quantizes <paramref name="inputPath"/> into <paramref name="outputPath"/> (written atomically).</summary>
    /// <exception cref="FileNotFoundException">The input does not exist.</exception>
    /// <exception cref="GgufFormatException">The input is not a valid GGUF file.</exception>
    /// <exception cref="InvalidOperationException">The input holds quantized tensors that would be requantized and
    /// <see cref="QuantizeOptions.AllowRequantize"/> is false, or a tensor type cannot be read.</exception>
    /// <exception cref="ArgumentException">The output path equals the input path.</exception>
    /// <exception cref="OperationCanceledException">Cancelled.</exception>
    public static QuantizeResult Run(string inputPath, string outputPath, QuantizationTarget target, QuantizeOptions? options = null,
        IProgress<QuantizeProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(inputPath);
        ArgumentException.ThrowIfNullOrEmpty(outputPath);
        ArgumentNullException.ThrowIfNull(target);
        options ??= new QuantizeOptions();
        if (string.Equals(Path.GetFullPath(inputPath), Path.GetFullPath(outputPath), StringComparison.Ordinal))
        {
            throw new ArgumentException($"The output path is the input file ({inputPath}); write to a new file.", nameof(outputPath));
        }
        if (!File.Exists(inputPath))
        {
            throw new FileNotFoundException($"Input model not found: {inputPath}", inputPath);
        }

        var sw = Stopwatch.StartNew();
        using GgufFile file = GgufFile.Open(inputPath);
        IReadOnlyList<TensorPlan> plans = Plan(file, target);
        var warnings = new List<string>();
        foreach (TensorPlan p in plans.Where(p => p.Converts))
        {
            TypeTraits src = TypeTraits.Of(p.SourceType);
            if (!Dequantize.IsSupported(p.SourceType))
            {
                throw new InvalidOperationException(
                    $"{inputPath}: tensor '{p.Name}' is {src.Name}, which Weft cannot read to convert it to {TypeTraits.Of(p.TargetType).Name}.");
            }
            if (src.IsQuantized)
            {
                if (!options.AllowRequantize)
                {
                    throw new InvalidOperationException(
                        $"{inputPath}: tensor '{p.Name}' is already quantized ({src.Name}); requantizing to {TypeTraits.Of(p.TargetType).Name} " +
                        "loses quality. Quantize from the F32/F16/BF16 model, or pass --allow-requantize to dequantize and requantize anyway.");
                }
                warnings.Add($"{p.Name}: requantizing {src.Name} -> {TypeTraits.Of(p.TargetType).Name} (dequantized to f32 first; quality loss compounds)");
            }
        }
        warnings.AddRange(plans.Where(p => p.Note is not null && p.Note.Contains("falls back", StringComparison.Ordinal))
            .Select(p => $"{p.Name}: {p.Note}"));

        GgufWriter writer = new();
        foreach (string key in file.MetadataKeys)
        {
            writer.Set(key, file.Metadata[key]);
        }
        writer.Set("general.quantization_version", GgufValue.Of(QuantizationVersion));
        writer.Set("general.file_type", GgufValue.Of((uint)target.FileType));

        long total = plans.Sum(p => p.Shape.Aggregate(1L, (x, y) => x * y));
        long done = 0;
        long inputBytes = 0;
        int index = 0;
        foreach (TensorPlan plan in plans)
        {
            GgufTensorInfo info = file.GetTensorInfo(plan.Name);
            inputBytes += info.ByteSize;
            writer.AddTensor(plan.Name, plan.TargetType, plan.Shape, stream =>
            {
                cancellationToken.ThrowIfCancellationRequested();
                if (plan.Converts)
                {
                    ConvertTensor(file, info, plan.TargetType, stream, options.Threads, cancellationToken);
                }
                else
                {
                    GgufWriter.CopyTensor(file, info, stream);
                }
                done += info.ElementCount;
                progress?.Report(new QuantizeProgress(plan, index++, plans.Count, done, total));
            });
        }
        long outputBytes = writer.TensorBytes;
        writer.Write(outputPath);
        return new QuantizeResult(plans, inputBytes, outputBytes, warnings, sw.Elapsed);
    }

    /// <summary>
    /// Converts one tensor's data to <paramref name="target"/>, row by row (rows split across threads), writing the
    /// result to <paramref name="destination"/>.
    /// </summary>
    /// <exception cref="NotSupportedException">The source or target type is not supported by <see cref="Quantize"/>/<see cref="Dequantize"/>.</exception>
    public static unsafe void ConvertTensor(GgufFile file, GgufTensorInfo info, DType target, Stream destination, int threads,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(file);
        ArgumentNullException.ThrowIfNull(info);
        ArgumentNullException.ThrowIfNull(destination);
        long ne0 = info.Ne[0];
        long rows = ne0 == 0 ? 0 : info.ElementCount / ne0;
        TypeTraits src = TypeTraits.Of(info.Type);
        TypeTraits dst = TypeTraits.Of(target);
        long srcRow = src.RowSize(ne0);
        long dstRow = dst.RowSize(ne0);
        if (ne0 > int.MaxValue / 4)
        {
            throw new NotSupportedException($"Tensor '{info.Name}' has rows of {ne0} elements; rows above {int.MaxValue / 4} are not supported.");
        }
        byte* basePtr = (byte*)file.DataPointer(info);

        // Chunks of rows bounded to ~64 MiB of output so huge tensors stream instead of being held whole.
        long rowsPerChunk = Math.Max(1, Math.Min(rows, (64L << 20) / Math.Max(1, dstRow)));
        byte[] outBuf = new byte[checked((int)(rowsPerChunk * dstRow))];
        int workers = Math.Max(1, threads);
        for (long first = 0; first < rows; first += rowsPerChunk)
        {
            cancellationToken.ThrowIfCancellationRequested();
            long n = Math.Min(rowsPerChunk, rows - first);
            long chunkFirst = first;
            Parallel.For(0, workers, new ParallelOptions { MaxDegreeOfParallelism = workers, CancellationToken = cancellationToken }, w =>
            {
                long lo = n * w / workers, hi = n * (w + 1) / workers;
                if (lo >= hi)
                {
                    return;
                }
                float[] f32 = new float[ne0];
                for (long r = lo; r < hi; r++)
                {
                    var rowSrc = new ReadOnlySpan<byte>(basePtr + (chunkFirst + r) * srcRow, (int)srcRow);
                    Dequantize.Row(info.Type, rowSrc, f32);
                    Quantize.Row(target, f32, outBuf.AsSpan((int)(r * dstRow), (int)dstRow));
                }
            });
            destination.Write(outBuf, 0, (int)(n * dstRow));
        }
    }
}
