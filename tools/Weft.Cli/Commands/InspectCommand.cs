using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using Spectre.Console;
using Weft.Core;
using Weft.Core.Gguf;
using Weft.Models;

namespace Weft.Cli.Commands;

/// <summary>
/// <c>weft inspect FILE [--json]</c>: header, hyper-parameters, tokenizer summary, metadata and tensor table of a GGUF
/// file. A malformed file prints the <see cref="GgufFormatException"/> message and exits with 1.
/// </summary>
[Verb("inspect", "Show a GGUF file's hyper-parameters, tokenizer, metadata and tensors", Usage = """
    Usage: weft inspect FILE [--json] [--no-tensors]

      FILE          a GGUF file (v2 or v3)
      --json        machine-readable output (camelCase fields, stable order)
      --no-tensors  omit the per-tensor list (totals are still shown)
    """)]
public sealed class InspectCommand : ICommand
{
    /// <inheritdoc/>
    public Task<int> RunAsync(CliArgs args, CancellationToken cancellationToken)
    {
        bool json = args.Flag("--json");
        bool noTensors = args.Flag("--no-tensors");
        List<string> pos = args.Positionals();
        args.EnsureAllUsed();
        if (pos.Count != 1)
        {
            throw new CliUsageException(pos.Count == 0 ? "missing FILE" : $"expected one FILE, got {pos.Count}");
        }

        GgufFile file;
        try
        {
            file = GgufFile.Open(pos[0]);
        }
        catch (GgufFormatException ex)
        {
            Console.Error.WriteLine($"weft inspect: {ex.Message}");
            return Task.FromResult(1);
        }
        using (file)
        {
            ModelInfo? model = null;
            string? modelError = null;
            try
            {
                model = ModelInfo.FromGguf(file);
            }
            catch (GgufFormatException ex)
            {
                modelError = ex.Message;
            }
            ModelInfo.TokenizerSummary? tok;
            try
            {
                tok = model?.Tokenizer ?? ModelInfo.TokenizerSummary.FromGguf(file);
            }
            catch (GgufFormatException ex)
            {
                Console.Error.WriteLine($"weft inspect: {ex.Message}");
                return Task.FromResult(1);
            }

            if (json)
            {
                Console.Out.Write(ToJson(file, model, modelError, tok, !noTensors));
                Console.Out.WriteLine();
            }
            else
            {
                PrintText(file, model, modelError, tok, !noTensors);
            }
        }
        return Task.FromResult(0);
    }

    /// <summary>The <c>--json</c> document (exposed for tests).</summary>
    internal static string ToJson(GgufFile file, ModelInfo? model, string? modelError, ModelInfo.TokenizerSummary? tok, bool tensors)
    {
        using var ms = new MemoryStream();
        using (var w = new Utf8JsonWriter(ms, new JsonWriterOptions { Indented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            w.WriteStartObject();
            w.WriteString("file", file.FilePath);
            w.WriteNumber("fileSize", file.FileLength);
            w.WriteNumber("ggufVersion", file.Version);
            w.WriteNumber("alignment", file.Alignment);
            w.WriteNumber("dataOffset", file.DataOffset);
            if (file.TryGetString("general.architecture", out string? arch))
            {
                w.WriteString("architecture", arch);
            }
            else
            {
                w.WriteNull("architecture");
            }

            if (model is null)
            {
                w.WriteNull("model");
                if (modelError is not null)
                {
                    w.WriteString("modelError", modelError);
                }
            }
            else
            {
                w.WriteStartObject("model");
                WriteStringOrNull(w, "name", model.Name);
                w.WriteNumber("contextLength", model.ContextLength);
                w.WriteNumber("embeddingLength", model.EmbeddingLength);
                w.WriteNumber("blockCount", model.BlockCount);
                w.WriteNumber("feedForwardLength", model.FeedForwardLength);
                w.WriteNumber("headCount", model.HeadCount);
                w.WriteNumber("headCountKv", model.HeadCountKv);
                w.WriteNumber("headDim", model.HeadDim);
                w.WriteNumber("ropeDimensionCount", model.RopeDimensionCount);
                w.WriteNumber("ropeFreqBase", model.RopeFreqBase);
                WriteFloatOrNull(w, "rmsNormEpsilon", model.RmsNormEpsilon);
                WriteFloatOrNull(w, "layerNormEpsilon", model.LayerNormEpsilon);
                w.WriteNumber("vocabSize", model.VocabSize);
                if (model.FileType is int ft)
                {
                    w.WriteNumber("fileType", ft);
                }
                else
                {
                    w.WriteNull("fileType");
                }
                WriteStringOrNull(w, "fileTypeName", model.FileTypeName);
                w.WriteEndObject();
            }

            if (tok is null)
            {
                w.WriteNull("tokenizer");
            }
            else
            {
                w.WriteStartObject("tokenizer");
                w.WriteString("model", tok.Model);
                w.WriteNumber("tokenCount", tok.TokenCount);
                WriteLongOrNull(w, "bosTokenId", tok.BosTokenId);
                WriteLongOrNull(w, "eosTokenId", tok.EosTokenId);
                WriteLongOrNull(w, "unknownTokenId", tok.UnknownTokenId);
                WriteLongOrNull(w, "paddingTokenId", tok.PaddingTokenId);
                WriteStringOrNull(w, "preTokenizer", tok.PreTokenizer);
                w.WriteNumber("mergesCount", tok.MergesCount);
                w.WriteEndObject();
            }

            w.WriteStartArray("metadata");
            foreach (string key in file.MetadataKeys)
            {
                GgufValue v = file.Metadata[key];
                w.WriteStartObject();
                w.WriteString("key", key);
                w.WriteString("type", v.TypeName);
                if (v.IsArray)
                {
                    w.WriteNumber("count", v.Count);
                }
                w.WriteString("value", v.ToDisplayString(8));
                w.WriteEndObject();
            }
            w.WriteEndArray();

            if (tensors)
            {
                w.WriteStartArray("tensors");
                foreach (GgufTensorInfo t in file.Tensors)
                {
                    w.WriteStartObject();
                    w.WriteString("name", t.Name);
                    w.WriteString("type", TypeTraits.Of(t.Type).Name);
                    w.WriteStartArray("shape");
                    foreach (long n in t.Shape)
                    {
                        w.WriteNumberValue(n);
                    }
                    w.WriteEndArray();
                    w.WriteNumber("elements", t.ElementCount);
                    w.WriteNumber("bytes", t.ByteSize);
                    w.WriteNumber("offset", t.Offset);
                    w.WriteEndObject();
                }
                w.WriteEndArray();
            }

            w.WriteStartObject("totals");
            w.WriteNumber("tensorCount", file.Tensors.Count);
            w.WriteNumber("elements", file.Tensors.Sum(t => t.ElementCount));
            w.WriteNumber("bytes", file.Tensors.Sum(t => t.ByteSize));
            w.WriteStartObject("byType");
            foreach (var g in file.Tensors.GroupBy(t => t.Type).OrderBy(g => (int)g.Key))
            {
                w.WriteNumber(TypeTraits.Of(g.Key).Name, g.Count());
            }
            w.WriteEndObject();
            w.WriteEndObject();
            w.WriteEndObject();
        }
        return Encoding.UTF8.GetString(ms.ToArray());
    }

    private static void WriteStringOrNull(Utf8JsonWriter w, string name, string? v)
    {
        if (v is null)
        {
            w.WriteNull(name);
        }
        else
        {
            w.WriteString(name, v);
        }
    }

    private static void WriteLongOrNull(Utf8JsonWriter w, string name, long? v)
    {
        if (v is long l)
        {
            w.WriteNumber(name, l);
        }
        else
        {
            w.WriteNull(name);
        }
    }

    private static void WriteFloatOrNull(Utf8JsonWriter w, string name, float? v)
    {
        if (v is float f && float.IsFinite(f))
        {
            w.WriteNumber(name, f);
        }
        else
        {
            w.WriteNull(name);
        }
    }

    private static string Inv(IFormattable v) => v.ToString(null, CultureInfo.InvariantCulture);

    internal static string HumanBytes(long bytes)
    {
        string[] units = ["B", "KiB", "MiB", "GiB", "TiB"];
        double v = bytes;
        int u = 0;
        while (v >= 1024 && u < units.Length - 1)
        {
            v /= 1024;
            u++;
        }
        return u == 0 ? $"{bytes} B" : string.Create(CultureInfo.InvariantCulture, $"{v:0.##} {units[u]}");
    }

    private static void PrintText(GgufFile file, ModelInfo? model, string? modelError, ModelInfo.TokenizerSummary? tok, bool tensors)
    {
        IAnsiConsole con = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Out) });
        con.MarkupLine($"[bold]{Markup.Escape(file.FilePath)}[/]: GGUF v{file.Version}, {HumanBytes(file.FileLength)}, " +
            $"{file.MetadataKeys.Count} metadata keys, {file.Tensors.Count} tensors, alignment {file.Alignment}");

        var hp = new Table().Border(TableBorder.Rounded).AddColumn("hyper-parameter").AddColumn(new TableColumn("value").RightAligned());
        if (model is not null)
        {
            void Row(string k, string v) => hp.AddRow(Markup.Escape(k), Markup.Escape(v));
            Row("architecture", model.Architecture);
            if (model.Name is not null)
            {
                Row("name", model.Name);
            }
            Row("context length", Inv(model.ContextLength));
            Row("n_embd", Inv(model.EmbeddingLength));
            Row("n_layer", Inv(model.BlockCount));
            Row("n_head", Inv(model.HeadCount));
            Row("n_head_kv", Inv(model.HeadCountKv));
            Row("head dim", Inv(model.HeadDim));
            Row("n_ff", Inv(model.FeedForwardLength));
            Row("rope dims", Inv(model.RopeDimensionCount));
            Row("rope base", model.RopeFreqBase.ToString("R", CultureInfo.InvariantCulture));
            if (model.RmsNormEpsilon is float rms)
            {
                Row("rms eps", rms.ToString("R", CultureInfo.InvariantCulture));
            }
            if (model.LayerNormEpsilon is float ln)
            {
                Row("norm eps", ln.ToString("R", CultureInfo.InvariantCulture));
            }
            Row("vocab size", Inv(model.VocabSize));
            Row("file type", model.FileType is int ft ? $"{model.FileTypeName} ({ft})" : "-");
            con.Write(hp);
        }
        else
        {
            con.MarkupLine(file.Tensors.Count == 0
                ? "[grey]no model hyper-parameters (vocab-only file)[/]"
                : $"[yellow]hyper-parameters unreadable:[/] {Markup.Escape(modelError ?? "")}");
        }

        if (tok is not null)
        {
            var tt = new Table().Border(TableBorder.Rounded).AddColumn("tokenizer").AddColumn(new TableColumn("value").RightAligned());
            tt.AddRow("model", Markup.Escape(tok.Model));
            tt.AddRow("tokens", Inv(tok.TokenCount));
            tt.AddRow("bos id", tok.BosTokenId?.ToString(CultureInfo.InvariantCulture) ?? "-");
            tt.AddRow("eos id", tok.EosTokenId?.ToString(CultureInfo.InvariantCulture) ?? "-");
            tt.AddRow("unk id", tok.UnknownTokenId?.ToString(CultureInfo.InvariantCulture) ?? "-");
            tt.AddRow("pad id", tok.PaddingTokenId?.ToString(CultureInfo.InvariantCulture) ?? "-");
            tt.AddRow("pre-tokenizer", Markup.Escape(tok.PreTokenizer ?? "-"));
            tt.AddRow("merges", Inv(tok.MergesCount));
            con.Write(tt);
        }

        var meta = new Table().Border(TableBorder.Rounded).AddColumn("key").AddColumn("type").AddColumn("value");
        foreach (string key in file.MetadataKeys)
        {
            GgufValue v = file.Metadata[key];
            string text = v.ToDisplayString(4);
            if (text.Length > 80)
            {
                text = text[..77] + "...";
            }
            meta.AddRow(Markup.Escape(key), Markup.Escape(v.TypeName), Markup.Escape(text));
        }
        con.Write(meta);

        if (tensors && file.Tensors.Count > 0)
        {
            var tt = new Table().Border(TableBorder.Rounded).AddColumn("tensor").AddColumn("type").AddColumn("shape")
                .AddColumn(new TableColumn("bytes").RightAligned());
            foreach (GgufTensorInfo t in file.Tensors)
            {
                tt.AddRow(Markup.Escape(t.Name), TypeTraits.Of(t.Type).Name, Markup.Escape("[" + string.Join(", ", t.Shape) + "]"), Inv(t.ByteSize));
            }
            con.Write(tt);
        }
        string byType = string.Join(", ", file.Tensors.GroupBy(t => t.Type).OrderBy(g => (int)g.Key).Select(g => $"{g.Count()} {TypeTraits.Of(g.Key).Name}"));
        long elements = file.Tensors.Sum(t => t.ElementCount);
        long bytes = file.Tensors.Sum(t => t.ByteSize);
        con.MarkupLine($"total: {file.Tensors.Count} tensors ({Markup.Escape(byType)}), {Inv(elements)} parameters, {Inv(bytes)} bytes ({HumanBytes(bytes)})");
    }
}
