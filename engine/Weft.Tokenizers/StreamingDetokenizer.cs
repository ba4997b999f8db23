using System.Buffers;
using System.Text;

namespace Weft.Tokenizers;

/// <summary>
/// Turns a stream of token ids into text, never returning half a UTF-8 character: bytes of an incomplete character
/// are held until the tokens that complete it arrive. Byte-fallback pieces (<c>&lt;0xE2&gt;&lt;0x96&gt;...</c>) and
/// byte-level BPE pieces that split a character are reassembled. Not thread-safe (one per generation).
/// </summary>
public sealed class StreamingDetokenizer
{
    private readonly Tokenizer _tokenizer;
    private readonly bool _skipSpecial;
    private readonly ArrayBufferWriter<byte> _pending = new();
    private bool _first = true;

    internal StreamingDetokenizer(Tokenizer tokenizer, bool skipSpecial)
    {
        _tokenizer = tokenizer;
        _skipSpecial = skipSpecial;
    }

    /// <summary>Adds one token; returns the text that is now complete (possibly empty).</summary>
    /// <exception cref="ArgumentOutOfRangeException">The id is not in the vocabulary.</exception>
    public string Push(int id)
    {
        _tokenizer.AppendPiece(id, _skipSpecial, ref _first, _pending);
        return Drain(final: false);
    }

    /// <summary>Returns whatever is left; an unfinished character becomes U+FFFD.</summary>
    public string Flush() => Drain(final: true);

    private string Drain(bool final)
    {
        ReadOnlySpan<byte> data = _pending.WrittenSpan;
        int complete = final ? data.Length : CompletePrefix(data);
        if (complete == 0)
        {
            return "";
        }
        string s = Encoding.UTF8.GetString(data[..complete]);
        byte[] rest = data[complete..].ToArray();
        _pending.Clear();
        _pending.Write(rest);
        return s;
    }

    /// <summary>Length of the prefix that does not end inside a character that more bytes could still complete.</summary>
    internal static int CompletePrefix(ReadOnlySpan<byte> data)
    {
        // Look back at most 3 bytes for the lead byte of a multi-byte character.
        for (int back = 1; back <= Math.Min(3, data.Length); back++)
        {
            byte b = data[^back];
            if ((b & 0xC0) == 0x80)
            {
                continue; // continuation byte: keep looking for the lead
            }
            int need = b >= 0xF0 && b <= 0xF4 ? 4 : b >= 0xE0 && b < 0xF0 ? 3 : b >= 0xC2 && b < 0xE0 ? 2 : 1;
            return need > back ? data.Length - back : data.Length;
        }
        return data.Length;
    }
}
