using System.Text;
using System.Text.RegularExpressions;

namespace Weft.Flows;

/// <summary>
/// Substitution in parameter values: <c>${env.NAME}</c> is the environment variable NAME, <c>${env.NAME:-fallback}</c>
/// uses <c>fallback</c> when NAME is unset or empty. <c>WEFT_ASSETS</c> defaults to the <c>shared/assets</c> folder beside
/// the repository (found by walking up from the working directory, as <c>../shared/assets</c> from the repo root), so
/// <c>${env.WEFT_ASSETS}/models/stories260K.gguf</c> works from the repository root without setting anything.
/// <c>$${</c> writes a literal <c>${</c>.
/// </summary>
public static partial class FlowEnvironment
{
    [GeneratedRegex(@"\$\$\{|\$\{env\.([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")]
    private static partial Regex EnvRegex();

    /// <summary>Replaces every <c>${env.NAME}</c> in <paramref name="value"/>.</summary>
    /// <exception cref="FlowExecutionException">A variable is unset and has no fallback.</exception>
    public static string Substitute(string value)
    {
        if (!value.Contains("${", StringComparison.Ordinal))
        {
            return value;
        }
        return EnvRegex().Replace(value, m =>
        {
            if (m.Value == "$${")
            {
                return "${";
            }
            string name = m.Groups[1].Value;
            string? v = Environment.GetEnvironmentVariable(name);
            if (string.IsNullOrEmpty(v))
            {
                v = m.Groups[2].Success ? m.Groups[2].Value : Default(name);
            }
            return v ?? throw new FlowExecutionException(null, $"environment variable {name} is not set (write ${{env.{name}:-fallback}} to give a fallback)");
        });
    }

    /// <summary>Built-in default of a variable (only <c>WEFT_ASSETS</c> has one), or null.</summary>
    public static string? Default(string name)
    {
        if (name != "WEFT_ASSETS")
        {
            return null;
        }
        for (DirectoryInfo? d = new(Directory.GetCurrentDirectory()); d is not null; d = d.Parent)
        {
            string candidate = Path.Combine(d.FullName, "..", "shared", "assets");
            if (Directory.Exists(candidate))
            {
                return Path.GetFullPath(candidate);
            }
        }
        return Path.Combine("..", "shared", "assets");
    }

    /// <summary>A path as given when it is absolute or exists from the working directory; otherwise relative to <paramref name="baseDirectory"/>.</summary>
    public static string ResolvePath(string path, string? baseDirectory)
    {
        if (path.Length == 0 || Path.IsPathRooted(path) || File.Exists(path) || Directory.Exists(path) || baseDirectory is null)
        {
            return path;
        }
        string alt = Path.Combine(baseDirectory, path);
        return File.Exists(alt) || Directory.Exists(alt) ? alt : path;
    }

    /// <summary>Replaces <c>${data.COL}</c> (and <c>${env.NAME}</c>) in a mapping expression with values from a data row.</summary>
    /// <returns>The raw value when the expression is exactly one <c>${data.COL}</c> (keeps numbers and lists), else the text.</returns>
    public static object? Expand(string expression, Func<string, object?> lookup)
    {
        Match whole = DataRegex().Match(expression);
        if (whole.Success && whole.Index == 0 && whole.Length == expression.Length)
        {
            return lookup(whole.Groups[1].Value);
        }
        var sb = new StringBuilder();
        string replaced = DataRegex().Replace(expression, m => FlowValue.ToText(lookup(m.Groups[1].Value)));
        sb.Append(Substitute(replaced));
        return sb.ToString();
    }

    [GeneratedRegex(@"\$\{((?:data|outputs|inputs)\.[^}]+)\}")]
    private static partial Regex DataRegex();
}
