using Weft.Models.Templates;

namespace Weft.Models.Tests.Templates;

/// <summary>
/// Real chat templates as the models publish them (tokenizer_config.json / GGUF tokenizer.chat_template), rendered and
/// compared with the prompt format each model card documents, derived by hand.
/// </summary>
public class ChatTemplateTests
{
    private static readonly ChatMessage[] s_conversation =
    [
        new("system", "You are terse."),
        new("user", "Hi there"),
        new("assistant", "Hello."),
        new("user", "What is 2+2?"),
    ];

    private static readonly ChatMessage[] s_noSystem =
    [
        new("user", "Hi there"),
        new("assistant", "Hello."),
        new("user", "What is 2+2?"),
    ];

    private const string Llama2 =
        "{% if messages[0]['role'] == 'system' %}{% set loop_messages = messages[1:] %}{% set system_message = messages[0]['content'] %}{% else %}{% set loop_messages = messages %}{% set system_message = false %}{% endif %}{% for message in loop_messages %}{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}{% if loop.index0 == 0 and system_message != false %}{% set content = '<<SYS>>\\n' + system_message + '\\n<</SYS>>\\n\\n' + message['content'] %}{% else %}{% set content = message['content'] %}{% endif %}{% if message['role'] == 'user' %}{{ bos_token + '[INST] ' + content.strip() + ' [/INST]' }}{% elif message['role'] == 'assistant' %}{{ ' '  + content.strip() + ' ' + eos_token }}{% endif %}{% endfor %}";

    private const string Llama3 =
        "{% set loop_messages = messages %}{% for message in loop_messages %}{% set content = '<|start_header_id|>' + message['role'] + '<|end_header_id|>\\n\\n'+ message['content'] | trim + '<|eot_id|>' %}{% if loop.index0 == 0 %}{% set content = bos_token + content %}{% endif %}{{ content }}{% endfor %}{% if add_generation_prompt %}{{ '<|start_header_id|>assistant<|end_header_id|>\\n\\n' }}{% endif %}";

    private const string ChatMlQwen2 =
        "{% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}{{ '<|im_start|>system\\nYou are a helpful assistant.<|im_end|>\\n' }}{% endif %}{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";

    private const string Mistral =
        "{{ bos_token }}{% for message in messages %}{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}{% if message['role'] == 'user' %}{{ '[INST] ' + message['content'] + ' [/INST]' }}{% elif message['role'] == 'assistant' %}{{ message['content'] + eos_token}}{% else %}{{ raise_exception('Only user and assistant roles are supported!') }}{% endif %}{% endfor %}";

    private const string Phi3 =
        "{{ bos_token }}{% for message in messages %}{% if (message['role'] == 'user') %}{{'<|user|>' + '\\n' + message['content'] + '<|end|>' + '\\n' + '<|assistant|>' + '\\n'}}{% elif (message['role'] == 'assistant') %}{{message['content'] + '<|end|>' + '\\n'}}{% endif %}{% endfor %}";

    private const string Gemma =
        "{{ bos_token }}{% if messages[0]['role'] == 'system' %}{{ raise_exception('System role not supported') }}{% endif %}{% for message in messages %}{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}{% if (message['role'] == 'assistant') %}{% set role = 'model' %}{% else %}{% set role = message['role'] %}{% endif %}{{ '<start_of_turn>' + role + '\\n' + message['content'] | trim + '<end_of_turn>\\n' }}{% endfor %}{% if add_generation_prompt %}{{'<start_of_turn>model\\n'}}{% endif %}";

    // Zephyr's template is written over several lines and relies on trim_blocks/lstrip_blocks.
    private const string Zephyr =
        "{% for message in messages %}\n{% if message['role'] == 'user' %}\n{{ '<|user|>\\n' + message['content'] + eos_token }}\n{% elif message['role'] == 'system' %}\n{{ '<|system|>\\n' + message['content'] + eos_token }}\n{% elif message['role'] == 'assistant' %}\n{{ '<|assistant|>\\n'  + message['content'] + eos_token }}\n{% endif %}\n{% if loop.last and add_generation_prompt %}\n{{ '<|assistant|>' }}\n{% endif %}\n{% endfor %}";

    [Test]
    public void Llama2SystemIsFoldedIntoFirstUserTurn()
    {
        var t = new ChatTemplate(Llama2, "<s>", "</s>");
        Assert.That(t.Render(s_conversation, addGenerationPrompt: true), Is.EqualTo(
            "<s>[INST] <<SYS>>\nYou are terse.\n<</SYS>>\n\nHi there [/INST] Hello. </s><s>[INST] What is 2+2? [/INST]"));
    }

    [Test]
    public void Llama2RejectsNonAlternatingRoles()
    {
        var t = new ChatTemplate(Llama2, "<s>", "</s>");
        var ex = Assert.Throws<TemplateException>(() => t.Render([new("user", "a"), new("user", "b")], true));
        Assert.That(ex!.Message, Does.Contain("Conversation roles must alternate"));
    }

    [Test]
    public void Llama3HeadersAndGenerationPrompt()
    {
        var t = new ChatTemplate(Llama3, "<|begin_of_text|>", "<|eot_id|>");
        Assert.That(t.Render(s_conversation, addGenerationPrompt: true), Is.EqualTo(
            "<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nYou are terse.<|eot_id|>" +
            "<|start_header_id|>user<|end_header_id|>\n\nHi there<|eot_id|>" +
            "<|start_header_id|>assistant<|end_header_id|>\n\nHello.<|eot_id|>" +
            "<|start_header_id|>user<|end_header_id|>\n\nWhat is 2+2?<|eot_id|>" +
            "<|start_header_id|>assistant<|end_header_id|>\n\n"));
        Assert.That(t.Render([new("user", "  padded  ")], addGenerationPrompt: false), Is.EqualTo(
            "<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\npadded<|eot_id|>"));
    }

    [Test]
    public void ChatMlAddsDefaultSystemOnlyWhenMissing()
    {
        var t = new ChatTemplate(ChatMlQwen2, "", "<|im_end|>");
        Assert.That(t.Render(s_noSystem, addGenerationPrompt: true), Is.EqualTo(
            "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n" +
            "<|im_start|>user\nHi there<|im_end|>\n<|im_start|>assistant\nHello.<|im_end|>\n" +
            "<|im_start|>user\nWhat is 2+2?<|im_end|>\n<|im_start|>assistant\n"));
        Assert.That(t.Render(s_conversation, addGenerationPrompt: false), Does.StartWith("<|im_start|>system\nYou are terse.<|im_end|>\n<|im_start|>user\n"));
    }

    [Test]
    public void MistralInstructFormat()
    {
        var t = new ChatTemplate(Mistral, "<s>", "</s>");
        Assert.That(t.Render(s_noSystem, addGenerationPrompt: true), Is.EqualTo(
            "<s>[INST] Hi there [/INST]Hello.</s>[INST] What is 2+2? [/INST]"));
        var ex = Assert.Throws<TemplateException>(() => t.Render(s_conversation, true));
        Assert.That(ex!.Message, Does.Contain("Conversation roles must alternate"));
    }

    [Test]
    public void Phi3Format()
    {
        var t = new ChatTemplate(Phi3, "<s>", "<|endoftext|>");
        Assert.That(t.Render(s_noSystem, addGenerationPrompt: true), Is.EqualTo(
            "<s><|user|>\nHi there<|end|>\n<|assistant|>\nHello.<|end|>\n<|user|>\nWhat is 2+2?<|end|>\n<|assistant|>\n"));
    }

    [Test]
    public void GemmaRenamesAssistantToModelAndRejectsSystem()
    {
        var t = new ChatTemplate(Gemma, "<bos>", "<eos>");
        Assert.That(t.Render(s_noSystem, addGenerationPrompt: true), Is.EqualTo(
            "<bos><start_of_turn>user\nHi there<end_of_turn>\n<start_of_turn>model\nHello.<end_of_turn>\n" +
            "<start_of_turn>user\nWhat is 2+2?<end_of_turn>\n<start_of_turn>model\n"));
        var ex = Assert.Throws<TemplateException>(() => t.Render(s_conversation, true));
        Assert.That(ex!.Message, Does.Contain("System role not supported"));
    }

    [Test]
    public void ZephyrMultiLineTemplateUsesTrimAndLstripBlocks()
    {
        var t = new ChatTemplate(Zephyr, "<s>", "</s>");
        Assert.That(t.Render(s_conversation, addGenerationPrompt: true), Is.EqualTo(
            "<|system|>\nYou are terse.</s>\n<|user|>\nHi there</s>\n<|assistant|>\nHello.</s>\n<|user|>\nWhat is 2+2?</s>\n<|assistant|>\n"));
    }
}
