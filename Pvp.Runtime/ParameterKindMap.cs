namespace Pvp;

/// <summary>
/// A model's map from its PETuning parameters' state-dict names to their methods' kind names, written by the generator
/// from the declaration's layout. A pattern is a dotted name where <c>*</c> stands for one segment (a block index); one
/// ending in <c>.</c> covers every parameter under that module (<c>blocks.*.ssf_attn.</c>). Parameters it does not name
/// are the backbone's or the head's (<see cref="ParameterNaming.BackboneKindsOf"/>).
/// </summary>
public sealed class ParameterKindMap
{
    private readonly (string[] Segments, bool Subtree, string Kind)[] entries;

    /// <summary>Creates it from (pattern, kind name) pairs; the first pattern that matches a name decides.</summary>
    /// <exception cref="ArgumentException">A pattern or kind name is empty.</exception>
    public ParameterKindMap(params (string Pattern, string Kind)[] entries)
    {
        foreach (var (pattern, kind) in entries)
            if (string.IsNullOrEmpty(pattern) || string.IsNullOrEmpty(kind))
                throw new ArgumentException("Every entry needs a pattern and a kind name.", nameof(entries));
        Entries = entries;
        this.entries = entries
            .Select(e => (e.Pattern.TrimEnd('.').Split('.'), e.Pattern.EndsWith('.'), e.Kind))
            .ToArray();
    }

    /// <summary>No PETuning parameters.</summary>
    public static ParameterKindMap Empty { get; } = new();

    /// <summary>The (pattern, kind name) pairs.</summary>
    public IReadOnlyList<(string Pattern, string Kind)> Entries { get; }

    /// <summary>The method kinds the map names, first use first.</summary>
    public IEnumerable<string> Kinds => Entries.Select(e => e.Kind).Distinct(StringComparer.Ordinal);

    /// <summary>
    /// The kind name of the method that owns <paramref name="name"/>, or null when no pattern names it.
    /// </summary>
    public string? KindOf(string name)
    {
        string[] parts = name.Split('.');
        foreach (var (segments, subtree, kind) in entries)
        {
            if (subtree ? parts.Length <= segments.Length : parts.Length != segments.Length) continue;
            bool match = true;
            for (int i = 0; i < segments.Length && match; i++)
                match = segments[i] == "*" || segments[i] == parts[i];
            if (match) return kind;
        }
        return null;
    }
}
