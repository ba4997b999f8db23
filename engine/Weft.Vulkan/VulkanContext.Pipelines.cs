using System.Runtime.InteropServices;
using Weft.Vulkan.Interop;

namespace Weft.Vulkan;

internal sealed unsafe partial class VulkanContext
{
    /// <summary>Bindings of every shader: 0 src0, 1 src1, 2 src2, 3 dst (shaders/common/head.glsl), 4 and 5 extra sources (flash attention's kv length and mask).</summary>
    public const int BindingCount = 6;

    private readonly Dictionary<(string, uint), ulong> _pipelines = new();
    private readonly Dictionary<string, ulong> _modules = new();
    private readonly object _pipelineLock = new();
    private ulong _setLayout;
    private ulong _pipelineLayout;
    private ulong _pipelineCache;
    private string? _cachePath;

    public ulong SetLayout => _setLayout;

    public ulong PipelineLayout => _pipelineLayout;

    /// <summary>Pipelines compiled so far (for tests and profiles).</summary>
    public int PipelineCount
    {
        get
        {
            lock (_pipelineLock)
            {
                return _pipelines.Count;
            }
        }
    }

    private void InitPipelines()
    {
        var bindings = stackalloc VkDescriptorSetLayoutBinding[BindingCount];
        for (int i = 0; i < BindingCount; i++)
        {
            bindings[i] = new VkDescriptorSetLayoutBinding { Binding = (uint)i, DescriptorType = Vk.DescriptorTypeStorageBuffer, DescriptorCount = 1, StageFlags = Vk.ShaderStageCompute };
        }
        var dsl = new VkDescriptorSetLayoutCreateInfo { SType = 32, BindingCount = BindingCount, PBindings = bindings };
        ulong setLayout;
        Vk.Check(Api.CreateDescriptorSetLayout(Handle, &dsl, null, &setLayout), "vkCreateDescriptorSetLayout");
        _setLayout = setLayout;
        var range = new VkPushConstantRange { StageFlags = Vk.ShaderStageCompute, Offset = 0, Size = (uint)sizeof(PushConstants) };
        var pl = new VkPipelineLayoutCreateInfo { SType = 30, SetLayoutCount = 1, PSetLayouts = &setLayout, PushConstantRangeCount = 1, PPushConstantRanges = &range };
        ulong layout;
        Vk.Check(Api.CreatePipelineLayout(Handle, &pl, null, &layout), "vkCreatePipelineLayout");
        _pipelineLayout = layout;

        // The pipeline cache lives in ~/.cache/weft (XDG_CACHE_HOME), one file per device; a bad file is ignored.
        byte[] initial = [];
        try
        {
            string? home = Environment.GetEnvironmentVariable("XDG_CACHE_HOME");
            if (string.IsNullOrEmpty(home))
            {
                home = Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache");
            }
            string safe = string.Concat(Info.Name.Select(c => char.IsLetterOrDigit(c) ? c : '_'));
            _cachePath = Path.Combine(home, "weft", $"vulkan-pipelines-{Info.VendorId:x4}-{safe}-{Info.DriverVersion:x}.bin");
            if (File.Exists(_cachePath))
            {
                initial = File.ReadAllBytes(_cachePath);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            _cachePath = null;
        }
        fixed (byte* pInit = initial)
        {
            var pc = new VkPipelineCacheCreateInfo { SType = 17, InitialDataSize = (nuint)initial.Length, PInitialData = pInit };
            ulong cache;
            if (Api.CreatePipelineCache(Handle, &pc, null, &cache) != Vk.Success)
            {
                pc.InitialDataSize = 0;
                Vk.Check(Api.CreatePipelineCache(Handle, &pc, null, &cache), "vkCreatePipelineCache");
            }
            _pipelineCache = cache;
        }
    }

    /// <summary>The compute pipeline of shader variant <paramref name="name"/> with workgroup size <paramref name="workgroup"/> (compiled once).</summary>
    public ulong GetPipeline(string name, uint workgroup)
    {
        lock (_pipelineLock)
        {
            if (_pipelines.TryGetValue((name, workgroup), out ulong pipe))
            {
                return pipe;
            }
            if (!_modules.TryGetValue(name, out ulong module))
            {
                byte[] spv = ShaderTable.Load(name);
                fixed (byte* code = spv)
                {
                    var smci = new VkShaderModuleCreateInfo { SType = 16, CodeSize = (nuint)spv.Length, PCode = (uint*)code };
                    Vk.Check(Api.CreateShaderModule(Handle, &smci, null, &module), $"vkCreateShaderModule({name})");
                }
                _modules[name] = module;
            }
            byte* entry = stackalloc byte[5] { (byte)'m', (byte)'a', (byte)'i', (byte)'n', 0 };
            var map = new VkSpecializationMapEntry { ConstantId = 0, Offset = 0, Size = 4 };
            uint wg = workgroup;
            var spec = new VkSpecializationInfo { MapEntryCount = 1, PMapEntries = &map, DataSize = 4, PData = &wg };
            var ci = new VkComputePipelineCreateInfo
            {
                SType = 29,
                Stage = new VkPipelineShaderStageCreateInfo { SType = 18, Stage = Vk.ShaderStageCompute, Module = module, PName = entry, PSpecializationInfo = &spec },
                Layout = _pipelineLayout,
                BasePipelineIndex = -1,
            };
            Vk.Check(Api.CreateComputePipelines(Handle, _pipelineCache, 1, &ci, null, &pipe), $"vkCreateComputePipelines({name})");
            _pipelines[(name, workgroup)] = pipe;
            return pipe;
        }
    }

    private void SavePipelineCache()
    {
        if (_cachePath is null || _pipelineCache == 0)
        {
            return;
        }
        try
        {
            nuint size = 0;
            if (Api.GetPipelineCacheData(Handle, _pipelineCache, &size, null) != Vk.Success || size == 0)
            {
                return;
            }
            var data = new byte[(int)size];
            fixed (byte* p = data)
            {
                if (Api.GetPipelineCacheData(Handle, _pipelineCache, &size, p) != Vk.Success)
                {
                    return;
                }
            }
            Directory.CreateDirectory(Path.GetDirectoryName(_cachePath)!);
            string tmp = _cachePath + ".tmp" + Environment.ProcessId;
            File.WriteAllBytes(tmp, data.AsSpan(0, (int)size).ToArray());
            File.Move(tmp, _cachePath, overwrite: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // The cache is an optimisation; failing to save it only costs compile time next run.
        }
    }

    /// <summary>Saves the pipeline cache now (also done on dispose and process exit).</summary>
    public void FlushPipelineCache() => SavePipelineCache();

    private void DisposePipelines()
    {
        foreach (ulong p in _pipelines.Values)
        {
            Api.DestroyPipeline(Handle, p, null);
        }
        foreach (ulong m in _modules.Values)
        {
            Api.DestroyShaderModule(Handle, m, null);
        }
        Api.DestroyPipelineCache(Handle, _pipelineCache, null);
        Api.DestroyPipelineLayout(Handle, _pipelineLayout, null);
        Api.DestroyDescriptorSetLayout(Handle, _setLayout, null);
    }
}

/// <summary>The push-constant block of shaders/common/head.glsl (128 bytes).</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct PushConstants
{
    public uint Ne00, Ne01, Ne02, Ne03, Nb00, Nb01, Nb02, Nb03;
    public uint Ne10, Ne11, Ne12, Ne13, Nb10, Nb11, Nb12, Nb13;
    public uint Ne0, Ne1, Ne2, Ne3, Nb0, Nb1, Nb2, Nb3;
    public uint Off0, Off1, Off2, OffD;
    public float F0, F1;
    public uint I0, I1;
}
