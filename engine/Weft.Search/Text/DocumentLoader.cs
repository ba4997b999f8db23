using System.Text.Json;
using Markdig;
using Markdig.Syntax;
using Markdig.Syntax.Inlines;

namespace Weft.Search.Text;

/// <summary>
/// Reads documents for indexing: <c>.txt</c> (one document), <c>.md</c>/<c>.markdown</c> (one document with heading
/// sections found by Markdig), <c>.jsonl</c> (one document per line: a JSON object with a string <c>"text"</c>; its
/// other scalar fields become metadata, <c>"id"</c> names the record). Directories are searched recursively for
/// those extensions, in ordinal path order.
/// </summary>
public static class DocumentLoader
{
    private static readonly string[] s_extensions = [".txt", ".md", ".markdown", ".jsonl"];

    /// <summary>The documents in the files and directories of <paramref name="paths"/>.</summary>
    /// <exception cref="FileNotFoundException">A path does not exist.</exception>
    /// <exception cref="InvalidDataException">Unsupported extension, or a JSONL line that is not an object with a string "text" (file and line named).</exception>
    public static IEnumerable<SourceDocument> Load(IEnumerable<string> paths)
    {
        foreach (string path in paths)
        {
            if (Directory.Exists(path))
            {
                IEnumerable<string> files = Directory.EnumerateFiles(path, "*", SearchOption.AllDirectories)
                    .Where(f => s_extensions.Contains(Path.GetExtension(f).ToLowerInvariant()))
                    .Order(StringComparer.Ordinal);
                foreach (string f in files)
                {
                    foreach (SourceDocument d in LoadFile(f))
                    {
                        yield return d;
                    }
                }
            }
            else if (File.Exists(path))
            {
                foreach (SourceDocument d in LoadFile(path))
                {
                    yield return d;
                }
            }
            else
            {
                throw new FileNotFoundException($"document path not found: {path}", path);
            }
        }
    }

    /// <summary>The documents of one file, by extension.</summary>
    public static IEnumerable<SourceDocument> LoadFile(string path)
    {
        string ext = Path.GetExtension(path).ToLowerInvariant();
        return ext switch
        {
            ".txt" => [SourceDocument.Plain(path, File.ReadAllText(path))],
            ".md" or ".markdown" => [ParseMarkdown(path, File.ReadAllText(path))],
            ".jsonl" => ReadJsonLines(path),
            _ => throw new InvalidDataException($"{path}: unsupported document type '{ext}' (use .txt, .md or .jsonl)"),
        };
    }

    /// <summary>A Markdown document split into heading sections (ATX and setext headings, code blocks ignored).</summary>
    public static SourceDocument ParseMarkdown(string source, string markdown)
    {
        MarkdownDocument doc = Markdown.Parse(markdown);
        var sections = new List<DocumentSection>();
        var path = new List<(int Level, string Title)>();
        int sectionStart = 0;
        IReadOnlyList<string> current = [];
        foreach (HeadingBlock h in doc.Descendants<HeadingBlock>())
        {
            int start = h.Span.Start;
            if (start > sectionStart)
            {
                sections.Add(new DocumentSection(sectionStart, start, current));
            }
            while (path.Count > 0 && path[^1].Level >= h.Level)
            {
                path.RemoveAt(path.Count - 1);
            }
            path.Add((h.Level, InlineText(h.Inline)));
            current = path.Select(p => p.Title).ToArray();
            sectionStart = start;
        }
        if (markdown.Length > sectionStart || sections.Count == 0)
        {
            sections.Add(new DocumentSection(sectionStart, markdown.Length, current));
        }
        return new SourceDocument(source, markdown, sections, new Dictionary<string, string>());
    }

    private static string InlineText(ContainerInline? inline)
    {
        if (inline is null)
        {
            return "";
        }
        var sb = new System.Text.StringBuilder();
        foreach (Inline i in inline.Descendants<Inline>())
        {
            switch (i)
            {
                case LiteralInline l:
                    sb.Append(l.Content.ToString());
                    break;
                case CodeInline c:
                    sb.Append(c.Content);
                    break;
            }
        }
        return sb.ToString().Trim();
    }

    private static IEnumerable<SourceDocument> ReadJsonLines(string path)
    {
        int lineNo = 0;
        foreach (string line in File.ReadLines(path))
        {
            lineNo++;
            if (string.IsNullOrWhiteSpace(line))
            {
                continue;
            }
            JsonDocument json;
            try
            {
                json = JsonDocument.Parse(line);
            }
            catch (JsonException ex)
            {
                throw new InvalidDataException($"{path}:{lineNo}: not valid JSON: {ex.Message}", ex);
            }
            using (json)
            {
                if (json.RootElement.ValueKind != JsonValueKind.Object
                    || !json.RootElement.TryGetProperty("text", out JsonElement text) || text.ValueKind != JsonValueKind.String)
                {
                    throw new InvalidDataException($"{path}:{lineNo}: each line must be a JSON object with a string \"text\" field");
                }
                var meta = new Dictionary<string, string>();
                foreach (JsonProperty p in json.RootElement.EnumerateObject())
                {
                    if (p.Name != "text" && p.Value.ValueKind is JsonValueKind.String or JsonValueKind.Number or JsonValueKind.True or JsonValueKind.False)
                    {
                        meta[p.Name] = p.Value.ValueKind == JsonValueKind.String ? p.Value.GetString()! : p.Value.GetRawText();
                    }
                }
                string source = meta.TryGetValue("id", out string? id) ? $"{path}#{id}" : $"{path}#{lineNo}";
                string t = text.GetString()!;
                yield return new SourceDocument(source, t, [new DocumentSection(0, t.Length, [])], meta);
            }
        }
    }
}
