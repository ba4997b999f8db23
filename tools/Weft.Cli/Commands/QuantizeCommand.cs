using System.Globalization;
using Spectre.Console;
using Weft.Core;
using Weft.Models.Quantization;

namespace Weft.Cli.Commands;

/// <summary><c>weft quantize</c>: converts a GGUF model to another weight type, choosing per-tensor types as llama-quantize does.</summary>
[Verb("quantize", "Quantize a GGUF model (q8_0, q4_k_m, ...) with llama.cpp's reference quantizers and type mixes", Usage = """
    Usage: weft quantize IN.gguf OUT.gguf TYPE [--threads N] [--allow-requantize] [--verbose]

      TYPE                f32, f16, bf16, q8_0, q4_0, q4_1, q5_0, q5_1, q4_k_s, q4_k_m, q4_k (= q4_k_m),
                          q5_k_s, q5_k_m, q5_k (= q5_k_m), q6_k
      --threads N         worker threads (default: all cores)
      --allow-requantize  dequantize already-quantized tensors and quantize them again (quality loss compounds)
      --verbose           print every tensor's decision

    Norms and other 1-D tensors stay f32; output.weight gets q6_k (q8_0 when its rows are not whole blocks);
    rows that are not whole blocks fall back q4_k->q5_0, q5_k->q5_1, q6_k->q8_0, then f16.
    Blocks come from ggml's reference quantizers, the path llama-quantize takes without an imatrix.
    Unlike llama-quantize, rows that fit no block of a 32-weight type fall back to f16 instead of failing.
    """)]
public sealed class QuantizeCommand : ICommand
{
    /// <inheritdoc/>
    public Task<int> RunAsync(CliArgs args, CancellationToken cancellationToken)
    {
        int threads = args.Int(Environment.ProcessorCount, 1, 1024, "--threads", "-t");
        bool allowRequantize = args.Flag("--allow-requantize");
        bool verbose = args.Flag("--verbose", "-v");
        List<string> pos = args.Positionals();
        args.EnsureAllUsed();
        if (pos.Count != 3)
        {
            throw new CliUsageException(pos.Count < 3
                ? "expected IN.gguf OUT.gguf TYPE"
                : $"unexpected argument '{pos[3]}'");
        }
        string input = pos[0], output = pos[1];
        if (!QuantizationTarget.TryParse(pos[2], out QuantizationTarget target))
        {
            throw new CliUsageException($"unknown type '{pos[2]}'. Valid types: {QuantizationTarget.ValidNames}");
        }
        if (!File.Exists(input))
        {
            Console.Error.WriteLine($"weft quantize: error: cannot read input model '{input}': file not found");
            return Task.FromResult(1);
        }

        var options = new QuantizeOptions { Threads = threads, AllowRequantize = allowRequantize };
        IAnsiConsole err = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error) });
        QuantizeResult result;
        if (!Console.IsErrorRedirected)
        {
            QuantizeResult? r = null;
            err.Progress()
                .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn(), new RemainingTimeColumn())
                .Start(ctx =>
                {
                    ProgressTask task = ctx.AddTask($"quantize {target.Name}", maxValue: 1);
                    var progress = new DirectProgress<QuantizeProgress>(p =>
                    {
                        task.MaxValue = Math.Max(1, p.ElementsTotal);
                        task.Value = p.ElementsDone;
                        task.Description = Markup.Escape($"{p.Tensor.Name} -> {TypeTraits.Of(p.Tensor.TargetType).Name}");
                    });
                    r = ModelQuantizer.Run(input, output, target, options, progress, cancellationToken);
                });
            result = r!;
        }
        else
        {
            result = ModelQuantizer.Run(input, output, target, options, null, cancellationToken);
        }

        foreach (string w in result.Warnings)
        {
            Console.Error.WriteLine($"warning: {w}");
        }
        if (verbose)
        {
            foreach (TensorPlan p in result.Plans)
            {
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"  {p.Name,-40} [{string.Join(", ", p.Shape)}] {TypeTraits.Of(p.SourceType).Name} -> {TypeTraits.Of(p.TargetType).Name}{(p.Note is null ? "" : "  (" + p.Note + ")")}"));
            }
        }
        string mix = string.Join(", ", result.Plans.GroupBy(p => p.TargetType).OrderBy(g => (int)g.Key)
            .Select(g => $"{TypeTraits.Of(g.Key).Name} x{g.Count()}"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"wrote {output}: {target.Name} (file type {(int)target.FileType}), {result.Plans.Count} tensors ({mix}), " +
            $"{InspectCommand.HumanBytes(result.InputBytes)} -> {InspectCommand.HumanBytes(result.OutputBytes)} in {result.Elapsed.TotalSeconds:0.00} s"));
        return Task.FromResult(0);
    }

    // Progress<T> posts to a synchronization context; the bar must update on the quantizing thread.
    private sealed class DirectProgress<T>(Action<T> report) : IProgress<T>
    {
        public void Report(T value) => report(value);
    }
}
