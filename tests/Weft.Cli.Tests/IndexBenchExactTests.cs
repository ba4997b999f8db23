using System.Text.Json;
using Weft.Core;
using Weft.Tests;
using Weft.Vulkan;

namespace Weft.Cli.Tests;

public class IndexBenchExactTests
{
    [Test]
    public async Task ExactCpuPassReproducesSiftsmallGroundTruth()
    {
        string b = TestAssets.Require("ann/siftsmall_base.fvecs");
        string q = TestAssets.Require("ann/siftsmall_query.fvecs");
        string g = TestAssets.Require("ann/siftsmall_groundtruth.ivecs");
        var (code, output, err) = await CliRunner.Run("index", "bench", "--base", b, "--query", q, "--gt", g,
            "--ef", "10", "--efc", "40", "--exact-backend", "cpu", "--json");
        Assert.That(code, Is.EqualTo(0), err);
        using JsonDocument doc = JsonDocument.Parse(output);
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
        // Any Vulkan device (lavapipe included), as in Weft.Vulkan.Tests: none is Inconclusive, or a failure under CI=true.
        var reg = new VulkanBackendRegistry();
        if (reg.VulkanDevices.Count == 0)
        {
            if (Environment.GetEnvironmentVariable("CI") == "true")
            {
                Assert.Fail($"CI=true but no Vulkan device: {reg.Status}");
            }
            Assert.Inconclusive(reg.Status);
        }
        if (BackendRegistry.IsDisabledByEnvironment("Vulkan"))
        {
            Assert.Inconclusive("WEFT_DISABLE_VULKAN is set");
        }
        string b = TestAssets.Require("ann/siftsmall_base.fvecs");
        string q = TestAssets.Require("ann/siftsmall_query.fvecs");
        string g = TestAssets.Require("ann/siftsmall_groundtruth.ivecs");
        var (code, output, err) = await CliRunner.Run("index", "bench", "--base", b, "--query", q, "--gt", g,
            "--ef", "10", "--efc", "40", "--exact-backend", "vulkan", "--json");
        Assert.That(code, Is.EqualTo(0), err);
        using JsonDocument doc = JsonDocument.Parse(output);
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
}
