namespace Pvp.Weights.Hub;

/// <summary>
/// The Hugging Face cache as huggingface_hub lays it out (<c>file_download.py</c>,
/// <c>_hf_hub_download_to_cache_dir</c>): <c>{root}/models--org--name/blobs/{etag}</c> holds each file once,
/// <c>refs/{revision}</c> the commit hash a branch or tag last resolved to, <c>snapshots/{commit}/{file}</c> a relative
/// symlink <c>../../blobs/{etag}</c>, and <c>.no_exist/{commit}/{file}</c> marks a file the server said is absent;
/// locks are <c>{root}/.locks/models--org--name/{etag}.lock</c>. Paths only, plus the two atomic writes (ref, pointer).
/// </summary>
/// <param name="Root">The cache root (<see cref="HubOptions.CacheFolder"/>).</param>
/// <param name="Id">The model.</param>
public sealed record HubCache(string Root, HubModelId Id)
{
    /// <summary>The repository's folder: <c>{root}/models--org--name</c>.</summary>
    public string Storage => Path.Combine(Root, Id.FolderName);

    /// <summary>A blob by its etag (git sha-1 or LFS sha-256).</summary>
    public string Blob(string etag) => Path.Combine(Storage, "blobs", etag);

    /// <summary>The partial download of a blob, resumed from its length.</summary>
    public string Incomplete(string etag) => Blob(etag) + ".incomplete";

    /// <summary>The lock a download of a blob holds (shared with Python's filelock: both use flock).</summary>
    public string Lock(string etag) => Path.Combine(Root, ".locks", Id.FolderName, etag + ".lock");

    /// <summary>The file of a commit's snapshot.</summary>
    public string Pointer(string commit, string file) => Path.Combine(Storage, "snapshots", commit, Local(file));

    /// <summary>The marker of a file absent at a commit.</summary>
    public string NoExist(string commit, string file) => Path.Combine(Storage, ".no_exist", commit, Local(file));

    /// <summary>The file holding the commit a branch or tag resolved to.</summary>
    public string Ref(string revision) => Path.Combine(Storage, "refs", Local(revision));

    /// <summary>
    /// The commit <paramref name="revision"/> stands for in the cache: itself when a hash, else its ref's content.
    /// </summary>
    public string? CommitOf(string revision)
    {
        if (HubModelId.IsCommitHash(revision)) return revision;
        string refFile = Ref(revision);
        return File.Exists(refFile) && File.ReadAllText(refFile).Trim() is { } commit && HubModelId.IsCommitHash(commit)
            ? commit
            : null;
    }

    /// <summary>
    /// What the cache knows of <paramref name="file"/> at
    /// <paramref name="revision"/>: its path, or that it is absent, or nothing.
    /// </summary>
    public CachedFile Find(string revision, string file)
    {
        if (CommitOf(revision) is not { } commit) return new CachedFile(null, false, null);
        string pointer = Pointer(commit, file);
        if (File.Exists(pointer))
            return new CachedFile(pointer, false, commit); // File.Exists follows the symlink: a dangling one is no file
        return new CachedFile(null, File.Exists(NoExist(commit, file)), commit);
    }

    /// <summary>
    /// Records that <paramref name="revision"/> resolved to <paramref name="commit"/> (nothing to do for a hash).
    /// </summary>
    public void WriteRef(string revision, string commit)
    {
        if (revision == commit) return;
        string refFile = Ref(revision);
        if (File.Exists(refFile) && File.ReadAllText(refFile).Trim() == commit) return;
        Directory.CreateDirectory(Path.GetDirectoryName(refFile)!);
        string temp = $"{refFile}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp";
        File.WriteAllText(temp, commit); // no newline, as huggingface_hub writes it
        File.Move(temp, refFile, overwrite: true);
    }

    /// <summary>Marks <paramref name="file"/> absent at <paramref name="commit"/>.</summary>
    public void WriteNoExist(string commit, string file)
    {
        string marker = NoExist(commit, file);
        Directory.CreateDirectory(Path.GetDirectoryName(marker)!);
        using (File.Open(marker, FileMode.OpenOrCreate)) { }
    }

    /// <summary>
    /// Places the snapshot's pointer to a blob atomically: a relative symlink made beside it, renamed over the pointer
    /// (where symlinks cannot be made, a copy, as huggingface_hub falls back to).
    /// </summary>
    public string Link(string commit, string file, string etag)
    {
        string pointer = Pointer(commit, file), blob = Blob(etag);
        string folder = Path.GetDirectoryName(pointer)!;
        Directory.CreateDirectory(folder);
        string temp = Path.Combine(folder,
            $".{Path.GetFileName(pointer)}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp");
        try
        {
            File.CreateSymbolicLink(temp, Path.GetRelativePath(folder, blob));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or PlatformNotSupportedException)
        {
            File.Copy(blob, temp, overwrite: true);
        }
        File.Move(temp, pointer, overwrite: true);
        return pointer;
    }

    private static string Local(string repoPath) => Path.Combine(repoPath.Split('/'));
}

/// <summary>What the cache holds for one file at one revision.</summary>
/// <param name="Path">The snapshot file, when cached.</param>
/// <param name="KnownAbsent">The server said the file does not exist at that commit (<c>.no_exist</c>).</param>
/// <param name="Commit">The commit the revision resolved to in the cache, if any.</param>
public sealed record CachedFile(string? Path, bool KnownAbsent, string? Commit);
