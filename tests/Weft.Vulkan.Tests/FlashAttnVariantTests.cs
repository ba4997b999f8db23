using Weft.Core;
using Weft.Cpu;
using Weft.Vulkan.Ops;

namespace Weft.Vulkan.Tests;

/// <summary>
/// Both flash-attention shader variants on every flash_attn case of <see cref="OpCases"/>: the subgroup variant
/// (subgroupMax/subgroupAdd tile reductions, the default where the device supports them; lavapipe does) and the one
/// without (forced by WEFT_VULKAN_NO_SUBGROUP=1), each checked against the CPU with the case's bound, and the shader
/// that ran is the one asked for.
/// </summary>
[NonParallelizable]
public sealed class FlashAttnVariantTests
{
    private const string NoSubgroup = "WEFT_VULKAN_NO_SUBGROUP";
    private CpuBackend? _cpu;
    private VulkanBackend? _vulkan;

    public static IEnumerable<TestCaseData> Cases() =>
        from c in OpCases.All()
        where c.Name.StartsWith("flash_attn", StringComparison.Ordinal)
        from sg in new[] { true, false }
        select new TestCaseData(c, sg).SetName($"{c.Name}_{(sg ? "subgroup" : "no_subgroup")}");

    [OneTimeSetUp]
    public void SetUp()
    {
        _cpu = new CpuBackend(2);
        _vulkan = (VulkanBackend)VulkanTestDevice.CreateBackendOrSkip();
    }

    [OneTimeTearDown]
    public void TearDown()
    {
        _vulkan?.Dispose();
        _cpu?.Dispose();
    }

    [TestCaseSource(nameof(Cases))]
    public void MatchesTheCpu(OpCase c, bool subgroup)
    {
        var device = (VulkanDevice)_vulkan!.Device;
        if (subgroup && (device.Info.SubgroupOperations & 0x5u) != 0x5u)
        {
            Assert.Ignore($"{device.Description} lacks subgroup arithmetic in compute shaders: only the plain variant runs.");
        }
        string? old = Environment.GetEnvironmentVariable(NoSubgroup);
        try
        {
            Environment.SetEnvironmentVariable(NoSubgroup, subgroup ? null : "1");
            double[] cpu = Run(c, _cpu!, null, out _, out _);
            double[] gpu = Run(c, _vulkan, _cpu!, out Tensor node, out string ranOn);
            Assert.That(ranOn, Is.EqualTo(_vulkan.Name), $"{c.Name}: ran on {ranOn}");
            string shader = FlashAttnOp.ShaderName(node, device);
            Assert.That(shader.EndsWith("_sg", StringComparison.Ordinal), Is.EqualTo(subgroup), shader);
            TestContext.Out.WriteLine($"{c.Name}: {shader}");
            BackendOpTests.AssertClose(gpu, cpu, c.MaxNmseVsCpu, $"Vulkan ({shader}) vs CPU");
        }
        finally
        {
            Environment.SetEnvironmentVariable(NoSubgroup, old);
        }
    }

    private static double[] Run(OpCase c, IBackend first, IBackend? fallback, out Tensor node, out string ranOn)
    {
        var inputs = new OpInputs(1234);
        var g = new GraphBuilder();
        node = c.Build(g, inputs);
        Graph graph = g.Build(node);
        using var sched = fallback is null ? new Scheduler(first) : new Scheduler(first, fallback);
        Assert.That(sched.Allocate(graph), Is.EqualTo(Status.Success));
        inputs.Upload();
        Assert.That(sched.Compute(graph), Is.EqualTo(Status.Success));
        ranOn = sched.BackendOf(node).Name;
        return BackendOpTests.ReadOutput(node);
    }
}
