using System.Globalization;

namespace Weft.Build;

/// <summary>Plain console output: step headers, notes, errors. No colours, so CI logs stay readable.</summary>
public static class Log
{
    private static readonly object s_lock = new();

    /// <summary>A step header.</summary>
    public static void Step(string text) => Line($"==> {text}");

    /// <summary>A normal message.</summary>
    public static void Info(string text) => Line(text);

    /// <summary>A warning that does not fail the target.</summary>
    public static void Warn(string text) => Line($"warning: {text}");

    /// <summary>An error line on stderr.</summary>
    public static void Error(string text)
    {
        lock (s_lock)
        {
            Console.Out.Flush();
            Console.Error.WriteLine($"error: {text}");
        }
    }

    /// <summary>One line, written whole even when several child processes print at once.</summary>
    public static void Line(string text)
    {
        lock (s_lock)
        {
            Console.Out.WriteLine(text);
        }
    }

    /// <summary>Seconds with one decimal, e.g. "12.3 s".</summary>
    public static string Seconds(TimeSpan t) => t.TotalSeconds.ToString("0.0", CultureInfo.InvariantCulture) + " s";
}
