using System.Text.Json;
using Weft.Core;
using Weft.Cpu;
using Weft.Vulkan;

namespace Weft.Cli.Commands;

/// <summary>
/// <c>weft devices [--json]</c>: every compute device Weft can use, in priority order: each Vulkan device with its
/// compute features and memory heaps (or why there is none), then the CPU.
/// </summary>
[Verb("devices", "List compute devices (Vulkan GPUs with their features, then the CPU)", Usage = """
    Usage: weft devices [--json] [--bench]

      --json   machine-readable output
      --bench  also time a 4096x4096 matrix x vector per weight type and a flash-attention decode step (head 128, 32 heads, kv 4096; F16 and Q8_0 K/V) on each Vulkan device
    Environment: WEFT_DISABLE_VULKAN=1 hides Vulkan, WEFT_VULKAN_DEVICE=N keeps only device N,
                 WEFT_VULKAN_MAX_ALLOC=BYTES caps single allocations.
    """)]
public sealed class DevicesCommand : ICommand
{
    /// <inheritdoc/>
    public Task<int> RunAsync(CliArgs args, CancellationToken cancellationToken)
    {
        bool json = args.Flag("--json");
        bool bench = args.Flag("--bench");
        List<string> pos = args.Positionals();
        args.EnsureAllUsed();
        if (pos.Count != 0)
        {
            throw new CliUsageException($"unexpected argument '{pos[0]}'");
        }
        BackendRegistry registry = BackendRegistry.Default;
        var vulkan = registry.Find("Vulkan") as VulkanBackendRegistry;
        string vulkanStatus = vulkan?.Status ?? (registry.Disabled.Contains("Vulkan") ? "Vulkan disabled by WEFT_DISABLE_VULKAN" : "Vulkan backend not found");
        IReadOnlyList<VulkanDevice> gpus = vulkan?.VulkanDevices ?? [];
        IDevice? cpu = registry.Find("CPU")?.Devices.FirstOrDefault();
        if (json)
        {
            using var stream = Console.OpenStandardOutput();
            using var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true });
            w.WriteStartObject();
            w.WriteString("vulkanStatus", vulkanStatus);
            w.WriteStartArray("devices");
            foreach (VulkanDevice d in gpus)
            {
                VulkanDeviceInfo i = d.Info;
                w.WriteStartObject();
                w.WriteString("name", d.Name);
                w.WriteString("backend", "Vulkan");
                w.WriteString("description", i.Name);
                w.WriteString("type", i.TypeName);
                w.WriteString("kind", d.Kind.ToString());
                w.WriteString("apiVersion", i.ApiVersion);
                w.WriteNumber("vendorId", i.VendorId);
                w.WriteBoolean("fp16Storage", i.Storage16Bit);
                w.WriteBoolean("fp16Arithmetic", i.ShaderFloat16);
                w.WriteBoolean("int8Storage", i.Storage8Bit);
                w.WriteBoolean("int8Arithmetic", i.ShaderInt8);
                w.WriteNumber("subgroupSize", i.SubgroupSize);
                w.WriteString("subgroupOperations", i.SubgroupOperationNames);
                w.WriteNumber("sharedMemoryBytes", i.MaxComputeSharedMemorySize);
                w.WriteNumber("maxAllocationBytes", i.MaxMemoryAllocationSize);
                w.WriteNumber("maxStorageBufferRangeBytes", i.MaxStorageBufferRange);
                w.WriteNumber("effectiveMaxBufferBytes", d.MaxAllocation);
                w.WriteStartArray("heaps");
                foreach (var (size, local) in i.Heaps)
                {
                    w.WriteStartObject();
                    w.WriteNumber("bytes", size);
                    w.WriteBoolean("deviceLocal", local);
                    w.WriteEndObject();
                }
                w.WriteEndArray();
                w.WriteEndObject();
            }
            if (cpu is not null)
            {
                w.WriteStartObject();
                w.WriteString("name", cpu.Name);
                w.WriteString("backend", "CPU");
                w.WriteString("description", CpuFeatures.Describe());
                w.WriteString("kind", cpu.Kind.ToString());
                w.WriteNumber("threads", Environment.ProcessorCount);
                w.WriteNumber("memoryBytes", cpu.GetMemory().Total);
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteEndObject();
            w.Flush();
            Console.WriteLine();
            return Task.FromResult(0);
        }
        Console.WriteLine(vulkanStatus);
        foreach (VulkanDevice d in gpus)
        {
            VulkanDeviceInfo i = d.Info;
            Console.WriteLine($"{d.Name}: {i.Name} ({i.TypeName}, Vulkan {i.ApiVersion}){(d.Kind == DeviceKind.CpuSoftware ? " [software: used only with --backend vulkan]" : "")}");
            Console.WriteLine($"  fp16 storage {YesNo(i.Storage16Bit)}, fp16 arithmetic {YesNo(i.ShaderFloat16)}, int8 storage {YesNo(i.Storage8Bit)}, int8 arithmetic {YesNo(i.ShaderInt8)}");
            Console.WriteLine($"  subgroup {i.SubgroupSize} ({i.SubgroupOperationNames}), shared memory {i.MaxComputeSharedMemorySize / 1024} KiB");
            Console.WriteLine($"  max allocation {Mib(i.MaxMemoryAllocationSize)}, max storage buffer {Mib(i.MaxStorageBufferRange)}, Weft buffer cap {Mib(d.MaxAllocation)}");
            Console.WriteLine($"  heaps: {string.Join(", ", i.Heaps.Select(h => $"{Mib(h.Size)}{(h.DeviceLocal ? " device-local" : " host")}"))}");
            if (bench)
            {
                foreach (DType t in s_benchTypes)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    Console.WriteLine($"  4096x4096 matrix x vector {TypeTraits.Of(t).Name,-5} {VulkanBench.MatVecMilliseconds(d, t),8:0.0} ms");
                }
                foreach (DType t in s_attnTypes)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    Console.WriteLine($"  flash attention decode, head 128 x 32 heads, kv 4096, {TypeTraits.Of(t).Name,-5} {VulkanBench.FlashAttnDecodeMilliseconds(d, t),8:0.0} ms");
                }
            }
        }
        if (cpu is not null)
        {
            Console.WriteLine($"{cpu.Name}: {CpuFeatures.Describe()}, {Environment.ProcessorCount} threads, {Mib(cpu.GetMemory().Total)}");
        }
        return Task.FromResult(0);
    }

    private static readonly DType[] s_attnTypes = [DType.F16, DType.Q8_0];

    private static readonly DType[] s_benchTypes = [DType.F32, DType.F16, DType.Q8_0, DType.Q4_0, DType.Q4_K, DType.Q6_K];

    private static string YesNo(bool b) => b ? "yes" : "no";

    private static string Mib(long bytes) => $"{bytes / (1024.0 * 1024.0):0.#} MiB";
}
