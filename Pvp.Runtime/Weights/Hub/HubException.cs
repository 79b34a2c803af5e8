namespace Pvp.Weights.Hub;

/// <summary>
/// A Hub file could not be found or fetched. The message is one line naming the model id, the URL (or the cache folder)
/// and the fix; it never holds the token.
/// </summary>
public sealed class HubException : IOException
{
    /// <summary>A failure of <paramref name="id"/> at <paramref name="where"/>.</summary>
    public HubException(string id, string where, string message, Exception? inner = null)
        : base(message, inner)
    {
        Id = id;
        Where = where;
    }

    /// <summary>The model id, as written (<c>hf-hub:org/name[@revision]</c>).</summary>
    public string Id { get; }

    /// <summary>The URL asked, or the cache folder looked in.</summary>
    public string Where { get; }

    /// <summary>The HTTP status that caused it, when one did.</summary>
    public int? StatusCode { get; init; }
}
