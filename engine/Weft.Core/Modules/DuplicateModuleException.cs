namespace Weft.Core;

/// <summary>A unique module (<see cref="IModule.IsUnique"/>) was added twice.</summary>
public sealed class DuplicateModuleException : InvalidOperationException
{
    /// <summary>Creates the exception for the module called <paramref name="moduleName"/>.</summary>
    public DuplicateModuleException(string moduleName)
        : base($"Module '{moduleName}' was added twice. Add it once (remove the second AddModule, or Disable it in the module group that also adds it), or make it non-unique (IsUnique => false) if it really can be added several times.")
    {
        ModuleName = moduleName;
    }

    /// <summary>The duplicated module's name.</summary>
    public string ModuleName { get; }
}
