namespace Weft.Search.Vectors;

/// <summary>
/// Restricts a search to labels it allows. Pass a struct to <c>Search&lt;TFilter&gt;</c> so the check is inlined;
/// the filter may be called from several threads at once and must not change during a search.
/// </summary>
public interface ILabelFilter
{
    /// <summary>True when <paramref name="label"/> may appear in the results.</summary>
    bool Allows(long label);
}

/// <summary>Filter from a delegate.</summary>
/// <param name="Predicate">Returns true for allowed labels.</param>
public readonly record struct PredicateFilter(Func<long, bool> Predicate) : ILabelFilter
{
    /// <inheritdoc/>
    public bool Allows(long label) => Predicate(label);
}

/// <summary>Filter that allows the labels of a set.</summary>
/// <param name="Labels">The allowed labels.</param>
public readonly record struct LabelSetFilter(IReadOnlySet<long> Labels) : ILabelFilter
{
    /// <inheritdoc/>
    public bool Allows(long label) => Labels.Contains(label);
}

/// <summary>The filter that allows everything (no filtering).</summary>
public readonly struct AllowAllFilter : ILabelFilter
{
    /// <inheritdoc/>
    public bool Allows(long label) => true;
}
