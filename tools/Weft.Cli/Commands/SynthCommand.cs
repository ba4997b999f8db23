using System.Diagnostics;
using System.Globalization;
using Spectre.Console;
using Weft.Core;
using Weft.Core.Gguf;
using Weft.Models.Synth;

namespace Weft.Cli.Commands;

/// <summary>
/// <c>weft synth</c>: writes a deterministic synthetic Llama model (real llama.cpp tensor names and shapes, random
/// normal weights, a real vocabulary) for tests and benchmarks where real weights are unavailable.
/// </summary>
[Verb("synth", "Generate a deterministic synthetic Llama GGUF (random weights, real shapes and vocabulary)", Usage = """
    Usage: weft synth --preset tiny|135m|1b --seed N -o FILE [--arch llama] [--type f32|f16|bf16]
                      [--scale S] [--vocab VOCAB.gguf]

      --preset   tiny  n_embd 64, 2 layers, 4 heads, 2 KV heads, n_ff 128
                 135m  n_embd 576, 30 layers, 9 heads, 3 KV heads, n_ff 1536
                 1b    n_embd 2048, 16 layers, 32 heads, 8 KV heads, n_ff 8192
      --seed     seed of the weights (same seed, same options: byte-identical file)
      -o         output file (written atomically)
      --arch     architecture (only llama)
      --type     type of the weight matrices (default f32; norms are f32). Quantize later with 'weft quantize'.
      --scale    standard deviation of the weights (default 0.02)
      --vocab    GGUF whose tokenizer.ggml.* keys are copied (default
                 $WEFT_ASSETS/tokenizers/llamacpp/ggml-vocab-llama-spm.gguf, 32000 tokens)
    """)]
public sealed class SynthCommand : ICommand
{
    /// <summary>The default vocabulary, relative to the assets folder.</summary>
    public const string DefaultVocab = "tokenizers/llamacpp/ggml-vocab-llama-spm.gguf";

    /// <inheritdoc/>
    public Task<int> RunAsync(CliArgs args, CancellationToken cancellationToken)
    {
        string arch = args.Option("--arch") ?? "llama";
        string presetName = args.Required("--preset");
        string typeName = args.Option("--type") ?? "f32";
        float scale = args.Float(0.02f, 1e-12f, 1e6f, "--scale");
        string seedText = args.Required("--seed");
        string? vocabPath = args.Option("--vocab");
        string output = args.Required("-o", "--output");
        List<string> pos = args.Positionals();
        args.EnsureAllUsed();
        if (pos.Count > 0)
        {
            throw new CliUsageException($"unexpected argument '{pos[0]}'");
        }
        if (arch != "llama")
        {
            throw new CliUsageException($"--arch {arch} is not supported (only llama)");
        }
        SynthPreset preset = SynthPreset.All.FirstOrDefault(p => p.Name == presetName)
            ?? throw new CliUsageException($"--preset must be one of {string.Join(", ", SynthPreset.All.Select(p => p.Name))}, not '{presetName}'");
        if (!TypeTraits.TryParse(typeName, out DType type) || type is not (DType.F32 or DType.F16 or DType.BF16))
        {
            throw new CliUsageException($"--type must be f32, f16 or bf16, not '{typeName}' (quantize afterwards with 'weft quantize')");
        }
        if (!ulong.TryParse(seedText, NumberStyles.Integer, CultureInfo.InvariantCulture, out ulong seed))
        {
            throw new CliUsageException($"--seed must be a non-negative integer, not '{seedText}'");
        }
        vocabPath ??= FindDefaultVocab()
            ?? throw new CliUsageException($"no --vocab given and {DefaultVocab} was not found under $WEFT_ASSETS or a shared/assets folder above the current directory");

        GgufFile vocab;
        try
        {
            vocab = GgufFile.Open(vocabPath);
        }
        catch (GgufFormatException ex)
        {
            Console.Error.WriteLine($"weft synth: vocabulary: {ex.Message}");
            return Task.FromResult(1);
        }
        using (vocab)
        {
            var options = new SynthOptions { Preset = preset, Seed = seed, Scale = scale, WeightType = type };
            GgufWriter writer = SyntheticLlama.Create(options, vocab);
            long total = writer.TensorBytes;
            var sw = Stopwatch.StartNew();
            IAnsiConsole err = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error) });
            if (total >= 64L << 20 && !Console.IsErrorRedirected)
            {
                err.Progress()
                    .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn())
                    .Start(ctx =>
                    {
                        ProgressTask task = ctx.AddTask($"synth {preset.Name} {typeName}", maxValue: total);
                        writer.Progress = (name, done, all) =>
                        {
                            cancellationToken.ThrowIfCancellationRequested();
                            task.Value = done;
                            task.Description = Markup.Escape(name);
                        };
                        writer.Write(output);
                    });
            }
            else
            {
                writer.Progress = (_, _, _) => cancellationToken.ThrowIfCancellationRequested();
                writer.Write(output);
            }
            long parameters = SyntheticLlama.Tensors(options, vocab.GetStringArray("tokenizer.ggml.tokens").Count)
                .Sum(t => t.Shape.Aggregate(1L, (a, b) => a * b));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"wrote {output}: llama {preset.Name}, {writer.TensorCount} tensors, {parameters:N0} parameters, {typeName}, {InspectCommand.HumanBytes(new FileInfo(output).Length)} in {sw.Elapsed.TotalSeconds:0.0} s"));
        }
        return Task.FromResult(0);
    }

    /// <summary>$WEFT_ASSETS/<see cref="DefaultVocab"/>, else the first <c>shared/assets/</c><see cref="DefaultVocab"/> above the current directory or the executable.</summary>
    internal static string? FindDefaultVocab()
    {
        string? env = Environment.GetEnvironmentVariable("WEFT_ASSETS");
        if (!string.IsNullOrEmpty(env))
        {
            string p = Path.Combine(env, DefaultVocab);
            return File.Exists(p) ? p : null;
        }
        foreach (string start in new[] { Environment.CurrentDirectory, AppContext.BaseDirectory })
        {
            for (string? dir = start; dir is not null; dir = Path.GetDirectoryName(dir))
            {
                string p = Path.Combine(dir, "shared", "assets", DefaultVocab);
                if (File.Exists(p))
                {
                    return p;
                }
            }
        }
        return null;
    }
}
