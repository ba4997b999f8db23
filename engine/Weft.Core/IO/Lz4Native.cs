using System.Runtime.InteropServices;

namespace Weft.Core.IO;

/// <summary>
/// Function pointers into the system liblz4, loaded once with <see cref="NativeLibrary"/> (no DllImport resolver, so
/// other code in this assembly stays free to install its own).
/// </summary>
internal sealed unsafe class Lz4Native
{
    /// <summary>LZ4F_VERSION the frame API expects.</summary>
    public const uint Version = 100;

    private static readonly Lazy<(Lz4Native? Lib, string Error)> s_lib = new(Load);

    public readonly delegate* unmanaged<nuint, Lz4Frame.Preferences*, nuint> CompressFrameBound;
    public readonly delegate* unmanaged<byte*, nuint, byte*, nuint, Lz4Frame.Preferences*, nuint> CompressFrame;
    public readonly delegate* unmanaged<nint*, uint, nuint> CreateDecompressionContext;
    public readonly delegate* unmanaged<nint, nuint> FreeDecompressionContext;
    public readonly delegate* unmanaged<nint, byte*, nuint*, byte*, nuint*, void*, nuint> Decompress;
    private readonly delegate* unmanaged<nuint, uint> _isError;
    private readonly delegate* unmanaged<nuint, byte*> _getErrorName;

    private Lz4Native(nint h)
    {
        CompressFrameBound = (delegate* unmanaged<nuint, Lz4Frame.Preferences*, nuint>)NativeLibrary.GetExport(h, "LZ4F_compressFrameBound");
        CompressFrame = (delegate* unmanaged<byte*, nuint, byte*, nuint, Lz4Frame.Preferences*, nuint>)NativeLibrary.GetExport(h, "LZ4F_compressFrame");
        CreateDecompressionContext = (delegate* unmanaged<nint*, uint, nuint>)NativeLibrary.GetExport(h, "LZ4F_createDecompressionContext");
        FreeDecompressionContext = (delegate* unmanaged<nint, nuint>)NativeLibrary.GetExport(h, "LZ4F_freeDecompressionContext");
        Decompress = (delegate* unmanaged<nint, byte*, nuint*, byte*, nuint*, void*, nuint>)NativeLibrary.GetExport(h, "LZ4F_decompress");
        _isError = (delegate* unmanaged<nuint, uint>)NativeLibrary.GetExport(h, "LZ4F_isError");
        _getErrorName = (delegate* unmanaged<nuint, byte*>)NativeLibrary.GetExport(h, "LZ4F_getErrorName");
    }

    public static bool TryGet(out Lz4Native? lib)
    {
        lib = s_lib.Value.Lib;
        return lib is not null;
    }

    public static Lz4Native Get() =>
        s_lib.Value.Lib ?? throw new Lz4Exception(s_lib.Value.Error);

    /// <summary>Throws when <paramref name="code"/> is an LZ4F error code.</summary>
    public void Check(nuint code, string function)
    {
        if (_isError(code) != 0)
        {
            string name = Marshal.PtrToStringUTF8((nint)_getErrorName(code)) ?? "unknown error";
            throw new Lz4Exception($"{function} failed: {name}");
        }
    }

    private static (Lz4Native?, string) Load()
    {
        string[] names = OperatingSystem.IsWindows() ? ["liblz4.dll", "lz4.dll"]
            : OperatingSystem.IsMacOS() ? ["liblz4.1.dylib", "liblz4.dylib"]
            : ["liblz4.so.1", "liblz4.so"];
        foreach (string name in names)
        {
            if (NativeLibrary.TryLoad(name, typeof(Lz4Native).Assembly, null, out nint h))
            {
                try
                {
                    return (new Lz4Native(h), "");
                }
                catch (EntryPointNotFoundException ex)
                {
                    return (null, $"{name} is too old for the LZ4 frame API ({ex.Message}); install liblz4 1.8 or later.");
                }
            }
        }
        return (null, $"the system LZ4 library was not found (tried {string.Join(", ", names)}); install it (Debian/Ubuntu: apt-get install liblz4-1; Windows: put liblz4.dll beside the program).");
    }
}
