using Weft.Core;
using Weft.Core.Gguf;
using Weft.Models.Llama;
using Weft.Models.Sampling;

namespace Weft.Cli.Commands;

/// <summary>Options shared by the verbs that run a model (generate, chat, perplexity, bench).</summary>
internal sealed record ModelArgs(string Model, string? Tokenizer, ContextParams Context, GgufLoadMode? Load = null)
{
    public const string Usage =
        "  -m, --model FILE        GGUF model, or llama2.c .bin (tokenizer: --tokenizer or tokenizer.bin/tok{N}.bin beside it)\n" +
        "      --tokenizer FILE    llama2.c tokenizer.bin for a .bin model\n" +
        "  -t, --threads N         CPU threads (default: all cores)\n" +
        "  -c, --ctx N             context length in tokens (default: the model's, at most 4096)\n" +
        "  -b, --batch N           prompt tokens per evaluation batch (default 512)\n" +
        "      --kv-type T         KV cache type: f16 (default), f32, q8_0\n" +
        "      --backend B         auto (default), cpu or vulkan\n" +
        "      --mmap, --no-mmap   map the GGUF file / read it into memory (default: read when it takes at most half the available memory)";

    public static ModelArgs Parse(CliArgs a)
    {
        string model = a.Required("-m", "--model");
        string? tok = a.Option("--tokenizer");
        int threads = a.Int(0, 1, 1024, "-t", "--threads");
        int ctx = a.Int(0, 1, 1 << 20, "-c", "--ctx");
        int batch = a.Int(512, 1, 1 << 16, "-b", "--batch");
        string kv = a.Option("--kv-type") ?? "f16";
        if (!TypeTraits.TryParse(kv, out DType kvType) || kvType is not (DType.F16 or DType.F32 or DType.Q8_0))
        {
            throw new CliUsageException($"--kv-type must be f16, f32 or q8_0, not '{kv}'");
        }
        string be = a.Option("--backend") ?? "auto";
        BackendChoice backend = be switch
        {
            "auto" => BackendChoice.Auto,
            "cpu" => BackendChoice.Cpu,
            "vulkan" => BackendChoice.Vulkan,
            _ => throw new CliUsageException($"--backend must be auto, cpu or vulkan, not '{be}'"),
        };
        bool mmap = a.Flag("--mmap"), noMmap = a.Flag("--no-mmap");
        if (mmap && noMmap)
        {
            throw new CliUsageException("--mmap and --no-mmap exclude each other");
        }
        GgufLoadMode? load = mmap ? GgufLoadMode.Map : noMmap ? GgufLoadMode.Read : null;
        return new ModelArgs(model, tok, new ContextParams { ContextSize = ctx, BatchSize = batch, KvType = kvType, Threads = threads, Backend = backend }, load);
    }

    public const string SamplingUsage =
        "  -n, --n-predict N       tokens to generate (default 128; -1: until EOS or the context is full)\n" +
        "      --temp T            temperature (default 0.8; 0 = greedy)\n" +
        "      --top-k K           top-k (default 40; 0 = off)\n" +
        "      --top-p P           top-p (default 0.95; 1 = off)\n" +
        "      --min-p P           min-p (default 0.05; 0 = off)\n" +
        "      --typical P         locally typical sampling (default 1 = off)\n" +
        "      --repeat-penalty R  repetition penalty (default 1.0 = off)\n" +
        "      --repeat-last-n N   penalty window (default 64)\n" +
        "      --frequency-penalty F, --presence-penalty P\n" +
        "  -s, --seed S            RNG seed (default: random)\n" +
        "      --stop S            stop string (repeatable)\n" +
        "      --context-shift     on a full context keep the start and the newer half, and go on";

    public static GenerationParams ParseGeneration(CliArgs a)
    {
        int n = a.Int(128, -1, int.MaxValue, "-n", "--n-predict");
        var s = new SamplingParams
        {
            Temperature = a.Float(0.8f, 0f, 100f, "--temp"),
            TopK = a.Int(40, 0, int.MaxValue, "--top-k"),
            TopP = a.Float(0.95f, 0f, 1f, "--top-p"),
            MinP = a.Float(0.05f, 0f, 1f, "--min-p"),
            TypicalP = a.Float(1f, 0f, 1f, "--typical"),
            RepeatPenalty = a.Float(1f, 0f, 100f, "--repeat-penalty"),
            PenaltyLastN = a.Int(64, -1, int.MaxValue, "--repeat-last-n"),
            FrequencyPenalty = a.Float(0f, -100f, 100f, "--frequency-penalty"),
            PresencePenalty = a.Float(0f, -100f, 100f, "--presence-penalty"),
        };
        string? seed = a.Option("-s", "--seed");
        if (seed is not null)
        {
            if (!uint.TryParse(seed, out uint sv))
            {
                throw new CliUsageException($"--seed must be a non-negative 32-bit integer, not '{seed}'");
            }
            s = s with { Seed = sv };
        }
        if (s.TopP <= 0f)
        {
            throw new CliUsageException("--top-p must be in (0, 1]");
        }
        if (s.RepeatPenalty <= 0f)
        {
            throw new CliUsageException("--repeat-penalty must be positive");
        }
        if (s.TypicalP <= 0f)
        {
            throw new CliUsageException("--typical must be in (0, 1]");
        }
        return new GenerationParams
        {
            MaxTokens = n,
            Sampling = s,
            Stop = a.Options("--stop"),
            ContextShift = a.Flag("--context-shift"),
        };
    }
}
