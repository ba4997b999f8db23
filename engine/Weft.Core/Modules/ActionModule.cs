namespace Weft.Core;

/// <summary>A module made of a delegate (<c>b.AddModule(b =&gt; ...)</c>); not unique.</summary>
public sealed class ActionModule : IModule
{
    private readonly Action<EngineBuilder> _build;

    /// <summary>Wraps <paramref name="build"/>.</summary>
    /// <exception cref="ArgumentNullException"><paramref name="build"/> is null.</exception>
    public ActionModule(Action<EngineBuilder> build)
    {
        ArgumentNullException.ThrowIfNull(build);
        _build = build;
        Name = $"{build.Method.DeclaringType?.FullName}.{build.Method.Name}";
    }

    /// <inheritdoc/>
    public string Name { get; }

    /// <inheritdoc/>
    public bool IsUnique => false;

    /// <inheritdoc/>
    public void Build(EngineBuilder builder) => _build(builder);
}
