namespace Weft.Core;

/// <summary>Memory of a device in bytes, as reported by <see cref="IDevice.GetMemory"/>.</summary>
/// <param name="Free">Bytes currently available for new buffers (an estimate on most devices).</param>
/// <param name="Total">Bytes the device has in all.</param>
public readonly record struct DeviceMemory(long Free, long Total);
