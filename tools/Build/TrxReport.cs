using System.Xml;
using System.Xml.Linq;

namespace Weft.Build;

/// <summary>One test result read from a TRX file.</summary>
/// <param name="Name">Class name and test name.</param>
/// <param name="Outcome">TRX outcome (Passed, Failed, NotExecuted, Inconclusive, Timeout, ...).</param>
/// <param name="Message">Error message, or the skip/inconclusive reason; may be empty.</param>
/// <param name="StackTrace">Stack trace of a failure; may be empty.</param>
public sealed record TestResult(string Name, string Outcome, string Message, string StackTrace)
{
    /// <summary>Passed.</summary>
    public bool IsPassed => Outcome == "Passed";

    /// <summary>Failed, errored, timed out or aborted.</summary>
    public bool IsFailed => Outcome is "Failed" or "Error" or "Timeout" or "Aborted";

    /// <summary>Anything else: not executed, inconclusive, ignored.</summary>
    public bool IsSkipped => !IsPassed && !IsFailed;
}

/// <summary>The results of one TRX file (one test project).</summary>
public sealed class TrxReport
{
    private static readonly XNamespace s_ns = "http://microsoft.com/schemas/VisualStudio/TeamTest/2010";

    /// <summary>Every test result, in file order.</summary>
    public List<TestResult> Results { get; } = new();

    /// <summary>Run-level messages (a crashed or hung test host says so here).</summary>
    public List<string> RunMessages { get; } = new();

    /// <summary>Reads a TRX file.</summary>
    /// <exception cref="BuildFailedException">The file is not a readable TRX document.</exception>
    public static TrxReport Load(string path)
    {
        XDocument doc;
        try
        {
            doc = XDocument.Load(path);
        }
        catch (Exception ex) when (ex is XmlException or IOException)
        {
            throw new BuildFailedException($"cannot read test results {path}: {ex.Message}");
        }
        XElement root = doc.Root ?? throw new BuildFailedException($"test results {path} are empty");
        XNamespace ns = root.Name.Namespace == XNamespace.None ? XNamespace.None : s_ns;

        // testId -> class name, from the definitions.
        var classes = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (XElement unitTest in root.Descendants(ns + "UnitTest"))
        {
            string? id = (string?)unitTest.Attribute("id");
            string? className = (string?)unitTest.Element(ns + "TestMethod")?.Attribute("className");
            if (id is not null && className is not null)
            {
                classes[id] = className;
            }
        }

        var report = new TrxReport();
        foreach (XElement r in root.Descendants(ns + "UnitTestResult"))
        {
            string testName = (string?)r.Attribute("testName") ?? "(unnamed test)";
            string? testId = (string?)r.Attribute("testId");
            string name = testId is not null && classes.TryGetValue(testId, out string? cls) && !testName.StartsWith(cls + ".", StringComparison.Ordinal)
                ? $"{cls}.{testName}"
                : testName;
            XElement? error = r.Element(ns + "Output")?.Element(ns + "ErrorInfo");
            string message = ((string?)error?.Element(ns + "Message") ?? "").Trim();
            string stack = ((string?)error?.Element(ns + "StackTrace") ?? "").Trim();
            if (message.Length == 0)
            {
                // Skip reasons are sometimes only in the result's text messages.
                message = string.Join(" ", r.Element(ns + "Output")?.Element(ns + "TextMessages")?.Elements(ns + "Message").Select(m => m.Value.Trim()) ?? []);
            }
            report.Results.Add(new TestResult(name, (string?)r.Attribute("outcome") ?? "NotExecuted", message, stack));
        }
        foreach (XElement info in root.Descendants(ns + "RunInfo"))
        {
            string outcome = (string?)info.Attribute("outcome") ?? "";
            string text = ((string?)info.Element(ns + "Text") ?? "").Trim();
            if (text.Length > 0 && outcome is "Error" or "Failed" or "Aborted" or "Timeout")
            {
                report.RunMessages.Add(text);
            }
        }
        return report;
    }
}
