using System.Security.Cryptography;
using Pvp.Tests.Numerics;
using Pvp.Weights;
using Pvp.Weights.Hub;
using static Pvp.Tests.Numerics.TestTensors;

namespace Pvp.Tests.Weights.Hub;

/// <summary>
/// The cache people already have: files placed by hand as huggingface_hub lays them out load with HF_HUB_OFFLINE and
/// no request; a file not there is one line naming the id and the cache folder.
/// </summary>
public sealed class HubOfflineTests : HubFixture
{
    /// <summary>Lays out <paramref name="files"/> as huggingface_hub's cache holds them after a download of <paramref name="repo"/> at main.</summary>
    private string LayOut(string repo, string commit, params (string File, byte[] Bytes)[] files)
    {
        string storage = Storage(repo);
        Directory.CreateDirectory(Path.Combine(storage, "refs"));
        File.WriteAllText(Path.Combine(storage, "refs", "main"), commit);
        foreach (var (file, bytes) in files)
        {
            string etag = Convert.ToHexStringLower(SHA256.HashData(bytes));
            Directory.CreateDirectory(Path.Combine(storage, "blobs"));
            File.WriteAllBytes(Path.Combine(storage, "blobs", etag), bytes);
            string snapshot = Path.Combine(storage, "snapshots", commit);
            Directory.CreateDirectory(snapshot);
            File.CreateSymbolicLink(Path.Combine(snapshot, file), $"../../blobs/{etag}");
        }
        return storage;
    }

    [Fact]
    public void AHandLaidCacheLoadsOfflineWithoutARequest()
    {
        string commit = HubTestServer.NewCommit();
        LayOut("google/vit-fixture-in21k", commit, ("model.safetensors", HuggingFaceSafetensors), ("preprocessor_config.json", VitImageProcessor));
        var offline = Options with { Offline = true };
        using var model = new FixtureVit(numClasses: 7);
        var report = BackboneWeights.Load(model, "hf-hub:google/vit-fixture-in21k", Load(offline));
        Assert.Equal(KeyLayout.HuggingFace, report.Layout);
        Assert.True(MaxDiffFromTorchvision(model) <= 1e-4);
        var files = HubWeights.Resolve("hf-hub:google/vit-fixture-in21k", offline);
        Assert.Equal(commit, files.Commit);
        Assert.NotNull(files.PreprocessorConfig);
        Assert.Null(files.Config);
        Assert.Empty(Server.Requests);
    }

    [Fact]
    public void OfflineAFileNotInTheCacheNamesTheIdAndTheCacheFolder()
    {
        Server.Add("timm/not_cached", ("model.safetensors", TimmSafetensors, true));
        var e = Assert.Throws<HubException>(() => HubWeights.Resolve("hf-hub:timm/not_cached", Options with { Offline = true }));
        Assert.Equal($"hf-hub:timm/not_cached: neither model.safetensors nor pytorch_model.bin is in the cache folder '{Storage("timm/not_cached")}', " +
                     "and HF_HUB_OFFLINE forbids downloading; download it once online (unset HF_HUB_OFFLINE), or with " +
                     "`huggingface-cli download timm/not_cached`, or set HF_HUB_CACHE to the cache that holds it.", e.Message);
        Assert.Empty(Server.Requests);
    }

    [Fact]
    public void AnUnreachableServerFallsBackToTheCachedRevision()
    {
        string commit = HubTestServer.NewCommit();
        LayOut("timm/cached", commit, ("model.safetensors", TimmSafetensors));
        Server.Dispose(); // nothing listens any more: a connection error, as with no network
        using var model = new FixtureVit(numClasses: 7);
        BackboneWeights.Load(model, "hf-hub:timm/cached", Load());
        Assert.True(MaxDiffFromTorchvision(model) <= 1e-4);

        // Only pytorch_model.bin cached: with no server to say model.safetensors is absent, the cached file is used.
        LayOut("org/bin_cached", commit, ("pytorch_model.bin", TimmPickle()));
        Assert.Equal("pytorch_model.bin", HubWeights.Resolve("hf-hub:org/bin_cached", Options).WeightsFile);

        var e = Assert.Throws<HubException>(() => HubWeights.Resolve("hf-hub:timm/elsewhere", Options));
        Assert.StartsWith("hf-hub:timm/elsewhere: could not reach the server while asking for model.safetensors", e.Message);
        Assert.EndsWith("check the network and HF_ENDPOINT, or set HF_HUB_OFFLINE=1 to use only the cache.", e.Message);
    }

    [Fact]
    public void TheEnvironmentIsReadAsHuggingfaceHubReadsIt()
    {
        var env = new Dictionary<string, string?> { ["HF_HOME"] = "/data/hf", ["HF_HUB_OFFLINE"] = "1", ["HF_ENDPOINT"] = "http://127.0.0.1:9/" };
        var options = HubOptions.FromEnvironment(k => env.GetValueOrDefault(k));
        Assert.Equal("/data/hf/hub", options.CacheFolder);
        Assert.Equal("/data/hf/token", options.TokenFile);
        Assert.True(options.Offline);
        Assert.Equal("http://127.0.0.1:9", options.Endpoint);

        env["HF_HUB_CACHE"] = "/fast/cache";
        env["HF_HUB_OFFLINE"] = "0";
        env["HF_HUB_DOWNLOAD_TIMEOUT"] = "2.5";
        options = HubOptions.FromEnvironment(k => env.GetValueOrDefault(k));
        Assert.Equal("/fast/cache", options.CacheFolder);
        Assert.False(options.Offline);
        Assert.Equal(TimeSpan.FromSeconds(2.5), options.Timeout);

        var none = HubOptions.FromEnvironment(_ => null);
        Assert.Equal(Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache", "huggingface", "hub"), none.CacheFolder);
        Assert.Equal(HubOptions.DefaultEndpoint, none.Endpoint);
        Assert.Null(none.Token);

        env["HF_HUB_DOWNLOAD_TIMEOUT"] = "soon";
        Assert.Contains("HF_HUB_DOWNLOAD_TIMEOUT 'soon' is not a number of seconds",
            Assert.Throws<ArgumentException>(() => HubOptions.FromEnvironment(k => env.GetValueOrDefault(k))).Message);
    }

    [Theory]
    [InlineData("hf-hub:timm/vit_base_patch16_224.augreg_in21k", "timm/vit_base_patch16_224.augreg_in21k", "main", "models--timm--vit_base_patch16_224.augreg_in21k")]
    [InlineData("hf-hub:google/vit-base-patch16-224-in21k@refs/pr/3", "google/vit-base-patch16-224-in21k", "refs/pr/3", "models--google--vit-base-patch16-224-in21k")]
    [InlineData("hf-hub:gpt2", "gpt2", "main", "models--gpt2")]
    public void AnIdParses(string text, string repo, string revision, string folder)
    {
        var id = HubModelId.Parse(text);
        Assert.Equal(repo, id.Repo);
        Assert.Equal(revision, id.Revision);
        Assert.Equal(folder, id.FolderName);
        Assert.Equal(text, id.ToString());
    }

    [Theory]
    [InlineData("hf-hub:", "is not a Hub repository id")]
    [InlineData("hf-hub:a/b/c", "is not a Hub repository id")]
    [InlineData("hf-hub:org/../etc", "is not a Hub repository id")]
    [InlineData("hf-hub:org/name@", "is not a revision")]
    [InlineData("hf-hub:org/name@../../x", "is not a revision")]
    public void AMalformedIdIsNamed(string text, string expected) =>
        Assert.Contains(expected, Assert.Throws<ArgumentException>(() => HubModelId.Parse(text)).Message);
}
