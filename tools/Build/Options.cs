using System.Globalization;

namespace Weft.Build;

/// <summary>Options of one invocation; each target accepts only the ones that apply to it.</summary>
public sealed class Options
{
    /// <summary>MSBuild configuration (Release by default).</summary>
    public string Configuration { get; private set; } = "Release";
    /// <summary>Skip the build step of test/run/bench.</summary>
    public bool NoBuild { get; private set; }
    /// <summary>Skip the system package checks.</summary>
    public bool NoPrereqs { get; private set; }
    /// <summary>dotnet test --filter expression.</summary>
    public string? Filter { get; private set; }
    /// <summary>Test projects to run (names without .csproj); empty means all.</summary>
    public List<string> Projects { get; } = new();
    /// <summary>Test projects run at once.</summary>
    public int Parallel { get; private set; } = Math.Clamp(Environment.ProcessorCount, 1, 2);
    /// <summary>Per-test hang limit handed to --blame-hang-timeout.</summary>
    public string HangTimeout { get; private set; } = "5m";
    /// <summary>CPU threads for the benchmarks.</summary>
    public int Threads { get; private set; } = 2;
    /// <summary>--help after the target.</summary>
    public bool Help { get; private set; }

    /// <summary>Parses the arguments after the target name.</summary>
    /// <exception cref="UsageException">Unknown option, missing value, or an option the target does not take.</exception>
    public static Options Parse(string target, string[] args)
    {
        var o = new Options();
        for (int i = 0; i < args.Length; i++)
        {
            string a = args[i];
            string? inline = null;
            int eq = a.IndexOf('=');
            if (a.StartsWith("--", StringComparison.Ordinal) && eq > 2)
            {
                inline = a[(eq + 1)..];
                a = a[..eq];
            }
            string Value()
            {
                if (inline is not null)
                {
                    return inline;
                }
                if (i + 1 >= args.Length)
                {
                    throw new UsageException($"option {a} needs a value");
                }
                return args[++i];
            }
            void Only(params string[] targets)
            {
                if (!targets.Contains(target))
                {
                    throw new UsageException($"option {a} does not apply to '{target}' (only to {string.Join(", ", targets)})");
                }
            }
            switch (a)
            {
                case "-h" or "--help":
                    o.Help = true;
                    break;
                case "-c" or "--configuration":
                    o.Configuration = Value() switch
                    {
                        "Release" or "release" => "Release",
                        "Debug" or "debug" => "Debug",
                        string v => throw new UsageException($"--configuration must be Release or Debug, not '{v}'"),
                    };
                    break;
                case "--no-build":
                    Only("test", "run", "bench");
                    o.NoBuild = true;
                    break;
                case "--no-prereqs":
                    o.NoPrereqs = true;
                    break;
                case "--filter":
                    Only("test");
                    o.Filter = Value();
                    break;
                case "--project":
                    Only("test");
                    string project = Path.GetFileName(Value());
                    o.Projects.Add(project.EndsWith(".csproj", StringComparison.OrdinalIgnoreCase) ? project[..^".csproj".Length] : project);
                    break;
                case "--parallel":
                    Only("test");
                    o.Parallel = ParseInt(a, Value(), 1, 64);
                    break;
                case "--hang-timeout":
                    Only("test");
                    o.HangTimeout = Value();
                    if (!System.Text.RegularExpressions.Regex.IsMatch(o.HangTimeout, @"^\d+(ms|s|m|h)?$"))
                    {
                        throw new UsageException($"--hang-timeout takes a duration such as 90s or 5m, not '{o.HangTimeout}'");
                    }
                    break;
                case "--threads":
                    Only("run", "bench");
                    o.Threads = ParseInt(a, Value(), 1, 1024);
                    break;
                default:
                    throw new UsageException($"unknown option '{args[i]}' for target '{target}'");
            }
        }
        return o;
    }

    private static int ParseInt(string name, string s, int min, int max) =>
        int.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out int v) && v >= min && v <= max
            ? v
            : throw new UsageException($"{name} must be an integer in {min}..{max}, not '{s}'");
}
