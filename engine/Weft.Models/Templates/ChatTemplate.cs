namespace Weft.Models.Templates;

/// <summary>One chat turn.</summary>
/// <param name="Role">system, user, assistant or tool.</param>
/// <param name="Content">The text.</param>
public sealed record ChatMessage(string Role, string Content);

/// <summary>
/// A model's chat template (GGUF <c>tokenizer.chat_template</c> or a tokenizer_config.json <c>chat_template</c>),
/// rendered the way Hugging Face's <c>apply_chat_template</c> does: Jinja with trim_blocks and lstrip_blocks, the
/// variables <c>messages</c>, <c>add_generation_prompt</c>, <c>bos_token</c>, <c>eos_token</c> and optional extras.
/// </summary>
public sealed class ChatTemplate
{
    private readonly JinjaTemplate _template;

    /// <summary>Compiles <paramref name="source"/>.</summary>
    /// <exception cref="TemplateException">The template does not parse.</exception>
    public ChatTemplate(string source, string bosToken = "", string eosToken = "")
    {
        Source = source;
        BosToken = bosToken;
        EosToken = eosToken;
        _template = JinjaTemplate.Parse(source);
    }

    /// <summary>The template text.</summary>
    public string Source { get; }
    /// <summary>Text of the BOS token, passed as <c>bos_token</c>.</summary>
    public string BosToken { get; }
    /// <summary>Text of the EOS token, passed as <c>eos_token</c>.</summary>
    public string EosToken { get; }

    /// <summary>Renders a conversation.</summary>
    /// <param name="messages">The turns so far.</param>
    /// <param name="addGenerationPrompt">Append the header that opens the assistant's reply.</param>
    /// <param name="extra">Further variables (tools, date_string, ...).</param>
    /// <exception cref="TemplateException">The template raised an exception (e.g. roles not alternating) or failed.</exception>
    public string Render(IEnumerable<ChatMessage> messages, bool addGenerationPrompt, IReadOnlyDictionary<string, object?>? extra = null)
    {
        var vars = new Dictionary<string, object?>
        {
            ["messages"] = messages.Select(m => new Dictionary<string, object?> { ["role"] = m.Role, ["content"] = m.Content }).ToList(),
            ["add_generation_prompt"] = addGenerationPrompt,
            ["bos_token"] = BosToken,
            ["eos_token"] = EosToken,
        };
        if (extra is not null)
        {
            foreach (KeyValuePair<string, object?> kv in extra)
            {
                vars[kv.Key] = kv.Value;
            }
        }
        return _template.Render(vars);
    }
}
