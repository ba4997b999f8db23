using System.Text;

namespace Weft.Tokenizers.Tests;

/// <summary>Reads llama.cpp's test-tokenizer-0 pairs: inputs split on "\n__ggml_vocab_test__\n", one line of ids per input.</summary>
internal static class LlamaCppSuite
{
    public const string Separator = "\n__ggml_vocab_test__\n";

    public static List<(string Input, int[] Expected)> Read(string inpPath, string outPath)
    {
        string raw = Encoding.UTF8.GetString(File.ReadAllBytes(inpPath));
        var inputs = new List<string>();
        int pos = 0;
        while (pos < raw.Length)
        {
            int next = raw.IndexOf(Separator, pos, StringComparison.Ordinal);
            if (next < 0)
            {
                inputs.Add(raw[pos..]);
                break;
            }
            inputs.Add(raw[pos..next]);
            pos = next + Separator.Length;
        }
        string[] lines = File.ReadAllLines(outPath, Encoding.UTF8);
        Assert.That(lines, Has.Length.EqualTo(inputs.Count), $"{outPath}: one line of ids per input");
        var cases = new List<(string, int[])>();
        for (int i = 0; i < inputs.Count; i++)
        {
            int[] ids = lines[i].Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(int.Parse).ToArray();
            cases.Add((inputs[i], ids));
        }
        return cases;
    }
}
