using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;

namespace Pvp.Weights.Hub;

/// <summary>
/// Fetches single files of one Hub model into the cache the way huggingface_hub's <c>hf_hub_download</c> does
/// (<c>file_download.py</c>): a <c>HEAD</c> of <c>{endpoint}/{repo}/resolve/{revision}/{file}</c> without following
/// redirects except relative ones (a renamed repository), the commit from <c>X-Repo-Commit</c>, the etag from
/// <c>X-Linked-Etag</c> (an LFS file's sha-256) or <c>ETag</c>, the size from <c>X-Linked-Size</c> or
/// <c>Content-Length</c>, the download from the redirect's <c>Location</c> (the CDN, without the token) into
/// <c>blobs/{etag}.incomplete</c> under the lock, resumed with <c>Range</c>; then, unlike huggingface_hub, the bytes
/// are checked against the etag (sha-256 for LFS files, git's blob sha-1 otherwise) before the blob is renamed into
/// place.
/// </summary>
internal sealed class HubClient
{
    private static readonly HttpClient Http = new(new SocketsHttpHandler
    {
        AllowAutoRedirect = false,
        AutomaticDecompression = DecompressionMethods.None,
        PooledConnectionLifetime = TimeSpan.FromMinutes(2),
    })
    { Timeout = System.Threading.Timeout.InfiniteTimeSpan };

    private readonly HubOptions options;
    private readonly HubModelId id;
    private readonly HubCache cache;

    public HubClient(HubModelId id, HubOptions options)
    {
        this.id = id;
        this.options = options;
        cache = new HubCache(options.CacheFolder, id);
    }

    public HubCache Cache => cache;

    /// <summary>
    /// The URL of <paramref name="file"/> at <paramref name="revision"/> (huggingface_hub's hf_hub_url).
    /// </summary>
    public string Url(string revision, string file) =>
        $"{options.Endpoint.TrimEnd('/')}/{id.Repo}/resolve/{Uri.EscapeDataString(revision)}/" +
        $"{string.Join('/', file.Split('/').Select(Uri.EscapeDataString))}";

    /// <summary>What the server says of a file: where to get it, its commit, etag and size.</summary>
    private sealed record Metadata(string Commit, string Etag, long? Size, string Location, bool Redirected, bool Lfs);

    /// <summary>
    /// The cached path of <paramref name="file"/>, downloading it when needed; null when the repository does not
    /// have it at that revision (the server's 404 EntryNotFound, or the cache's <c>.no_exist</c> marker offline).
    /// </summary>
    /// <param name="file">The file's path in the repository.</param>
    /// <param name="commit">The commit it came from (or the cache's, offline).</param>
    /// <exception cref="HubException">
    /// Any other failure; one line naming the id, the URL or cache folder, and the fix.
    /// </exception>
    public string? Fetch(string file, out string? commit)
    {
        string revision = id.Revision;
        // A commit hash whose snapshot holds the file needs no request (as huggingface_hub).
        if (id.RevisionIsCommit && cache.Find(revision, file) is { } atCommit
            && (atCommit.Path is not null || atCommit.KnownAbsent))
        {
            commit = revision;
            return atCommit.Path;
        }
        if (options.Offline)
        {
            var cached = cache.Find(revision, file);
            commit = cached.Commit;
            return cached.Path;
        }

        string url = Url(revision, file);
        Metadata? metadata;
        try
        {
            metadata = Head(url, file);
        }
        catch (HubException e) when (e.StatusCode is null or >= 500)
        {
            // The server cannot be reached: what the cache holds for this revision is used, as huggingface_hub does.
            var cached = cache.Find(revision, file);
            commit = cached.Commit;
            if (cached.Path is not null || cached.KnownAbsent) return cached.Path;
            throw;
        }
        if (metadata is null)
        {
            commit = null;
            return null;
        }
        commit = metadata.Commit;
        cache.WriteRef(revision, metadata.Commit);
        string pointer = cache.Pointer(metadata.Commit, file);
        if (File.Exists(pointer)) return pointer;

        string blob = cache.Blob(metadata.Etag);
        Directory.CreateDirectory(Path.GetDirectoryName(blob)!);
        using (AcquireLock(metadata.Etag, url))
        {
            if (File.Exists(pointer)) return pointer; // another process finished it while this one waited
            if (!File.Exists(blob)) Download(url, file, metadata);
            return cache.Link(metadata.Commit, file, metadata.Etag);
        }
    }

    /// <summary>
    /// The file's metadata, or null when the server says the repository has no such file at that revision.
    /// </summary>
    private Metadata? Head(string url, string file)
    {
        string asked = url;
        for (int hop = 0; ; hop++)
        {
            using var response = Send(HttpMethod.Head, asked, withToken: true, range: 0, what: $"asking for {file}");
            int status = (int)response.StatusCode;
            string? location = Header(response, "Location");
            // Relative redirects are the Hub's own (a renamed or moved
            // repository): followed. Absolute ones point at the CDN.
            if (status is >= 300 and < 400 && location is not null && !IsAbsoluteHttp(location))
            {
                if (hop >= 10) throw Failure(url, $"the server redirected {hop} times", "check HF_ENDPOINT", status);
                asked = new Uri(new Uri(asked), location).ToString();
                continue;
            }
            string? commitHeader = Header(response, "X-Repo-Commit");
            if (status == 404 && Header(response, "X-Error-Code") is null or "EntryNotFound")
            {
                if (Header(response, "X-Error-Code") is null && commitHeader is null)
                    throw Failure(url, "the server answered 404 without saying whether the repository or the " +
                                       "file is missing",
                        "check the id and HF_ENDPOINT", status);
                if (HubModelId.IsCommitHash(commitHeader))
                {
                    cache.WriteNoExist(commitHeader!, file);
                    cache.WriteRef(id.Revision, commitHeader!);
                }
                return null;
            }
            if (status is not (>= 200 and < 400)) throw HttpFailure(url, response);
            if (!HubModelId.IsCommitHash(commitHeader))
                throw Failure(url, "the server sent no X-Repo-Commit header, so it is not a Hugging Face Hub",
                    "check HF_ENDPOINT", status);
            string? linked = Header(response, "X-Linked-Etag");
            string? etag = NormalizeEtag(linked ?? response.Headers.ETag?.Tag ?? Header(response, "ETag"));
            // The etag names the blob's file: one plain name segment, never '.', '..' or a separator.
            if (etag is null ||
                !System.Text.RegularExpressions.Regex.IsMatch(etag, "^[0-9A-Za-z_-][0-9A-Za-z._-]{0,127}$") ||
                etag.Contains("..", StringComparison.Ordinal))
                throw Failure(url, "the server sent no usable ETag, so the file cannot be checked or cached",
                    "check HF_ENDPOINT", status);
            long? size = long.TryParse(Header(response, "X-Linked-Size"), out long linkedSize)
                ? linkedSize
                : response.Content.Headers.ContentLength;
            bool redirected = status is >= 300 and < 400 && location is not null;
            return new Metadata(commitHeader!, etag, size, redirected ? location! : asked, redirected,
                linked is not null);
        }
    }

    /// <summary>
    /// Downloads the file's bytes into <c>blobs/{etag}.incomplete</c>, resuming, checks them, renames to the blob.
    /// </summary>
    private void Download(string url, string file, Metadata metadata)
    {
        string incomplete = cache.Incomplete(metadata.Etag), blob = cache.Blob(metadata.Etag);
        for (int attempt = 0; ; attempt++)
        {
            long had = File.Exists(incomplete) ? new FileInfo(incomplete).Length : 0;
            if (metadata.Size is { } expected && had > expected)
            {
                File.Delete(incomplete);
                had = 0;
            }
            if (metadata.Size is { } full && had == full && full > 0) break; // complete, not yet checked and placed
            long got = 0;
            try
            {
                got = Transfer(url, file, metadata, incomplete, had);
                break;
            }
            catch (TransferCut cut)
            {
                long now = File.Exists(incomplete) ? new FileInfo(incomplete).Length : 0;
                bool progressed = now > had || got > 0;
                if (attempt < options.Retries && progressed) continue;
                throw Failure(cut.Url, $"the download of {file} was cut at {HubProgress.Size(now)}" +
                                       (metadata.Size is { } s ? $" of {HubProgress.Size(s)}" : "") + $" ({cut.Reason})",
                    $"run again: it resumes from '{incomplete}'", null, cut.InnerException);
            }
        }

        long length = new FileInfo(incomplete).Length;
        if (metadata.Size is { } size && length != size)
        {
            File.Delete(incomplete);
            throw Failure(metadata.Location, $"{file} arrived with {length:N0} bytes where the server announced " +
                                             $"{size:N0}; the damaged download was removed",
                "run again", null);
        }
        string? actual = Checksum(incomplete, metadata.Etag, metadata.Lfs, out string algorithm);
        if (actual is not null && !actual.Equals(metadata.Etag, StringComparison.OrdinalIgnoreCase))
        {
            File.Delete(incomplete);
            throw Failure(metadata.Location,
                $"{file}'s {algorithm} is {actual}, not the {metadata.Etag} the server announced; " +
                "the damaged download was removed and nothing was placed in the cache",
                "run again; if it repeats, the server or a proxy is serving wrong bytes", null);
        }
        File.Move(incomplete, blob, overwrite: true); // atomic: a reader sees no blob or the whole checked one
    }

    /// <summary>
    /// One GET of the rest of the file, appended to <paramref name="incomplete"/>; the bytes written.
    /// </summary>
    private long Transfer(string url, string file, Metadata metadata, string incomplete, long had)
    {
        string target = metadata.Location;
        bool withToken = !metadata.Redirected; // huggingface_hub drops the token for the CDN
        for (int hop = 0; ; hop++)
        {
            HttpResponseMessage response;
            try
            {
                response = Send(HttpMethod.Get, target, withToken, had, $"downloading {file}");
            }
            catch (HubException e) when (e.StatusCode is null && had > 0)
            {
                throw new TransferCut(target, e.Message, e);
            }
            using (response)
            {
                int status = (int)response.StatusCode;
                if (status is >= 300 and < 400 && Header(response, "Location") is { } next)
                {
                    if (hop >= 10)
                        throw Failure(target, $"the server redirected {hop} times", "check HF_ENDPOINT", status);
                    bool sameHost = new Uri(new Uri(target), next).Authority == new Uri(target).Authority;
                    target = new Uri(new Uri(target), next).ToString();
                    withToken &= sameHost;
                    continue;
                }
                if (status == 416 && had > 0)
                {
                    File.Delete(incomplete); // the partial file does not fit the server's: start over
                    throw new TransferCut(target, "the server refused to resume (416)", null);
                }
                if (status is not (200 or 206)) throw HttpFailure(target, response);
                bool append = status == 206 && had > 0;
                return Copy(response, incomplete, append, append ? had : 0, metadata.Size, file, target);
            }
        }
    }

    private long Copy(HttpResponseMessage response, string incomplete, bool append, long start, long? total,
        string file, string url)
    {
        var clock = Stopwatch.StartNew();
        long written = 0;
        using var output = new FileStream(incomplete, append ? FileMode.Append : FileMode.Create, FileAccess.Write,
            FileShare.Read);
        try
        {
            using var input = response.Content.ReadAsStream();
            var buffer = new byte[1 << 16];
            while (true)
            {
                int read = ReadWithTimeout(input, buffer, url);
                if (read == 0) break;
                if (total is { } announced && start + written + read > announced)
                {
                    output.Close();
                    File.Delete(incomplete);
                    throw Failure(url, $"the server sent more than the {announced:N0} bytes it announced for {file}; " +
                                       "the download was removed",
                        "check HF_ENDPOINT (a proxy may be rewriting the file)", null);
                }
                output.Write(buffer, 0, read);
                written += read;
                options.Progress?.Invoke(new HubProgress(id.ToString(), file, start + written, total,
                    written / Math.Max(clock.Elapsed.TotalSeconds, 1e-3), false));
            }
        }
        catch (Exception e) when (e is IOException or HttpRequestException or OperationCanceledException
                                  && e is not HubException)
        {
            output.Flush();
            throw new TransferCut(url, e is OperationCanceledException
                ? $"no data for {options.Timeout.TotalSeconds:0.##} s"
                : FirstLine(e.Message), e);
        }
        output.Flush(flushToDisk: true);
        options.Progress?.Invoke(new HubProgress(id.ToString(), file, start + written, total,
            written / Math.Max(clock.Elapsed.TotalSeconds, 1e-3), true));
        return written;
    }

    private int ReadWithTimeout(Stream input, byte[] buffer, string url)
    {
        using var timeout = new CancellationTokenSource(options.Timeout);
        return Task.Run(async () => await input.ReadAsync(buffer, timeout.Token).ConfigureAwait(false))
            .GetAwaiter().GetResult();
    }

    /// <summary>One request with the token (to the Hub only), the timeout for the response's headers.</summary>
    private HttpResponseMessage Send(HttpMethod method, string url, bool withToken, long range, string what)
    {
        using var request = new HttpRequestMessage(method, url);
        request.Headers.UserAgent.ParseAdd("pvp/0.1 (huggingface_hub-compatible)");
        request.Headers.AcceptEncoding.ParseAdd("identity"); // sizes and hashes are of the file's own bytes
        if (withToken && options.Token is { } token)
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        if (range > 0) request.Headers.Range = new RangeHeaderValue(range, null);
        using var timeout = new CancellationTokenSource(options.Timeout);
        try
        {
            return Task.Run(async () =>
                    await Http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token).ConfigureAwait(false))
                .GetAwaiter().GetResult();
        }
        catch (OperationCanceledException e)
        {
            throw Failure(url, $"no answer within {options.Timeout.TotalSeconds:0.##} s while {what}",
                "check the network and HF_ENDPOINT, or give the server longer with HF_HUB_DOWNLOAD_TIMEOUT (seconds)", null, e);
        }
        catch (HttpRequestException e)
        {
            throw Failure(url, $"could not reach the server while {what} " +
                               $"({FirstLine(e.InnerException?.Message ?? e.Message)})",
                "check the network and HF_ENDPOINT, or set HF_HUB_OFFLINE=1 to use only the cache", null, e);
        }
    }

    private IDisposable AcquireLock(string etag, string url)
    {
        string path = cache.Lock(etag);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var clock = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                // FileShare.None takes flock(LOCK_EX) on Unix, as Python's filelock does on the same file.
                return new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            }
            catch (IOException) when (clock.Elapsed < options.LockTimeout)
            {
                Thread.Sleep(50);
            }
            catch (IOException e)
            {
                throw Failure(url, $"another process has held the download lock '{path}' for " +
                                   $"{clock.Elapsed.TotalMinutes:0.#} min",
                    "wait for it, or stop it; a lock left by a dead process is released with it", null, e);
            }
        }
    }

    private HubException HttpFailure(string url, HttpResponseMessage response)
    {
        int status = (int)response.StatusCode;
        string? code = Header(response, "X-Error-Code");
        string tokenNote = options.Token is null
            ? $"give a token with access in HF_TOKEN or the token file '{options.TokenFile}'"
            : $"the token from {options.TokenSource ?? "the options"} was refused: give one with access to it";
        return (status, code) switch
        {
            (401 or 403, "GatedRepo") or (403, _) => Failure(url,
                $"the repository is gated (HTTP {status}): it needs a token of an account that accepted its terms",
                $"accept them at {options.Endpoint}/{id.Repo}, then {tokenNote}", status),
            (401, "RepoNotFound") or (404, "RepoNotFound") => Failure(url,
                $"the repository does not exist, or is private (HTTP {status})",
                $"check the id; if it is private, {tokenNote}", status),
            (401, _) => Failure(url, "the repository needs a token (HTTP 401): it is gated, private or does not exist",
                tokenNote, status),
            (404, "RevisionNotFound") => Failure(url, $"the repository has no revision '{id.Revision}' (HTTP 404)",
                "give an existing branch, tag or commit after '@'", status),
            (404, _) => Failure(url, "not found (HTTP 404)", "check the id and HF_ENDPOINT", status),
            _ => Failure(url, $"the server answered HTTP {status} {response.ReasonPhrase}",
                status >= 500 ? "try again later, or set HF_HUB_OFFLINE=1 to use only the cache" : "check the id and HF_ENDPOINT",
                status),
        };
    }

    private HubException Failure(string url, string what, string fix, int? status, Exception? inner = null) =>
        new(id.ToString(), url, $"{id}: {what} ({url}); {fix}.", inner) { StatusCode = status };

    /// <summary>
    /// The hash the etag is of: sha-256 for a 64-hex etag (LFS),
    /// git's blob sha-1 for a 40-hex one; null when it is neither.
    /// </summary>
    internal static string? Checksum(string path, string etag, bool lfs, out string algorithm)
    {
        using var stream = File.OpenRead(path);
        if (etag.Length == 64 && IsHex(etag))
        {
            algorithm = "sha256";
            return Convert.ToHexStringLower(SHA256.HashData(stream));
        }
        if (etag.Length == 40 && IsHex(etag) && !lfs)
        {
            algorithm = "git blob sha1";
            using var sha1 = IncrementalHash.CreateHash(HashAlgorithmName.SHA1);
            sha1.AppendData(System.Text.Encoding.ASCII.GetBytes($"blob {stream.Length}\0"));
            var buffer = new byte[1 << 16];
            int read;
            while ((read = stream.Read(buffer)) > 0) sha1.AppendData(buffer, 0, read);
            return Convert.ToHexStringLower(sha1.GetHashAndReset());
        }
        algorithm = "";
        return null;
    }

    // A Location such as "/org/name/resolve/…" is relative:
    // Uri.TryCreate(…, Absolute) would take it for a Unix file path.
    private static bool IsAbsoluteHttp(string location) =>
        location.StartsWith("http://", StringComparison.OrdinalIgnoreCase)
        || location.StartsWith("https://", StringComparison.OrdinalIgnoreCase);

    private static bool IsHex(string s) => s.All(Uri.IsHexDigit);

    /// <summary>huggingface_hub's _normalize_etag: drop a weak marker and the quotes.</summary>
    internal static string? NormalizeEtag(string? etag) =>
        etag is null ? null : (etag.StartsWith("W/", StringComparison.Ordinal) ? etag[2..] : etag).Trim('"');

    private static string? Header(HttpResponseMessage response, string name) =>
        response.Headers.TryGetValues(name, out var values) || response.Content.Headers.TryGetValues(name, out values)
            ? values.FirstOrDefault()
            : null;

    private static string FirstLine(string message) => message.Split('\n', 2)[0].Trim();

    /// <summary>A transfer that stopped before its end: resumable.</summary>
    private sealed class TransferCut(string url, string reason, Exception? inner) : Exception(reason, inner)
    {
        public string Url { get; } = url;
        public string Reason { get; } = reason;
    }
}
