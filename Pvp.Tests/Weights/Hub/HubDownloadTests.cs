using System.Diagnostics;
using System.Security.Cryptography;
using Pvp.Tests.Numerics;
using Pvp.Weights;
using Pvp.Weights.Hub;
using static Pvp.Tests.Numerics.TestTensors;

namespace Pvp.Tests.Weights.Hub;

/// <summary>
/// hf-hub: ids against a Hub on 127.0.0.1 (<see cref="HubTestServer"/>): the cache layout huggingface_hub writes, the
/// file choice, revisions, tokens, failures named in one line, resumed transfers, checked hashes, timeouts and the lock.
/// </summary>
public sealed class HubDownloadTests : HubFixture
{
    private const string Timm = "timm/fixture_vit.augreg_in21k";

    [Fact]
    public void AnIdIsDownloadedIntoTheHuggingFaceCacheLayoutAndReproducesTorchvision()
    {
        var repo = Server.Add(Timm, ("model.safetensors", TimmSafetensors, true), ("config.json", TimmConfig(), false));
        using var model = new FixtureVit(numClasses: 7);
        var report = BackboneWeights.Load(model, $"hf-hub:{Timm}", Load(Options with { Token = "hf_notneeded" }));
        Assert.Equal(KeyLayout.Timm, report.Layout);
        Assert.StartsWith($"hf-hub:{Timm} (model.safetensors, commit {repo.Main[..12]}", report.Source);
        Assert.True(MaxDiffFromTorchvision(model) <= 1e-4);

        // huggingface_hub's layout: refs/main holds the commit, snapshots/<commit>/<file> is a relative symlink to blobs/<etag>.
        string storage = Storage(Timm), sha = repo.Files["model.safetensors"].Sha256, gitSha = repo.Files["config.json"].GitSha1;
        Assert.Equal(repo.Main, File.ReadAllText(Path.Combine(storage, "refs", "main")));
        string pointer = Path.Combine(storage, "snapshots", repo.Main, "model.safetensors");
        Assert.Equal($"../../blobs/{sha}", new FileInfo(pointer).LinkTarget);
        Assert.Equal($"../../blobs/{gitSha}", new FileInfo(Path.Combine(storage, "snapshots", repo.Main, "config.json")).LinkTarget);
        Assert.Equal(sha, Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(Path.Combine(storage, "blobs", sha)))));
        Assert.Empty(Directory.GetFiles(Path.Combine(storage, "blobs"), "*.incomplete"));
        Assert.True(File.Exists(Path.Combine(Cache, ".locks", $"models--{Timm.Replace("/", "--")}", sha + ".lock")));

        // The token goes to the Hub, never to the CDN the LFS file is redirected to; pytorch_model.bin is never asked for.
        Assert.All(Server.Requests.Where(r => r.Path.Contains("/resolve/", StringComparison.Ordinal)), r => Assert.Equal("Bearer hf_notneeded", r.Headers["Authorization"]));
        var cdn = Assert.Single(Server.Gets("/cdn/"));
        Assert.False(cdn.Headers.ContainsKey("Authorization"));
        Assert.DoesNotContain(Server.Requests, r => r.Path.Contains("pytorch_model.bin", StringComparison.Ordinal));

        // Asked again (a new process: nothing remembered), the cache serves it: metadata only, no transfer.
        HubWeights.Forget();
        int before = Server.Requests.Count(r => r.Method == "GET");
        Assert.Equal(pointer, HubWeights.Resolve($"hf-hub:{Timm}", Options).Weights);
        Assert.Equal(before, Server.Requests.Count(r => r.Method == "GET"));
    }

    [Fact]
    public void PytorchModelBinIsTheFallbackAndNothingElseIsFetched()
    {
        var bin = Server.Add("org/bin_only", ("pytorch_model.bin", TimmPickle(), true), ("modeling_custom.py", "import os"u8.ToArray(), false));
        using var model = new FixtureVit(numClasses: 7);
        var report = BackboneWeights.Load(model, "hf-hub:org/bin_only", Load());
        Assert.Contains("(pytorch_model.bin,", report.Source);
        Assert.True(MaxDiffFromTorchvision(model) <= 1e-4);
        // The server's 404 is remembered as huggingface_hub does: .no_exist/<commit>/model.safetensors.
        Assert.True(File.Exists(Path.Combine(Storage("org/bin_only"), ".no_exist", bin.Main, "model.safetensors")));
        Assert.DoesNotContain(Server.Requests, r => r.Path.EndsWith(".py", StringComparison.Ordinal));

        Server.Add("org/code_only", ("modeling_custom.py", "import os"u8.ToArray(), false), ("config.json", "{}"u8.ToArray(), false));
        var e = Assert.Throws<HubException>(() => HubWeights.Resolve("hf-hub:org/code_only", Options));
        Assert.Contains("hf-hub:org/code_only: the repository has neither model.safetensors nor pytorch_model.bin", e.Message);
        Assert.Contains($"{Server.Endpoint}/org/code_only/resolve/main/model.safetensors", e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Fact]
    public void ARevisionIsResolvedToItsCommitAndACommitIdNeedsNoRequest()
    {
        var repo = Server.Add(Timm, ("model.safetensors", TimmSafetensors, true));
        string v1 = HubTestServer.NewCommit();
        repo.Revisions["v1.0"] = v1;
        var files = HubWeights.Resolve($"hf-hub:{Timm}@v1.0", Options);
        Assert.Equal(v1, files.Commit);
        Assert.Equal(v1, File.ReadAllText(Path.Combine(Storage(Timm), "refs", "v1.0")));
        Assert.Equal(Path.Combine(Storage(Timm), "snapshots", v1, "model.safetensors"), files.Weights);
        Assert.Contains(Server.Requests, r => r.Path == $"/{Timm}/resolve/v1.0/model.safetensors");

        HubWeights.Forget();
        int requests = Server.Requests.Count;
        Assert.Equal(files.Weights, HubWeights.Resolve($"hf-hub:{Timm}@{v1}", Options).Weights);
        Assert.Equal(requests, Server.Requests.Count);

        var missing = Assert.Throws<HubException>(() => HubWeights.Resolve($"hf-hub:{Timm}@nope", Options));
        Assert.Contains($"hf-hub:{Timm}@nope: the repository has no revision 'nope' (HTTP 404)", missing.Message);
    }

    [Fact]
    public void AGatedRepositorySaysSoAndNeverPrintsTheToken()
    {
        var repo = Server.Add("org/gated", ("model.safetensors", TimmSafetensors, true));
        repo.GatedToken = "hf_right_token_123";
        var e = Assert.Throws<HubException>(() => HubWeights.Resolve("hf-hub:org/gated", Options));
        Assert.Equal(401, e.StatusCode);
        Assert.Contains("hf-hub:org/gated: the repository is gated (HTTP 401)", e.Message);
        Assert.Contains($"({Server.Endpoint}/org/gated/resolve/main/model.safetensors)", e.Message);
        Assert.Contains($"accept them at {Server.Endpoint}/org/gated", e.Message);
        Assert.Contains("HF_TOKEN", e.Message);

        var environment = new Dictionary<string, string?>
        {
            ["HF_ENDPOINT"] = Server.Endpoint, ["HF_HUB_CACHE"] = Cache, ["HF_HOME"] = Root, ["HF_TOKEN"] = "hf_wrong_token_456",
        };
        var wrong = Assert.Throws<HubException>(() => HubWeights.Resolve("hf-hub:org/gated", HubOptions.FromEnvironment(k => environment.GetValueOrDefault(k))));
        Assert.Contains("the token from HF_TOKEN was refused", wrong.Message);
        Assert.DoesNotContain("hf_wrong_token_456", wrong.Message);

        // The token file ($HF_HOME/token) when HF_TOKEN is not set, as huggingface_hub reads it.
        environment.Remove("HF_TOKEN");
        File.WriteAllText(Path.Combine(Root, "token"), "hf_right_token_123\n");
        var options = HubOptions.FromEnvironment(k => environment.GetValueOrDefault(k)) with { Progress = null };
        Assert.Equal($"the token file '{Path.Combine(Root, "token")}'", options.TokenSource);
        Assert.True(File.Exists(HubWeights.Resolve("hf-hub:org/gated", options).Weights));
    }

    [Fact]
    public void AMissingRepositoryIsOneLineNamingIdUrlAndFix()
    {
        var e = Assert.Throws<HubException>(() => HubWeights.Resolve("hf-hub:org/absent", Options));
        Assert.Equal($"hf-hub:org/absent: the repository does not exist, or is private (HTTP 404) ({Server.Endpoint}/org/absent/resolve/main/model.safetensors); " +
                     $"check the id; if it is private, give a token with access in HF_TOKEN or the token file '{Path.Combine(Root, "token")}'.", e.Message);
        Assert.Equal(404, e.StatusCode);
    }

    [Fact]
    public void ACutTransferIsResumedWithARangeRequestFromTheIncompleteFile()
    {
        var repo = Server.Add(Timm, ("model.safetensors", TimmSafetensors, true));
        string sha = repo.Files["model.safetensors"].Sha256;
        int size = repo.Files["model.safetensors"].Bytes.Length;
        Server.CutTransfers = 1;
        var cut = Assert.Throws<HubException>(() => HubWeights.Resolve($"hf-hub:{Timm}", Options with { Retries = 0 }));
        string incomplete = Path.Combine(Storage(Timm), "blobs", sha + ".incomplete");
        Assert.Contains($"hf-hub:{Timm}: the download of model.safetensors was cut at", cut.Message);
        Assert.Contains($"run again: it resumes from '{incomplete}'", cut.Message);
        long half = new FileInfo(incomplete).Length;
        Assert.InRange(half, 1, size - 1);
        Assert.False(File.Exists(Path.Combine(Storage(Timm), "blobs", sha)));
        Assert.False(File.Exists(Path.Combine(Storage(Timm), "snapshots", repo.Main, "model.safetensors")));

        using var model = new FixtureVit(numClasses: 7);
        BackboneWeights.Load(model, $"hf-hub:{Timm}", Load());
        Assert.Equal($"bytes={half}-", Server.Gets("/cdn/")[^1].Headers["Range"]);
        Assert.True(MaxDiffFromTorchvision(model) <= 1e-4);
        Assert.False(File.Exists(incomplete));

        // With retries (the default), one call resumes by itself.
        Server.Add("org/flaky", ("model.safetensors", TimmSafetensors.Concat(new byte[] { 0 }).ToArray(), true));
        Server.CutTransfers = 2;
        int before = Server.Gets("/cdn/").Count;
        HubWeights.Resolve("hf-hub:org/flaky", Options);
        var gets = Server.Gets("/cdn/").Skip(before).ToList();
        Assert.Equal(3, gets.Count);
        Assert.False(gets[0].Headers.ContainsKey("Range"));
        Assert.All(gets.Skip(1), g => Assert.StartsWith("bytes=", g.Headers["Range"]));
    }

    [Fact]
    public void BytesWhoseSha256IsNotTheServersAreRefusedAndNothingIsPlaced()
    {
        var repo = Server.Add(Timm, ("model.safetensors", TimmSafetensors, true));
        string sha = repo.Files["model.safetensors"].Sha256;
        Server.Corrupt = true;
        var e = Assert.Throws<HubException>(() => HubWeights.Resolve($"hf-hub:{Timm}", Options));
        Assert.Contains($"hf-hub:{Timm}: model.safetensors's sha256 is ", e.Message);
        Assert.Contains($"not the {sha} the server announced", e.Message);
        Assert.Contains("nothing was placed in the cache", e.Message);
        Assert.Empty(Directory.GetFiles(Path.Combine(Storage(Timm), "blobs")));
        Assert.False(Directory.Exists(Path.Combine(Storage(Timm), "snapshots", repo.Main)) &&
                     Directory.GetFiles(Path.Combine(Storage(Timm), "snapshots", repo.Main)).Length > 0);

        Server.Corrupt = false;
        Assert.True(File.Exists(HubWeights.Resolve($"hf-hub:{Timm}", Options).Weights));
    }

    [Fact]
    public void MoreBytesThanTheServerAnnouncedAreRefused()
    {
        var repo = Server.Add(Timm, ("model.safetensors", TimmSafetensors, true));
        Server.SizeShortBy = 1000;
        var e = Assert.Throws<HubException>(() => HubWeights.Resolve($"hf-hub:{Timm}", Options));
        Assert.Contains($"the server sent more than the {repo.Files["model.safetensors"].Bytes.Length - 1000:N0} bytes it announced for model.safetensors", e.Message);
        Assert.Empty(Directory.GetFiles(Path.Combine(Storage(Timm), "blobs")));
    }

    [Fact]
    public void ASlowServerTimesOutWithTheUrlAndTheSetting()
    {
        Server.Add(Timm, ("model.safetensors", TimmSafetensors, true));
        Server.Delay = TimeSpan.FromSeconds(3);
        var clock = Stopwatch.StartNew();
        var e = Assert.Throws<HubException>(() => HubWeights.Resolve($"hf-hub:{Timm}", Options with { Timeout = TimeSpan.FromMilliseconds(300) }));
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(2.5), $"took {clock.Elapsed}");
        Assert.Equal($"hf-hub:{Timm}: no answer within 0.3 s while asking for model.safetensors ({Server.Endpoint}/{Timm}/resolve/main/model.safetensors); " +
                     "check the network and HF_ENDPOINT, or give the server longer with HF_HUB_DOWNLOAD_TIMEOUT (seconds).", e.Message);
    }

    [Fact]
    public async Task TwoDownloadsOfOneFileAtOnceMakeOneTransferUnderTheLock()
    {
        var repo = Server.Add(Timm, ("model.safetensors", TimmSafetensors, true));
        Server.ChunkPause = TimeSpan.FromMilliseconds(10);
        var progress = new System.Collections.Concurrent.ConcurrentBag<HubProgress>();
        var options = Options with { Progress = progress.Add };
        // Separate clients as two processes would be: each its own options (nothing shared but the cache folder).
        var first = Task.Run(() => HubWeights.Resolve($"hf-hub:{Timm}", options));
        var second = Task.Run(() => HubWeights.Resolve($"hf-hub:{Timm}", options with { Timeout = TimeSpan.FromSeconds(6) }));
        var both = await Task.WhenAll(first, second).WaitAsync(TimeSpan.FromSeconds(25));
        Assert.Equal(both[0].Weights, both[1].Weights);
        // Both asked the server (both were in flight), one transferred: the other waited on the lock and found the file.
        Assert.Equal(2, Server.Requests.Count(r => r.Method == "HEAD" && r.Path.EndsWith("/model.safetensors", StringComparison.Ordinal)));
        Assert.Single(Server.Gets("/cdn/"));
        Assert.Equal(repo.Files["model.safetensors"].Sha256, Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(both[0].Weights))));
        var done = Assert.Single(progress, p => p.Done);
        Assert.Equal(repo.Files["model.safetensors"].Bytes.Length, done.Bytes);
        Assert.Equal(done.Total, done.Bytes);
        Assert.Matches(@"^downloaded hf-hub:timm/fixture_vit\.augreg_in21k model\.safetensors  966\.4 KiB / 966\.4 KiB \(100%\)  [0-9.]+ (B|KiB|MiB)/s$", done.ToString());
    }

    [Fact]
    public void ARenamedRepositorysRelativeRedirectIsFollowed()
    {
        Server.Add("org/new_name", ("model.safetensors", TimmSafetensors, true));
        Server.Add("org/old_name").RenamedTo = "org/new_name";
        var files = HubWeights.Resolve("hf-hub:org/old_name", Options);
        Assert.StartsWith(Storage("org/old_name"), files.Weights); // cached under the id asked for, as huggingface_hub does
        Assert.Contains(Server.Requests, r => r.Method == "HEAD" && r.Path == "/org/new_name/resolve/main/model.safetensors");
    }
}
