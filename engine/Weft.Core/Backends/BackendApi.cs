namespace Weft.Core;

/// <summary>Version of the backend interface (<see cref="IBackendRegistry"/> and the types below it).</summary>
/// <remarks>
/// A registry reports the version it was built against in <see cref="IBackendRegistry.ApiVersion"/>;
/// <see cref="BackendRegistry.Add"/> refuses a mismatch, so an out-of-date backend assembly fails with a message
/// instead of a <see cref="MissingMethodException"/> in the middle of a run.
/// </remarks>
public static class BackendApi
{
    /// <summary>The current interface version. Bump it on any breaking change to the backend interfaces.</summary>
    public const int Version = 1;
}
