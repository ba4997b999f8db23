namespace Weft.Vulkan;

internal static partial class ShaderTable
{
    /// <summary>The SPIR-V of variant <paramref name="name"/>, from the embedded resources.</summary>
    /// <exception cref="KeyNotFoundException">No such variant was compiled.</exception>
    public static byte[] Load(string name)
    {
        using Stream? s = typeof(ShaderTable).Assembly.GetManifestResourceStream($"shaders/{name}.spv");
        if (s is null)
        {
            throw new KeyNotFoundException($"Shader variant '{name}' is not embedded in Weft.Vulkan; add it to shaders/variants.json.");
        }
        var data = new byte[s.Length];
        s.ReadExactly(data);
        return data;
    }

    /// <summary>True when variant <paramref name="name"/> was compiled.</summary>
    public static bool Has(string name) => Array.IndexOf(Names, name) >= 0;
}
