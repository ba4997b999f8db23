namespace Weft.Core;

/// <summary>Outcome of an expected runtime operation (ggml_status): failures a caller can handle without an exception.</summary>
public enum Status
{
    /// <summary>The operation completed.</summary>
    Success = 0,
    /// <summary>A buffer could not be allocated (out of device or host memory, or larger than the buffer type's maximum).</summary>
    AllocFailed = -2,
    /// <summary>The backend failed to run the work (device lost, unsupported node).</summary>
    Failed = -1,
    /// <summary>The work was stopped before the end at the caller's request.</summary>
    Aborted = 1,
}
