using System.Text.Json;
using Weft.Tests;

namespace Weft.Cli.Tests;

public class IndexBenchExactTests
{
    [Test]
    public async Task ExactCpuPassReproducesSiftsmallGroundTruth()
    {
        using JsonDocument doc = await BenchSiftsmall("cpu");
        JsonElement root = doc.RootElement;
        Assert.Multiple(() =>
        {
            Assert.That(root.GetProperty("exact_recall10").GetDouble(), Is.EqualTo(1.0));
            Assert.That(root.GetProperty("exact_qps").GetDouble(), Is.GreaterThan(0));
            Assert.That(root.GetProperty("exact_backend").GetString(), Does.Contain("CPU"));
            Assert.That(root.GetProperty("rows").GetArrayLength(), Is.EqualTo(1));
        });
    }

    [Test]
    public async Task ExactVulkanPassReproducesSiftsmallGroundTruth()
    {
        VulkanTestDevice.DeviceOrSkip(requireEnabled: true);
        using JsonDocument doc = await BenchSiftsmall("vulkan");
        JsonElement root = doc.RootElement;
        Assert.Multiple(() =>
        {
            Assert.That(root.GetProperty("exact_recall10").GetDouble(), Is.EqualTo(1.0));
            Assert.That(root.GetProperty("exact_backend").GetString(), Does.StartWith("Vulkan"));
        });
    }

    [Test]
    public async Task UnknownExactBackendIsAUsageError()
    {
        var (code, _, err) = await CliRunner.Run("index", "bench", "--base", "x.fvecs", "--query", "y.fvecs", "--exact-backend", "gpu");
        Assert.That(code, Is.Not.EqualTo(0));
        Assert.That(err, Does.Contain("--exact-backend"));
    }

    // `weft index bench --json` on siftsmall with its ground truth file and the exact pass on the given backend.
    private static async Task<JsonDocument> BenchSiftsmall(string exactBackend)
    {
        string b = TestAssets.Require("ann/siftsmall_base.fvecs");
        string q = TestAssets.Require("ann/siftsmall_query.fvecs");
        string g = TestAssets.Require("ann/siftsmall_groundtruth.ivecs");
        var (code, output, err) = await CliRunner.Run("index", "bench", "--base", b, "--query", q, "--gt", g,
            "--ef", "10", "--efc", "40", "--exact-backend", exactBackend, "--json");
        Assert.That(code, Is.EqualTo(0), err);
        return JsonDocument.Parse(output);
    }
}
