using System.Text.RegularExpressions;

namespace Pvp.Weights.Hub;

/// <summary>
/// A Hugging Face Hub model named where a weights path is accepted: <c>hf-hub:org/name</c>, optionally
/// <c>@revision</c> (a branch, tag or commit hash; <c>main</c> when absent), as timm's <c>create_model("hf-hub:…")</c>.
/// </summary>
/// <param name="Repo">The repository id, <c>org/name</c> (or a bare <c>name</c>, as the Hub's oldest models).</param>
/// <param name="Revision">The branch, tag or 40-hex commit hash.</param>
public sealed partial record HubModelId(string Repo, string Revision)
{
    /// <summary>The prefix that marks a Hub id where a path is accepted.</summary>
    public const string Prefix = "hf-hub:";

    /// <summary>The revision of an id that names none.</summary>
    public const string DefaultRevision = "main";

    /// <summary>True when <paramref name="text"/> is a Hub id (starts with <c>hf-hub:</c>), not a path.</summary>
    public static bool IsHubId(string? text) => text is not null && text.StartsWith(Prefix, StringComparison.Ordinal);

    /// <summary>Reads <c>hf-hub:org/name[@revision]</c>.</summary>
    /// <exception cref="ArgumentException">Not such an id; the message names it and the expected form.</exception>
    public static HubModelId Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (!IsHubId(text))
            throw new ArgumentException($"'{text}' is not a Hugging Face Hub id: " +
                                        $"write {Prefix}org/name or {Prefix}org/name@revision.");
        string body = text[Prefix.Length..].Trim();
        int at = body.IndexOf('@', StringComparison.Ordinal);
        string repo = at < 0 ? body : body[..at];
        string revision = at < 0 ? DefaultRevision : body[(at + 1)..];
        // The Hub's own rule (huggingface_hub's validate_repo_id): letters, digits, '-', '_', '.', no '--' or '..',
        // at most one '/', at most 96 characters.
        if (!RepoPattern().IsMatch(repo) || repo.Contains("--", StringComparison.Ordinal) ||
            repo.Contains("..", StringComparison.Ordinal) || repo.Length > 96)
            throw new ArgumentException($"'{text}': '{repo}' is not a Hub repository id; write {Prefix}org/name " +
                                        "(letters, digits, '-', '_', '.'; e.g. hf-hub:timm/vit_base_patch16_224.augreg_in21k).");
        if (revision.Length == 0 || !RevisionPattern().IsMatch(revision) ||
            revision.Contains("..", StringComparison.Ordinal) || revision.StartsWith('/') || revision.EndsWith('/'))
            throw new ArgumentException($"'{text}': '{revision}' is not a revision; after '@' give a branch, tag or commit hash " +
                                        "(e.g. @main, @v1.0, @refs/pr/1).");
        return new HubModelId(repo, revision);
    }

    /// <summary>
    /// The repository's folder in the cache: <c>models--org--name</c> (huggingface_hub's repo_folder_name).
    /// </summary>
    public string FolderName => "models--" + Repo.Replace("/", "--", StringComparison.Ordinal);

    /// <summary>Whether the revision is a full commit hash (40 lowercase hex digits).</summary>
    public bool RevisionIsCommit => CommitPattern().IsMatch(Revision);

    /// <summary>The id as written: <c>hf-hub:org/name</c>, with <c>@revision</c> unless it is <c>main</c>.</summary>
    public override string ToString() => Prefix + Repo + (Revision == DefaultRevision ? "" : "@" + Revision);

    internal static bool IsCommitHash(string? text) => text is not null && CommitPattern().IsMatch(text);

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9_.-]*(/[A-Za-z0-9][A-Za-z0-9_.-]*)?$")]
    private static partial Regex RepoPattern();

    [GeneratedRegex("^[A-Za-z0-9_.\\-/]+$")]
    private static partial Regex RevisionPattern();

    [GeneratedRegex("^[0-9a-f]{40}$")]
    private static partial Regex CommitPattern();
}
