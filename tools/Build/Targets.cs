using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace Weft.Build;

/// <summary>The targets: build, test, run, bench, clean.</summary>
public static class Targets
{
    /// <summary>The model the main job inspects, relative to the assets folder.</summary>
    private const string MainModel = "models/stories260K.gguf";

    /// <summary>
    /// Benchmarks of the bench target: the CLI verb, its arguments, the assets it reads (relative to the assets
    /// folder), and the file name of its results in artifacts/bench (.json when the verb takes --json, else .txt).
    /// </summary>
    private static IEnumerable<(string Verb, string[] Args, string[] Assets, string Output)> Benches(BuildContext c, Options o)
    {
        string threads = o.Threads.ToString(CultureInfo.InvariantCulture);
        string Asset(string relative) => Path.Combine(c.Assets, relative);
        return
        [
            // Model speed (llama-bench style) on the one real model the assets hold.
            ("bench", ["-m", Asset(MainModel), "-t", threads], [MainModel], "model-stories260K"),
            ("bench ops", ["--threads", threads], [], "ops"),
            // Tokenizer encode throughput (one thread) on War and Peace; the verb reads WEFT_ASSETS, which we pass.
            ("bench tokenize", [], ["corpora/war-and-peace.txt"], "tokenize"),
            // HNSW on SIFT10K (10,000 x 128 floats, 100 queries): recall@1/10 and QPS per ef, 1 and N threads.
            ("index bench",
                ["--base", Asset("ann/siftsmall_base.fvecs"), "--query", Asset("ann/siftsmall_query.fvecs"),
                 "--gt", Asset("ann/siftsmall_groundtruth.ivecs"), "--threads", o.Threads == 1 ? "1" : $"1,{threads}"],
                ["ann/siftsmall_base.fvecs", "ann/siftsmall_query.fvecs", "ann/siftsmall_groundtruth.ivecs"],
                "index-sift10k"),
        ];
    }

    /// <summary><c>dotnet build Runtime.sln</c>, then publish the CLI to artifacts/bin.</summary>
    public static async Task<int> BuildAsync(BuildContext c, Options o)
    {
        await Prerequisites.EnsureAsync(c, Need.Build, o).ConfigureAwait(false);
        var env = c.DotnetEnvironment();

        Log.Step($"build {c.Rel(c.Solution)} ({c.Configuration})");
        var sw = Stopwatch.StartNew();
        int code = await ProcessRunner.RunAsync(c.Dotnet, ["build", c.Solution, "-c", c.Configuration, .. c.MsBuildArgs()], c.RepoRoot, env).ConfigureAwait(false);
        if (code != 0)
        {
            Log.Error($"dotnet build failed (exit code {code})");
            return code;
        }
        Log.Info($"build: {Log.Seconds(sw.Elapsed)}");

        Log.Step($"publish the CLI to {c.Rel(c.BinDir)}");
        sw.Restart();
        string cli = Path.Combine(c.RepoRoot, "tools", "Weft.Cli", "Weft.Cli.csproj");
        // Framework-dependent apphost plus its assemblies; --no-build reuses what the solution build just made.
        code = await ProcessRunner.RunAsync(c.Dotnet,
            ["publish", cli, "-c", c.Configuration, "--no-build", "-o", c.BinDir, "-p:UseAppHost=true", .. c.MsBuildArgs()],
            c.RepoRoot, env).ConfigureAwait(false);
        if (code != 0)
        {
            Log.Error($"dotnet publish failed (exit code {code})");
            return code;
        }
        if (!File.Exists(c.Weft))
        {
            throw new BuildFailedException($"publish finished but {c.Rel(c.Weft)} is missing");
        }
        Log.Info($"publish: {Log.Seconds(sw.Elapsed)}; the CLI is {c.Rel(c.Weft)}");
        return 0;
    }

    /// <summary>Builds, runs every test project, and prints one summary line for all of them.</summary>
    public static async Task<int> TestAsync(BuildContext c, Options o)
    {
        await Prerequisites.EnsureAsync(c, Need.Test | Need.Build, o).ConfigureAwait(false);
        List<string> projects = TestProjects(c);
        if (o.Projects.Count > 0)
        {
            string[] unknown = o.Projects.Where(n => !projects.Any(p => Path.GetFileNameWithoutExtension(p) == n)).ToArray();
            if (unknown.Length > 0)
            {
                throw new UsageException($"no test project named {string.Join(", ", unknown)} in {c.Rel(c.Solution)}."
                    + $" Test projects: {string.Join(", ", projects.Select(Path.GetFileNameWithoutExtension))}");
            }
            projects = projects.Where(p => o.Projects.Contains(Path.GetFileNameWithoutExtension(p))).ToList();
        }
        if (!o.NoBuild)
        {
            int built = await BuildAsync(c, o).ConfigureAwait(false);
            if (built != 0)
            {
                return built;
            }
        }
        if (projects.Count == 0)
        {
            Log.Error($"no test projects in {c.Rel(c.Solution)}");
            Log.Line("0 passed, 0 failed, 0 skipped");
            return 1;
        }

        if (Directory.Exists(c.TestResultsDir))
        {
            Directory.Delete(c.TestResultsDir, recursive: true);
        }
        Directory.CreateDirectory(c.TestResultsDir);

        Log.Step($"test {projects.Count} project(s), {o.Parallel} at a time; results in {c.Rel(c.TestResultsDir)}");
        var sw = Stopwatch.StartNew();
        var outcomes = new (int ExitCode, TimeSpan Time, string Note)[projects.Count];
        using var gate = new SemaphoreSlim(o.Parallel);
        await Task.WhenAll(projects.Select(async (project, index) =>
        {
            await gate.WaitAsync().ConfigureAwait(false);
            try
            {
                outcomes[index] = await RunTestProjectAsync(c, o, project).ConfigureAwait(false);
            }
            finally
            {
                gate.Release();
            }
        })).ConfigureAwait(false);

        return Summarize(c, projects, outcomes, sw.Elapsed);
    }

    private static async Task<(int, TimeSpan, string)> RunTestProjectAsync(BuildContext c, Options o, string project)
    {
        string name = Path.GetFileNameWithoutExtension(project);
        var args = new List<string>
        {
            "test", project, "-c", c.Configuration, "--no-build", "--nologo",
            "--results-directory", c.TestResultsDir,
            "--logger", $"trx;LogFileName={name}.trx",
            // A single test running longer than this is killed and reported, so a hang cannot eat CI's time.
            "--blame-hang-timeout", o.HangTimeout, "--blame-hang-dump-type", "none",
        };
        if (o.Filter is not null)
        {
            args.Add("--filter");
            args.Add(o.Filter);
        }
        string prefix = $"[{name}] ";
        Log.Line($"{prefix}> {ProcessRunner.Format("dotnet", args)}");
        var sw = Stopwatch.StartNew();
        // CI and WEFT_ASSETS are inherited from this process's environment.
        // Remember what vstest says about a crashed or hung test host: the TRX file only says "crashed".
        bool hung = false, inCulprit = false;
        var culprits = new List<string>();
        int code = await ProcessRunner.RunAsync(c.Dotnet, args, c.RepoRoot, c.DotnetEnvironment(), line =>
        {
            if (line.Length == 0)
            {
                return;
            }
            Log.Line(prefix + line);
            hung |= line.Contains("inactivity time", StringComparison.Ordinal);
            if (line.StartsWith("The test running when the crash occurred", StringComparison.Ordinal))
            {
                inCulprit = true;
            }
            else if (inCulprit && line.StartsWith("This test may", StringComparison.Ordinal))
            {
                inCulprit = false;
            }
            else if (inCulprit)
            {
                lock (culprits)
                {
                    culprits.Add(line.Trim());
                }
            }
        }, echo: false).ConfigureAwait(false);
        Log.Line($"{prefix}finished: exit code {code}, {Log.Seconds(sw.Elapsed)}");
        string note = (hung ? $"a test ran longer than the hang timeout ({o.HangTimeout}): the test host was killed. " : "")
            + (culprits.Count > 0 ? $"Running at the time: {string.Join(", ", culprits)}." : "");
        return (code, sw.Elapsed, note.Trim());
    }

    private static int Summarize(BuildContext c, List<string> projects, (int ExitCode, TimeSpan Time, string Note)[] outcomes, TimeSpan total)
    {
        int passed = 0, failed = 0, skipped = 0;
        var failures = new List<(string Project, TestResult Result)>();
        var skips = new List<(string Project, TestResult Result)>();
        var table = new List<string>();
        for (int i = 0; i < projects.Count; i++)
        {
            string name = Path.GetFileNameWithoutExtension(projects[i]);
            string trx = Path.Combine(c.TestResultsDir, name + ".trx");
            var (exitCode, time, abortNote) = outcomes[i];
            TrxReport report = File.Exists(trx) ? TrxReport.Load(trx) : new TrxReport();
            int p = report.Results.Count(r => r.IsPassed);
            int f = report.Results.Count(r => r.IsFailed);
            int s = report.Results.Count(r => r.IsSkipped);
            failures.AddRange(report.Results.Where(r => r.IsFailed).Select(r => (name, r)));
            skips.AddRange(report.Results.Where(r => r.IsSkipped).Select(r => (name, r)));
            string note = "";
            if (exitCode != 0 && f == 0)
            {
                // The test host crashed or hung before reporting a failure: count the project itself as one failure.
                string why = report.RunMessages.Count > 0 ? string.Join(" ", report.RunMessages) : $"dotnet test exited with code {exitCode} and reported no failed test.";
                why = abortNote.Length > 0 ? $"{why}\n{abortNote}" : why;
                failures.Add((name, new TestResult($"{name} (test run aborted)", "Aborted", why, "")));
                f = 1;
                note = "  ABORTED";
            }
            else if (report.Results.Count == 0)
            {
                note = "  (no tests)";
            }
            passed += p;
            failed += f;
            skipped += s;
            table.Add($"  {name,-28} {p,6} passed {f,5} failed {s,5} skipped {Log.Seconds(time),9}{note}");
        }

        Log.Line("");
        Log.Step($"test results ({Log.Seconds(total)}; TRX files in {c.Rel(c.TestResultsDir)})");
        foreach (string row in table)
        {
            Log.Line(row);
        }
        if (skips.Count > 0)
        {
            Log.Line("");
            Log.Line($"Skipped or inconclusive ({skips.Count}):");
            foreach (var (project, r) in skips.Take(30))
            {
                Log.Line($"  [{project}] {r.Name}: {FirstLine(r.Message)}");
            }
            if (skips.Count > 30)
            {
                Log.Line($"  ... and {skips.Count - 30} more (see the TRX files)");
            }
        }
        if (failures.Count > 0)
        {
            Log.Line("");
            Log.Line($"Failures ({failures.Count}):");
            foreach (var (project, r) in failures)
            {
                Log.Line($"  [{project}] {r.Name} ({r.Outcome})");
                foreach (string line in Lines(r.Message, 20))
                {
                    Log.Line($"      {line}");
                }
                foreach (string line in Lines(r.StackTrace, 8))
                {
                    Log.Line($"      {line}");
                }
            }
        }
        Log.Line("");
        Log.Info($"test: tests {Log.Seconds(total)}, {Log.Seconds(c.Clock.Elapsed)} in all including the build");
        if (passed + failed == 0)
        {
            Log.Error("no test ran");
        }
        // The one closing line for the whole suite; keep it last and keep its shape.
        Log.Line($"{passed} passed, {failed} failed, {skipped} skipped");
        return failed > 0 || passed + failed == 0 ? 1 : 0;
    }

    /// <summary>The test projects of the solution: *.Tests.csproj, or any project that sets IsTestProject to true.</summary>
    private static List<string> TestProjects(BuildContext c)
    {
        string text = File.ReadAllText(c.Solution);
        IEnumerable<string> paths = c.Solution.EndsWith(".slnx", StringComparison.OrdinalIgnoreCase)
            ? System.Text.RegularExpressions.Regex.Matches(text, "Path=\"([^\"]+\\.csproj)\"").Select(m => m.Groups[1].Value)
            : System.Text.RegularExpressions.Regex.Matches(text, "\"([^\"]+\\.csproj)\"").Select(m => m.Groups[1].Value);
        var result = new List<string>();
        foreach (string rel in paths.Distinct())
        {
            string full = Path.GetFullPath(Path.Combine(c.RepoRoot, rel.Replace('\\', Path.DirectorySeparatorChar)));
            if (!File.Exists(full))
            {
                throw new BuildFailedException($"{c.Rel(c.Solution)} lists {rel}, which does not exist");
            }
            string csproj = File.ReadAllText(full);
            bool declaredTest = csproj.Contains("<IsTestProject>true</IsTestProject>", StringComparison.OrdinalIgnoreCase);
            bool declaredNotTest = csproj.Contains("<IsTestProject>false</IsTestProject>", StringComparison.OrdinalIgnoreCase);
            if (declaredTest || (!declaredNotTest && Path.GetFileNameWithoutExtension(full).EndsWith(".Tests", StringComparison.Ordinal)))
            {
                result.Add(full);
            }
        }
        result.Sort(StringComparer.Ordinal);
        return result;
    }

    /// <summary>The main job: build, then run the CLI on the shared model.</summary>
    public static async Task<int> RunMainJobAsync(BuildContext c, Options o)
    {
        await Prerequisites.EnsureAsync(c, Need.Run, o).ConfigureAwait(false);
        if (!o.NoBuild)
        {
            int built = await BuildAsync(c, o).ConfigureAwait(false);
            if (built != 0)
            {
                return built;
            }
        }
        HashSet<string> verbs = await VerbsAsync(c).ConfigureAwait(false);
        string model = Path.Combine(c.Assets, MainModel);
        var env = new Dictionary<string, string?> { ["WEFT_ASSETS"] = c.Assets };
        int ran = 0;
        if (!File.Exists(model))
        {
            throw new BuildFailedException($"model not found: {model}. Set WEFT_ASSETS to the folder holding MANIFEST.md (default ../shared/assets).");
        }
        string threads = o.Threads.ToString(CultureInfo.InvariantCulture);
        // The main job, step by step: each step runs when the CLI has its verb.
        (string Verb, string Title, string[] Args)[] steps =
        [
            ("generate", "generate text with the shared model (greedy, 64 tokens)",
                ["generate", "-m", model, "-p", "Once upon a time", "-n", "64", "--temp", "0", "-t", threads]),
            ("batch run", "run the example batch (story continuation, scored with perplexity and ROUGE) and print its metrics",
                ["batch", "run", Path.Combine(c.RepoRoot, "examples", "story.flow.json"),
                 "--data", Path.Combine(c.RepoRoot, "examples", "data", "stories.jsonl"),
                 "--out", Path.Combine(c.RepoRoot, "artifacts", "runs", "story"), "--concurrency", "2", "--restart", "--quiet"]),
        ];
        foreach ((string verb, string title, string[] args) in steps)
        {
            if (!verbs.Contains(verb))
            {
                Log.Info($"skipped: this weft has no '{verb}' verb yet");
                continue;
            }
            if (verb == "batch run" && !File.Exists(args[2]))
            {
                Log.Info($"skipped: {args[2]} does not exist yet");
                continue;
            }
            Log.Step(title);
            int code = await ProcessRunner.RunAsync(c.Weft, args, c.RepoRoot, env).ConfigureAwait(false);
            if (code != 0)
            {
                Log.Error($"weft {verb} failed (exit code {code})");
                return code;
            }
            ran++;
        }

        if (ran == 0)
        {
            Log.Warn("the main job ran nothing: the CLI has none of its verbs yet");
        }
        return 0;
    }

    /// <summary>Builds, runs each benchmark verb the CLI has, and writes the results to artifacts/bench/.</summary>
    public static async Task<int> BenchAsync(BuildContext c, Options o)
    {
        await Prerequisites.EnsureAsync(c, Need.Bench, o).ConfigureAwait(false);
        if (!o.NoBuild)
        {
            int built = await BuildAsync(c, o).ConfigureAwait(false);
            if (built != 0)
            {
                return built;
            }
        }
        HashSet<string> verbs = await VerbsAsync(c).ConfigureAwait(false);
        Directory.CreateDirectory(c.BenchDir);
        await File.WriteAllTextAsync(Path.Combine(c.BenchDir, "machine.txt"), await MachineDescriptionAsync(c).ConfigureAwait(false)).ConfigureAwait(false);
        var env = new Dictionary<string, string?> { ["WEFT_ASSETS"] = c.Assets };
        int ran = 0;
        foreach (var (verb, benchArgs, assets, output) in Benches(c, o))
        {
            if (!verbs.Contains(verb))
            {
                Log.Info($"skipped: this weft has no '{verb}' verb yet");
                continue;
            }
            string[] missing = assets.Where(a => !File.Exists(Path.Combine(c.Assets, a))).ToArray();
            if (missing.Length > 0)
            {
                throw new BuildFailedException($"'{verb}' needs {string.Join(", ", missing)} in {c.Assets}."
                    + " Set WEFT_ASSETS to the folder holding MANIFEST.md (default ../shared/assets).");
            }
            string[] words = verb.Split(' ');
            var (_, usage) = await ProcessRunner.CaptureAsync(c.Weft, [.. words, "--help"], c.RepoRoot).ConfigureAwait(false);
            bool json = usage.Contains("--json", StringComparison.Ordinal);
            string file = Path.Combine(c.BenchDir, output + (json ? ".json" : ".txt"));
            string[] args = [.. words, .. benchArgs, .. (json ? new[] { "--json" } : [])];

            Log.Step($"{verb} -> {c.Rel(file)}");
            var sb = new StringBuilder();
            int code = await ProcessRunner.RunAsync(c.Weft, args, c.RepoRoot, env,
                line => { Log.Line(line); lock (sb) { sb.AppendLine(line); } }, onErrorLine: Log.Line).ConfigureAwait(false);
            if (code != 0)
            {
                Log.Error($"weft {verb} failed (exit code {code})");
                return code;
            }
            // The results file holds what the bench printed on stdout; its stderr (progress, notes) only goes to the log.
            await File.WriteAllTextAsync(file, sb.ToString()).ConfigureAwait(false);
            ran++;
        }
        Log.Info(ran == 0 ? "no benchmark verbs in this weft yet" : $"results in {c.Rel(c.BenchDir)}");
        return 0;
    }

    /// <summary>Removes artifacts/.</summary>
    public static Task<int> CleanAsync(BuildContext c, Options o)
    {
        _ = o;
        if (Directory.Exists(c.Artifacts))
        {
            Log.Step($"remove {c.Rel(c.Artifacts)}/");
            try
            {
                Directory.Delete(c.Artifacts, recursive: true);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                // On Windows the running build program's own files in artifacts/tools cannot be deleted.
                Log.Warn($"could not remove everything in {c.Rel(c.Artifacts)}: {ex.Message}");
            }
        }
        else
        {
            Log.Info("nothing to clean");
        }
        string? external = Environment.GetEnvironmentVariable("WEFT_ARTIFACTS");
        if (!string.IsNullOrEmpty(external))
        {
            Log.Info($"note: WEFT_ARTIFACTS={external} holds compiler outputs; it was left alone.");
        }
        return Task.FromResult(0);
    }

    /// <summary>The verb paths listed by <c>weft --help</c>.</summary>
    private static async Task<HashSet<string>> VerbsAsync(BuildContext c)
    {
        if (!File.Exists(c.Weft))
        {
            throw new BuildFailedException($"{c.Rel(c.Weft)} does not exist: run './build.sh build' first");
        }
        var (code, output) = await ProcessRunner.CaptureAsync(c.Weft, ["--help"], c.RepoRoot).ConfigureAwait(false);
        if (code != 0)
        {
            throw new BuildFailedException($"'{c.Rel(c.Weft)} --help' failed (exit code {code})");
        }
        // Verb lines look like "  bench ops  Summary text": two spaces, the verb path, two or more spaces.
        var verbs = new HashSet<string>(StringComparer.Ordinal);
        foreach (string line in output.Split('\n'))
        {
            if (!line.StartsWith("  ", StringComparison.Ordinal) || line.Length < 3 || line[2] == ' ')
            {
                continue;
            }
            string body = line[2..].TrimEnd('\r');
            int gap = body.IndexOf("  ", StringComparison.Ordinal);
            verbs.Add((gap < 0 ? body : body[..gap]).Trim());
        }
        return verbs;
    }

    private static async Task<string> MachineDescriptionAsync(BuildContext c)
    {
        var sb = new StringBuilder();
        sb.AppendLine($"date_utc: {DateTime.UtcNow:yyyy-MM-ddTHH:mm:ssZ}");
        sb.AppendLine($"os: {System.Runtime.InteropServices.RuntimeInformation.OSDescription}");
        sb.AppendLine($"arch: {System.Runtime.InteropServices.RuntimeInformation.OSArchitecture}");
        sb.AppendLine($"cores: {Environment.ProcessorCount}");
        if (File.Exists("/proc/cpuinfo"))
        {
            string? model = File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal));
            if (model is not null)
            {
                sb.AppendLine($"cpu: {model[(model.IndexOf(':') + 1)..].Trim()}");
            }
        }
        sb.AppendLine($"dotnet: {Environment.Version}");
        try
        {
            var (code, head) = await ProcessRunner.CaptureAsync("git", ["rev-parse", "HEAD"], c.RepoRoot).ConfigureAwait(false);
            if (code == 0)
            {
                sb.AppendLine($"commit: {head.Trim()}");
            }
        }
        catch (BuildFailedException)
        {
            // git is optional here.
        }
        return sb.ToString();
    }

    private static string FirstLine(string s)
    {
        string first = s.Split('\n', 2)[0].Trim();
        return first.Length == 0 ? "(no reason given)" : first;
    }

    private static IEnumerable<string> Lines(string s, int max)
    {
        if (s.Length == 0)
        {
            yield break;
        }
        string[] lines = s.Replace("\r", "").Split('\n').Where(l => l.Trim().Length > 0).ToArray();
        foreach (string line in lines.Take(max))
        {
            yield return line;
        }
        if (lines.Length > max)
        {
            yield return $"... ({lines.Length - max} more lines in the TRX file)";
        }
    }
}
