using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;

namespace Pvp.Tests.Weights.Hub;

/// <summary>
/// A Hugging Face Hub stand-in on 127.0.0.1 (a plain TcpListener, HTTP/1.1, one request per connection), serving the
/// URL layout and headers huggingface_hub's file_download.py relies on: <c>HEAD|GET {endpoint}/{repo}/resolve/{revision}/{file}</c>
/// answers <c>X-Repo-Commit</c> and, for a small (git) file, <c>ETag</c> = git's blob sha-1 and the bytes; for an LFS
/// file a 302 to <c>{endpoint}/cdn/{sha256}</c> with <c>X-Linked-Etag</c> = the sha-256 and <c>X-Linked-Size</c>. The CDN
/// honours <c>Range: bytes=N-</c> (206). Missing repo: 404 RepoNotFound; missing revision: 404 RevisionNotFound; missing
/// file: 404 EntryNotFound with the commit; a gated repo without its token: 401 GatedRepo; a renamed repo: a relative 307.
/// Faults on demand: a transfer cut half-way, wrong bytes, a slow answer. Every request is recorded.
/// </summary>
internal sealed class HubTestServer : IDisposable
{
    private readonly TcpListener listener;
    private readonly CancellationTokenSource stop = new();
    private readonly Task accepting;

    public HubTestServer()
    {
        listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        Endpoint = $"http://127.0.0.1:{((IPEndPoint)listener.LocalEndpoint).Port}";
        accepting = Task.Run(AcceptLoop);
    }

    /// <summary>The server's address (HF_ENDPOINT).</summary>
    public string Endpoint { get; }

    /// <summary>Repositories by id.</summary>
    public ConcurrentDictionary<string, Repo> Repos { get; } = new(StringComparer.Ordinal);

    /// <summary>Every request, in arrival order.</summary>
    public ConcurrentQueue<Request> Requests { get; } = new();

    /// <summary>How many CDN transfers are cut after half of the bytes asked for.</summary>
    public int CutTransfers;

    /// <summary>Serve LFS blobs with one byte flipped (their sha-256 no longer matches).</summary>
    public volatile bool Corrupt;

    /// <summary>Announce LFS sizes this many bytes short (a server or proxy whose headers lie).</summary>
    public int SizeShortBy { get; set; }

    /// <summary>Wait this long before answering any request.</summary>
    public TimeSpan Delay { get; set; }

    /// <summary>Slows each CDN transfer down (pause between 16 KiB chunks).</summary>
    public TimeSpan ChunkPause { get; set; }

    public sealed record Request(string Method, string Path, IReadOnlyDictionary<string, string> Headers);

    public sealed class Repo(string id)
    {
        public string Id { get; } = id;
        public Dictionary<string, string> Revisions { get; } = new(StringComparer.Ordinal) { ["main"] = NewCommit() };
        public Dictionary<string, HubFile> Files { get; } = new(StringComparer.Ordinal);
        public string? GatedToken { get; set; }
        public string? RenamedTo { get; set; }
        public string Main => Revisions["main"];
    }

    public sealed record HubFile(byte[] Bytes, bool Lfs)
    {
        public string Sha256 => Convert.ToHexStringLower(SHA256.HashData(Bytes));
        public string GitSha1 => Convert.ToHexStringLower(SHA1.HashData(Encoding.ASCII.GetBytes($"blob {Bytes.Length}\0").Concat(Bytes).ToArray()));
        public string Etag => Lfs ? Sha256 : GitSha1;
    }

    public Repo Add(string id, params (string File, byte[] Bytes, bool Lfs)[] files)
    {
        var repo = new Repo(id);
        foreach (var (file, bytes, lfs) in files) repo.Files[file] = new HubFile(bytes, lfs);
        Repos[id] = repo;
        return repo;
    }

    public static string NewCommit() => Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(20));

    public IReadOnlyList<Request> Gets(string pathPart) =>
        Requests.Where(r => r.Method == "GET" && r.Path.Contains(pathPart, StringComparison.Ordinal)).ToList();

    private async Task AcceptLoop()
    {
        while (!stop.IsCancellationRequested)
        {
            TcpClient client;
            try
            {
                client = await listener.AcceptTcpClientAsync(stop.Token);
            }
            catch (Exception) when (stop.IsCancellationRequested)
            {
                return;
            }
            catch (SocketException)
            {
                return;
            }
            _ = Task.Run(() => Serve(client));
        }
    }

    private async Task Serve(TcpClient client)
    {
        using (client)
        {
            try
            {
                var stream = client.GetStream();
                var request = await ReadRequest(stream);
                if (request is null) return;
                Requests.Enqueue(request);
                if (Delay > TimeSpan.Zero) await Task.Delay(Delay, stop.Token);
                await Answer(stream, request);
            }
            catch (Exception e) when (e is IOException or SocketException or OperationCanceledException or ObjectDisposedException)
            {
                // the client went away (a timeout test) or the server stops
            }
        }
    }

    private static async Task<Request?> ReadRequest(NetworkStream stream)
    {
        var buffer = new List<byte>();
        var one = new byte[1];
        while (buffer.Count < 65536)
        {
            if (await stream.ReadAsync(one) == 0) return null;
            buffer.Add(one[0]);
            int n = buffer.Count;
            if (n >= 4 && buffer[n - 4] == '\r' && buffer[n - 3] == '\n' && buffer[n - 2] == '\r' && buffer[n - 1] == '\n') break;
        }
        var lines = Encoding.ASCII.GetString(buffer.ToArray()).Split("\r\n");
        var first = lines[0].Split(' ');
        var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (string line in lines.Skip(1).Where(l => l.Contains(':')))
            headers[line[..line.IndexOf(':')].Trim()] = line[(line.IndexOf(':') + 1)..].Trim();
        return new Request(first[0], first[1], headers);
    }

    private async Task Answer(NetworkStream stream, Request request)
    {
        string path = request.Path.Split('?')[0];
        var segments = path.Trim('/').Split('/');
        if (segments.Length == 2 && segments[0] == "cdn")
        {
            await ServeBlob(stream, request, segments[1]);
            return;
        }
        int resolve = Array.IndexOf(segments, "resolve");
        if (resolve < 1 || segments.Length < resolve + 3)
        {
            await Write(stream, 404, new() { ["X-Error-Code"] = "EntryNotFound" }, null, 0, request);
            return;
        }
        string repoId = string.Join('/', segments[..resolve]);
        string revision = Uri.UnescapeDataString(segments[resolve + 1]);
        string file = string.Join('/', segments[(resolve + 2)..].Select(Uri.UnescapeDataString));
        if (!Repos.TryGetValue(repoId, out var repo))
        {
            await Write(stream, 404, new() { ["X-Error-Code"] = "RepoNotFound" }, null, 0, request);
            return;
        }
        if (repo.RenamedTo is { } renamed)
        {
            await Write(stream, 307, new() { ["Location"] = $"/{renamed}/resolve/{segments[resolve + 1]}/{string.Join('/', segments[(resolve + 2)..])}" }, null, 0, request);
            return;
        }
        if (repo.GatedToken is { } token && (!request.Headers.TryGetValue("Authorization", out var auth) || auth != $"Bearer {token}"))
        {
            await Write(stream, 401, new() { ["X-Error-Code"] = "GatedRepo" }, null, 0, request);
            return;
        }
        string? commit = repo.Revisions.TryGetValue(revision, out var c) ? c : repo.Revisions.Values.Contains(revision) ? revision : null;
        if (commit is null)
        {
            await Write(stream, 404, new() { ["X-Error-Code"] = "RevisionNotFound" }, null, 0, request);
            return;
        }
        if (!repo.Files.TryGetValue(file, out var hubFile))
        {
            await Write(stream, 404, new() { ["X-Error-Code"] = "EntryNotFound", ["X-Repo-Commit"] = commit }, null, 0, request);
            return;
        }
        if (hubFile.Lfs)
        {
            await Write(stream, 302, new()
            {
                ["Location"] = $"{Endpoint}/cdn/{hubFile.Sha256}?name={Uri.EscapeDataString(file)}",
                ["X-Repo-Commit"] = commit,
                ["X-Linked-Etag"] = $"\"{hubFile.Sha256}\"",
                ["X-Linked-Size"] = (hubFile.Bytes.Length - SizeShortBy).ToString(),
                ["ETag"] = $"\"{hubFile.GitSha1}\"", // the pointer file's, which a client must not take for the blob's
            }, null, 0, request);
            return;
        }
        await Write(stream, 200, new() { ["X-Repo-Commit"] = commit, ["ETag"] = $"\"{hubFile.GitSha1}\"" }, hubFile.Bytes, 0, request);
    }

    private async Task ServeBlob(NetworkStream stream, Request request, string sha)
    {
        var file = Repos.Values.SelectMany(r => r.Files.Values).FirstOrDefault(f => f.Lfs && f.Sha256 == sha);
        if (file is null)
        {
            await Write(stream, 404, new(), null, 0, request);
            return;
        }
        byte[] bytes = file.Bytes;
        if (Corrupt)
        {
            bytes = (byte[])bytes.Clone();
            bytes[bytes.Length / 2] ^= 0xFF;
        }
        long start = 0;
        if (request.Headers.TryGetValue("Range", out var range) && range.StartsWith("bytes=", StringComparison.Ordinal) && range.EndsWith('-'))
            start = long.Parse(range["bytes=".Length..^1]);
        if (start >= bytes.Length && start > 0)
        {
            await Write(stream, 416, new() { ["Content-Range"] = $"bytes */{bytes.Length}" }, null, 0, request);
            return;
        }
        var headers = new Dictionary<string, string> { ["ETag"] = $"\"{sha}\"", ["Accept-Ranges"] = "bytes" };
        int status = 200;
        if (start > 0)
        {
            status = 206;
            headers["Content-Range"] = $"bytes {start}-{bytes.Length - 1}/{bytes.Length}";
        }
        await Write(stream, status, headers, bytes, start, request);
    }

    private async Task Write(NetworkStream stream, int status, Dictionary<string, string> headers, byte[]? body, long start, Request request)
    {
        long length = body is null ? 0 : body.Length - start;
        var head = new StringBuilder($"HTTP/1.1 {status} {Reason(status)}\r\n");
        foreach (var (k, v) in headers) head.Append($"{k}: {v}\r\n");
        head.Append($"Content-Length: {length}\r\nConnection: close\r\n\r\n");
        await stream.WriteAsync(Encoding.ASCII.GetBytes(head.ToString()));
        if (body is null || request.Method == "HEAD") return;
        bool cut = request.Path.StartsWith("/cdn/", StringComparison.Ordinal) && Interlocked.Decrement(ref CutTransfers) >= 0;
        long end = cut ? start + length / 2 : body.Length;
        for (long at = start; at < end; at += 16384)
        {
            int count = (int)Math.Min(16384, end - at);
            await stream.WriteAsync(body.AsMemory((int)at, count));
            if (ChunkPause > TimeSpan.Zero) await Task.Delay(ChunkPause);
        }
        await stream.FlushAsync();
        if (cut) stream.Socket.Close(0); // a reset: the client sees the transfer end before its Content-Length
    }

    private static string Reason(int status) => status switch
    {
        200 => "OK", 206 => "Partial Content", 302 => "Found", 307 => "Temporary Redirect", 401 => "Unauthorized",
        404 => "Not Found", 416 => "Range Not Satisfiable", _ => "Status",
    };

    public void Dispose()
    {
        stop.Cancel();
        listener.Stop();
        try { accepting.Wait(TimeSpan.FromSeconds(2)); }
        catch (AggregateException) { }
    }
}
