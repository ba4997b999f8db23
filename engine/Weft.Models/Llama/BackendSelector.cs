using Weft.Core;
using Weft.Cpu;

namespace Weft.Models.Llama;

/// <summary>Turns a <see cref="BackendChoice"/> into backends in priority order (CPU last, as the fallback).</summary>
public static class BackendSelector
{
    /// <summary>Creates the backends for <paramref name="choice"/>.</summary>
    /// <param name="choice">Auto, Cpu or Vulkan.</param>
    /// <param name="threads">CPU threads (0: all cores).</param>
    /// <param name="note">One line saying what was chosen and why.</param>
    /// <exception cref="NotSupportedException">Vulkan was asked for and no Vulkan device is usable.</exception>
    public static IBackend[] Create(BackendChoice choice, int threads, out string note)
    {
        var cpu = new CpuBackend(threads > 0 ? threads : Environment.ProcessorCount);
        if (choice == BackendChoice.Cpu)
        {
            note = $"backend: CPU ({CpuFeatures.Describe()}, {cpu.Threads} threads)";
            return [cpu];
        }
        IDevice? gpu = null;
        string why = "no GPU backend is registered";
        foreach (IBackendRegistry reg in BackendRegistry.Default.Registries)
        {
            if (reg.Devices.Count == 0)
            {
                if (reg.Status is string status)
                {
                    why = $"{reg.Name}: {status}";
                }
                continue;
            }
            if (reg.Devices[0].Kind == DeviceKind.Cpu)
            {
                continue;
            }
            foreach (IDevice d in reg.Devices)
            {
                bool software = d.Kind == DeviceKind.CpuSoftware;
                if (choice == BackendChoice.Vulkan || !software)
                {
                    gpu = d;
                    break;
                }
                why = $"only a software Vulkan device ({d.Name}) is present; auto uses the CPU (pass --backend vulkan to use it)";
            }
            if (gpu is not null)
            {
                break;
            }
        }
        if (gpu is null)
        {
            if (choice == BackendChoice.Vulkan)
            {
                cpu.Dispose();
                throw new NotSupportedException($"--backend vulkan: no Vulkan device is available ({why}).");
            }
            note = $"backend: CPU ({CpuFeatures.Describe()}, {cpu.Threads} threads): {why}";
            return [cpu];
        }
        note = $"backend: {gpu.Name} with CPU fallback";
        return [gpu.CreateBackend(), cpu];
    }
}
