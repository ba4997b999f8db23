using System.Runtime.InteropServices;
using System.Text;
using Weft.Vulkan.Interop;

namespace Weft.Vulkan;

/// <summary>The process-wide Vulkan instance (created once, on first use) and what it found.</summary>
internal sealed unsafe class VulkanInstance
{
    private static readonly Lazy<VulkanInstance> s_shared = new(() => new VulkanInstance());

    private VulkanInstance()
    {
        if (!Vk.TryLoad())
        {
            Error = Vk.LoadError;
            return;
        }
        var create = (delegate* unmanaged<VkInstanceCreateInfo*, void*, nint*, int>)Vk.InstanceProc(0, "vkCreateInstance");
        if (create is null)
        {
            Error = "the Vulkan loader has no vkCreateInstance";
            return;
        }
        byte[] appName = "Weft\0"u8.ToArray();
        byte[] layer = "VK_LAYER_KHRONOS_validation\0"u8.ToArray();
        bool validate = Environment.GetEnvironmentVariable("WEFT_VULKAN_VALIDATE") == "1";
        fixed (byte* pName = appName, pLayer = layer)
        {
            var app = new VkApplicationInfo { SType = 0, PApplicationName = pName, PEngineName = pName, ApiVersion = MakeVersion(1, 2, 0) };
            byte* layers = pLayer;
            var ci = new VkInstanceCreateInfo { SType = 1, PApplicationInfo = &app };
            if (validate)
            {
                ci.EnabledLayerCount = 1;
                ci.PpEnabledLayerNames = &layers;
            }
            nint inst;
            int r = create(&ci, null, &inst);
            if (r == -6 && validate)
            {
                // VK_ERROR_LAYER_NOT_PRESENT: validation asked for but not installed; go on without it.
                ValidationNote = "WEFT_VULKAN_VALIDATE=1 but VK_LAYER_KHRONOS_validation is not installed";
                ci.EnabledLayerCount = 0;
                r = create(&ci, null, &inst);
            }
            else if (validate && r == Vk.Success)
            {
                ValidationNote = "validation layer on";
            }
            if (r != Vk.Success)
            {
                Error = r == -9 ? "no Vulkan driver (ICD) is installed (apt-get install mesa-vulkan-drivers for lavapipe, or a GPU driver)" : $"vkCreateInstance failed with {Vk.ResultName(r)}";
                return;
            }
            Handle = inst;
        }
        Api = new VkInstanceApi(Handle);
        uint count = 0;
        Vk.Check(Api.EnumeratePhysicalDevices(Handle, &count, null), "vkEnumeratePhysicalDevices");
        var handles = new nint[count];
        fixed (nint* ph = handles)
        {
            int r = Api.EnumeratePhysicalDevices(Handle, &count, ph);
            if (r != Vk.Success && r != Vk.Incomplete)
            {
                Error = $"vkEnumeratePhysicalDevices failed with {Vk.ResultName(r)}";
                return;
            }
        }
        var list = new List<VulkanDeviceInfo>();
        for (int i = 0; i < count; i++)
        {
            list.Add(VulkanDeviceInfo.Query(Api, handles[i], i));
        }
        Physical = list;
        if (list.Count == 0)
        {
            Error = "the Vulkan loader found no physical device (no ICD installed: apt-get install mesa-vulkan-drivers for lavapipe)";
        }
    }

    /// <summary>The shared instance.</summary>
    public static VulkanInstance Shared => s_shared.Value;

    /// <summary>VkInstance handle (0 when creation failed).</summary>
    public nint Handle { get; }

    /// <summary>Instance entry points (null when creation failed).</summary>
    public VkInstanceApi? Api { get; }

    /// <summary>Why there is no usable device, or null.</summary>
    public string? Error { get; }

    /// <summary>State of the validation layer when asked for, or null.</summary>
    public string? ValidationNote { get; }

    /// <summary>Every physical device in enumeration order.</summary>
    public IReadOnlyList<VulkanDeviceInfo> Physical { get; } = [];

    public static uint MakeVersion(uint major, uint minor, uint patch) => (major << 22) | (minor << 12) | patch;
}

/// <summary>What a physical device offers for compute, read once at enumeration.</summary>
public sealed unsafe class VulkanDeviceInfo
{
    internal nint Physical { get; private init; }

    /// <summary>Index in the loader's enumeration order.</summary>
    public int Index { get; private init; }

    /// <summary>Device name reported by the driver.</summary>
    public string Name { get; private init; } = "";

    /// <summary>VkPhysicalDeviceType: 1 integrated, 2 discrete, 3 virtual, 4 CPU, 0 other.</summary>
    public int DeviceType { get; private init; }

    /// <summary>Vulkan API version the device supports, "major.minor.patch".</summary>
    public string ApiVersion { get; private init; } = "";

    internal uint ApiVersionRaw { get; private init; }

    /// <summary>PCI vendor id.</summary>
    public uint VendorId { get; private init; }

    /// <summary>Driver version (vendor-specific encoding).</summary>
    public uint DriverVersion { get; private init; }

    /// <summary>Largest storage buffer binding in bytes.</summary>
    public long MaxStorageBufferRange { get; private init; }

    /// <summary>Largest single allocation in bytes (VkPhysicalDeviceMaintenance3Properties).</summary>
    public long MaxMemoryAllocationSize { get; private init; }

    /// <summary>Shared memory per workgroup in bytes.</summary>
    public int MaxComputeSharedMemorySize { get; private init; }

    /// <summary>Largest workgroup size (invocations).</summary>
    public int MaxComputeWorkGroupInvocations { get; private init; }

    /// <summary>Largest dispatch count along x.</summary>
    public uint MaxComputeWorkGroupCountX { get; private init; }

    /// <summary>Largest push-constant block in bytes.</summary>
    public int MaxPushConstantsSize { get; private init; }

    /// <summary>Required alignment of storage-buffer descriptor offsets.</summary>
    public long MinStorageBufferOffsetAlignment { get; private init; }

    /// <summary>Nanoseconds per timestamp tick.</summary>
    public float TimestampPeriod { get; private init; }

    /// <summary>Subgroup (wave) size.</summary>
    public int SubgroupSize { get; private init; }

    /// <summary>VkSubgroupFeatureFlags supported in compute (basic, vote, arithmetic, ballot, shuffle...).</summary>
    public uint SubgroupOperations { get; private init; }

    /// <summary>16-bit storage in storage buffers.</summary>
    public bool Storage16Bit { get; private init; }

    /// <summary>8-bit storage in storage buffers.</summary>
    public bool Storage8Bit { get; private init; }

    /// <summary>Float16 arithmetic in shaders.</summary>
    public bool ShaderFloat16 { get; private init; }

    /// <summary>Int8 arithmetic in shaders.</summary>
    public bool ShaderInt8 { get; private init; }

    /// <summary>Queue family with compute support, or -1.</summary>
    public int ComputeQueueFamily { get; private init; }

    /// <summary>Valid timestamp bits on the compute queue (0: no timestamps).</summary>
    public int TimestampValidBits { get; private init; }

    /// <summary>Memory heaps: size in bytes and whether the heap is device-local.</summary>
    public IReadOnlyList<(long Size, bool DeviceLocal)> Heaps { get; private init; } = [];

    /// <summary>Memory types: property flags (VkMemoryPropertyFlags) and heap index.</summary>
    internal IReadOnlyList<(uint Flags, int Heap)> MemoryTypes { get; private init; } = [];

    /// <summary>"discrete GPU", "integrated GPU", "virtual GPU", "CPU" or "other".</summary>
    public string TypeName => DeviceType switch { 1 => "integrated GPU", 2 => "discrete GPU", 3 => "virtual GPU", 4 => "CPU", _ => "other" };

    /// <summary>Names of the supported subgroup operations.</summary>
    public string SubgroupOperationNames
    {
        get
        {
            string[] names = ["basic", "vote", "arithmetic", "ballot", "shuffle", "shuffle_relative", "clustered", "quad"];
            var parts = new List<string>();
            for (int i = 0; i < names.Length; i++)
            {
                if ((SubgroupOperations & (1u << i)) != 0)
                {
                    parts.Add(names[i]);
                }
            }
            return string.Join(",", parts);
        }
    }

    internal static VulkanDeviceInfo Query(VkInstanceApi api, nint pd, int index)
    {
        // VkPhysicalDeviceProperties2 → VkPhysicalDeviceSubgroupProperties → VkPhysicalDeviceMaintenance3Properties.
        byte* props = stackalloc byte[1024];
        byte* subgroup = stackalloc byte[32];
        byte* maint3 = stackalloc byte[32];
        new Span<byte>(props, 1024).Clear();
        new Span<byte>(subgroup, 32).Clear();
        new Span<byte>(maint3, 32).Clear();
        *(int*)props = 1000059001;
        *(void**)(props + 8) = subgroup;
        *(int*)subgroup = 1000094000;
        *(void**)(subgroup + 8) = maint3;
        *(int*)maint3 = 1000168000;
        byte* p;
        if (api.GetPhysicalDeviceProperties2 is not null)
        {
            api.GetPhysicalDeviceProperties2(pd, props);
            p = props + 16;
        }
        else
        {
            api.GetPhysicalDeviceProperties(pd, props + 16);
            p = props + 16;
        }
        uint apiVersion = *(uint*)p;
        string name = Encoding.UTF8.GetString(p + 20, new ReadOnlySpan<byte>(p + 20, 256).IndexOf((byte)0));
        byte* limits = p + 296;

        // VkPhysicalDeviceFeatures2 → Vulkan11Features → Vulkan12Features (only on 1.2+ devices).
        bool s16 = false, s8 = false, f16 = false, i8 = false;
        if (apiVersion >= VulkanInstance.MakeVersion(1, 2, 0) && api.GetPhysicalDeviceFeatures2 is not null)
        {
            byte* f2 = stackalloc byte[256];
            byte* v11 = stackalloc byte[128];
            byte* v12 = stackalloc byte[256];
            new Span<byte>(f2, 256).Clear();
            new Span<byte>(v11, 128).Clear();
            new Span<byte>(v12, 256).Clear();
            *(int*)f2 = 1000059000;
            *(void**)(f2 + 8) = v11;
            *(int*)v11 = 49;
            *(void**)(v11 + 8) = v12;
            *(int*)v12 = 51;
            api.GetPhysicalDeviceFeatures2(pd, f2);
            s16 = *(uint*)(v11 + 16) != 0;
            s8 = *(uint*)(v12 + 24) != 0;
            f16 = *(uint*)(v12 + 44) != 0;
            i8 = *(uint*)(v12 + 48) != 0;
        }

        byte* mem = stackalloc byte[528];
        api.GetPhysicalDeviceMemoryProperties(pd, mem);
        uint typeCount = *(uint*)mem;
        var types = new List<(uint, int)>();
        for (int i = 0; i < typeCount; i++)
        {
            types.Add((*(uint*)(mem + 4 + 8 * i), (int)*(uint*)(mem + 8 + 8 * i)));
        }
        uint heapCount = *(uint*)(mem + 260);
        var heaps = new List<(long, bool)>();
        for (int i = 0; i < heapCount; i++)
        {
            heaps.Add(((long)*(ulong*)(mem + 264 + 16 * i), (*(uint*)(mem + 272 + 16 * i) & 1) != 0));
        }

        uint qn = 0;
        api.GetPhysicalDeviceQueueFamilyProperties(pd, &qn, null);
        var qf = new VkQueueFamilyProperties[qn];
        int compute = -1, tsBits = 0;
        fixed (VkQueueFamilyProperties* pq = qf)
        {
            api.GetPhysicalDeviceQueueFamilyProperties(pd, &qn, pq);
        }
        for (int i = 0; i < qn; i++)
        {
            if ((qf[i].QueueFlags & Vk.QueueComputeBit) != 0)
            {
                compute = i;
                tsBits = (int)qf[i].TimestampValidBits;
                break;
            }
        }
        long maxAlloc = (long)*(ulong*)(maint3 + 24);
        return new VulkanDeviceInfo
        {
            Physical = pd,
            Index = index,
            Name = name,
            ApiVersionRaw = apiVersion,
            ApiVersion = $"{apiVersion >> 22}.{(apiVersion >> 12) & 0x3FF}.{apiVersion & 0xFFF}",
            DriverVersion = *(uint*)(p + 4),
            VendorId = *(uint*)(p + 8),
            DeviceType = *(int*)(p + 16),
            MaxStorageBufferRange = *(uint*)(limits + 28),
            MaxPushConstantsSize = (int)*(uint*)(limits + 32),
            MaxComputeSharedMemorySize = (int)*(uint*)(limits + 216),
            MaxComputeWorkGroupCountX = *(uint*)(limits + 220),
            MaxComputeWorkGroupInvocations = (int)*(uint*)(limits + 232),
            MinStorageBufferOffsetAlignment = (long)*(ulong*)(limits + 328),
            TimestampPeriod = *(float*)(limits + 424),
            MaxMemoryAllocationSize = maxAlloc > 0 ? maxAlloc : 1L << 30,
            SubgroupSize = (int)*(uint*)(subgroup + 16),
            SubgroupOperations = (*(uint*)(subgroup + 20) & Vk.ShaderStageCompute) != 0 ? *(uint*)(subgroup + 24) : 0,
            Storage16Bit = s16,
            Storage8Bit = s8,
            ShaderFloat16 = f16,
            ShaderInt8 = i8,
            ComputeQueueFamily = compute,
            TimestampValidBits = tsBits,
            Heaps = heaps,
            MemoryTypes = types,
        };
    }
}
