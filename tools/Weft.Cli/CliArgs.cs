using System.Globalization;

namespace Weft.Cli;

/// <summary>
/// Arguments of one verb. Commands ask for their options and flags first, then for positionals, then call
/// <see cref="EnsureAllUsed"/>, which rejects anything left over (an unknown flag is an error, never ignored).
/// Options take <c>--name value</c> or <c>--name=value</c>.
/// </summary>
public sealed class CliArgs
{
    private readonly List<string> _tokens = new();
    private readonly List<bool> _used = new();

    /// <summary>Splits <c>--name=value</c> tokens; everything else is kept as given.</summary>
    public CliArgs(IEnumerable<string> tokens)
    {
        foreach (string t in tokens)
        {
            int eq = t.IndexOf('=');
            if (t.StartsWith("--", StringComparison.Ordinal) && eq > 2)
            {
                _tokens.Add(t[..eq]);
                _tokens.Add(t[(eq + 1)..]);
            }
            else
            {
                _tokens.Add(t);
            }
        }
        _used.AddRange(Enumerable.Repeat(false, _tokens.Count));
    }

    private int Find(string[] names)
    {
        for (int i = 0; i < _tokens.Count; i++)
        {
            if (!_used[i] && Array.IndexOf(names, _tokens[i]) >= 0)
            {
                return i;
            }
        }
        return -1;
    }

    /// <summary>True when one of <paramref name="names"/> is present (consumed).</summary>
    public bool Flag(params string[] names)
    {
        bool found = false;
        int i;
        while ((i = Find(names)) >= 0)
        {
            _used[i] = true;
            found = true;
        }
        return found;
    }

    /// <summary>The value of the last occurrence of an option, or null.</summary>
    /// <exception cref="CliUsageException">The option has no value.</exception>
    public string? Option(params string[] names)
    {
        string? value = null;
        int i;
        while ((i = Find(names)) >= 0)
        {
            if (i + 1 >= _tokens.Count || _used[i + 1])
            {
                throw new CliUsageException($"option {_tokens[i]} needs a value");
            }
            _used[i] = _used[i + 1] = true;
            value = _tokens[i + 1];
        }
        return value;
    }

    /// <summary>Every value of a repeatable option, in order.</summary>
    public List<string> Options(params string[] names)
    {
        var values = new List<string>();
        int i;
        while ((i = Find(names)) >= 0)
        {
            if (i + 1 >= _tokens.Count || _used[i + 1])
            {
                throw new CliUsageException($"option {_tokens[i]} needs a value");
            }
            _used[i] = _used[i + 1] = true;
            values.Add(_tokens[i + 1]);
        }
        return values;
    }

    /// <summary>A required option.</summary>
    /// <exception cref="CliUsageException">Missing.</exception>
    public string Required(params string[] names) =>
        Option(names) ?? throw new CliUsageException($"missing required option {string.Join(" / ", names)}");

    /// <summary>An integer option within [min, max], or <paramref name="fallback"/> when absent.</summary>
    public int Int(int fallback, int min, int max, params string[] names)
    {
        string? s = Option(names);
        if (s is null)
        {
            return fallback;
        }
        if (!int.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out int v) || v < min || v > max)
        {
            throw new CliUsageException($"{names[^1]} must be an integer in {min}..{max}, not '{s}'");
        }
        return v;
    }

    /// <summary>A float option within [min, max], or <paramref name="fallback"/> when absent.</summary>
    public float Float(float fallback, float min, float max, params string[] names)
    {
        string? s = Option(names);
        if (s is null)
        {
            return fallback;
        }
        if (!float.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out float v) || !float.IsFinite(v) || v < min || v > max)
        {
            throw new CliUsageException($"{names[^1]} must be a number in {min}..{max}, not '{s}'");
        }
        return v;
    }

    /// <summary>Unused tokens that are not options: the positionals, in order (consumed).</summary>
    public List<string> Positionals()
    {
        var list = new List<string>();
        for (int i = 0; i < _tokens.Count; i++)
        {
            if (!_used[i] && !IsOptionLike(_tokens[i]))
            {
                _used[i] = true;
                list.Add(_tokens[i]);
            }
        }
        return list;
    }

    /// <summary>Throws for any token nobody asked for.</summary>
    /// <exception cref="CliUsageException">Unknown options or extra arguments.</exception>
    public void EnsureAllUsed()
    {
        for (int i = 0; i < _tokens.Count; i++)
        {
            if (!_used[i])
            {
                throw new CliUsageException(IsOptionLike(_tokens[i]) ? $"unknown option {_tokens[i]}" : $"unexpected argument '{_tokens[i]}'");
            }
        }
    }

    private static bool IsOptionLike(string t) =>
        t.Length > 1 && t[0] == '-' && !(char.IsDigit(t[1]) || t[1] == '.');
}
