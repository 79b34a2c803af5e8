using Pvp.Recipes;
using Pvp.Tests.Training;
using Pvp.Tests.Weights.Hub;
using Pvp.Weights;
using Pvp.Weights.Hub;

namespace Pvp.Tests.Recipe;

/// <summary>
/// A recipe naming a hf-hub: id runs end to end against the local Hub: the weights and timm's config.json are
/// downloaded into the cache HF_HUB_CACHE names, the config's preprocessing is the run's default, and
/// <c>tensorboard: true</c> writes one TensorBoard run per stage and per cell.
/// </summary>
public sealed class HubRecipeTests : HubFixture
{
    private static readonly string[] Variables = { "HF_ENDPOINT", "HF_HUB_CACHE", "HF_HOME", "HF_HUB_OFFLINE", "HF_TOKEN", "HF_TOKEN_PATH", "HUGGING_FACE_HUB_TOKEN" };
    private readonly Dictionary<string, string?> saved = Variables.ToDictionary(v => v, Environment.GetEnvironmentVariable);

    static HubRecipeTests()
    {
        VariantRegistry.Load(typeof(Pvp.Tests.Numerics.FixtureVptDeep).Assembly);
        VariantRegistry.Load(typeof(Pvp.Models.VptDeepMicro).Assembly);
    }

    public HubRecipeTests()
    {
        foreach (string v in Variables) Environment.SetEnvironmentVariable(v, null);
        Environment.SetEnvironmentVariable("HF_ENDPOINT", Server.Endpoint);
        Environment.SetEnvironmentVariable("HF_HUB_CACHE", Cache);
        Environment.SetEnvironmentVariable("HF_HOME", Root);
    }

    public override void Dispose()
    {
        foreach (var (k, v) in saved) Environment.SetEnvironmentVariable(k, v);
        base.Dispose();
    }

    [Fact]
    public void ARecipeNamingAHubIdRunsWithTheModelsPreprocessingAndWritesTensorBoardRuns()
    {
        var repo = Server.Add("timm/fixture_vit.augreg_in21k", ("model.safetensors", TimmSafetensors, true), ("config.json", TimmConfig(crop: 0.95), false));
        var recipe = RecipeParser.Parse("""
            variant: FixtureVptDeep
            output: run
            workers: 1
            tensorboard: true
            backbone: { weights: "hf-hub:timm/fixture_vit.augreg_in21k" }
            source:
              builtin: { classes: 3, train_per_class: 3, test_per_class: 1 }
            stage1: { epochs: 1, batch: 8 }
            stage2:
              tasks:
                - name: shapes
                  builtin: { classes: 2, train_per_class: 2, test_per_class: 1 }
              shots: [1]
              seeds: [0]
              epochs: 2
              batch: 2
            """, Path.Combine(Root, "recipe.yaml"));
        Assert.Equal("hf-hub:timm/fixture_vit.augreg_in21k", recipe.BackboneWeights);
        var quiet = new Quiet();
        var runner = new PvpRunner(recipe, quiet);
        var report = runner.Run();
        Assert.Contains("downloading hf-hub:timm/fixture_vit.augreg_in21k model.safetensors (966.4 KiB)", quiet.Lines);
        Assert.Contains(quiet.Lines, l => l.StartsWith("downloaded hf-hub:timm/fixture_vit.augreg_in21k model.safetensors  966.4 KiB / 966.4 KiB (100%)", StringComparison.Ordinal));
        Assert.Equal(2, report.Results.Count);
        Assert.Equal(Path.Combine(Cache, "models--timm--fixture_vit.augreg_in21k", "snapshots", repo.Main, "model.safetensors"), runner.BackbonePath);
        Assert.Single(Server.Gets("/cdn/")); // downloaded once for the whole run

        string run = Path.Combine(Root, "run");
        string result = File.ReadAllText(Path.Combine(run, "stage2", "shapes", "1shot-seed0-pvp", "result.json"));
        Assert.Contains("hf-hub:timm/fixture_vit.augreg_in21k config.json: mean (0.5, 0.5, 0.5), std (0.5, 0.5, 0.5)", result);
        Assert.Contains("(crop 0.95)", result);

        // One TensorBoard run per stage and per cell, laid out as the run folder.
        string board = Path.Combine(run, "tensorboard");
        foreach (string folder in new[] { "stage1", Path.Combine("stage2", "shapes", "1shot-seed0-pvp"), Path.Combine("stage2", "shapes", "1shot-seed0-random") })
            Assert.Single(Directory.GetFiles(Path.Combine(board, folder), "events.out.tfevents.*"));
        var events = TensorBoardEventFile.Read(Directory.GetFiles(Path.Combine(board, "stage2", "shapes", "1shot-seed0-pvp"), "events.out.tfevents.*")[0]);
        var losses = TensorBoardEventFile.Scalars(events, "train/loss");
        Assert.Equal(new long[] { 1, 2 }, losses.Select(l => l.Step)); // 2 images, batch 2, 2 epochs
        Assert.All(losses, l => Assert.True(float.IsFinite(l.Value) && l.Value > 0));
        Assert.Equal(2, TensorBoardEventFile.Scalars(events, "train/lr").Count);
        var top1 = Assert.Single(TensorBoardEventFile.Scalars(events, "eval/top1"));
        var cell = report.Results.Single(r => r.Init == "pvp");
        Assert.Equal(2L, top1.Step);
        Assert.Equal(100 * cell.Top1, top1.Value, 3);
        string settings = Assert.Single(TensorBoardEventFile.Texts(events, "settings"));
        Assert.Contains("| backbone.weights | hf-hub:timm/fixture_vit.augreg_in21k |", settings);
        Assert.Contains("| Epochs | 2 |", settings);
        Assert.Contains("| preprocessing | hf-hub:timm/fixture_vit.augreg_in21k config.json:", settings);
    }

    [Fact]
    public void OfflineARecipeWhoseIdIsNotCachedStopsBeforeTrainingNamingTheCache()
    {
        Environment.SetEnvironmentVariable("HF_HUB_OFFLINE", "1");
        var recipe = RecipeParser.Parse("""
            variant: FixtureVptDeep
            output: run
            backbone: { weights: "hf-hub:timm/absent" }
            source:
              builtin: { classes: 3, train_per_class: 2, test_per_class: 1 }
            stage1: { epochs: 1 }
            stage2:
              tasks:
                - name: shapes
                  builtin: { classes: 2, train_per_class: 2, test_per_class: 1 }
              shots: [1]
              seeds: [0]
            """, Path.Combine(Root, "recipe.yaml"));
        var e = Assert.Throws<HubException>(() => new PvpRunner(recipe, new Quiet()).Run());
        Assert.Contains($"is in the cache folder '{Path.Combine(Cache, "models--timm--absent")}'", e.Message);
        Assert.Empty(Server.Requests);
        Assert.False(Directory.Exists(Path.Combine(Root, "run", "stage1")));
    }

    [Fact]
    public void PvpInspectLoadsWeightsByIdAndFailsInOneLine()
    {
        // A plain Micro ViT's own weights, published as timm would: what VptDeepMicro's backbone loads.
        string file = Path.Combine(Root, "micro.safetensors");
        using (var plain = VariantRegistry.Create("FullFineTuneMicro", 7))
            SafeTensors.Save(file, plain.state_dict().ToDictionary(p => p.Key, p => p.Value));
        var repo = Server.Add("timm/micro_vit", ("model.safetensors", File.ReadAllBytes(file), true));

        var (code, output) = RunPvp("inspect VptDeepMicro --classes 7 --weights hf-hub:timm/micro_vit");
        Assert.True(code == 0, output);
        Assert.Contains($"weights 'hf-hub:timm/micro_vit (model.safetensors, commit {repo.Main[..12]}:", output);
        Assert.Contains("(Timm layout)", output);
        Assert.True(File.Exists(Path.Combine(Cache, "models--timm--micro_vit", "snapshots", repo.Main, "model.safetensors")));

        (code, output) = RunPvp("inspect VptDeepMicro --weights hf-hub:org/absent");
        Assert.Equal(1, code);
        string error = Assert.Single(output.Split('\n'), l => l.StartsWith("error:", StringComparison.Ordinal));
        Assert.StartsWith("error: hf-hub:org/absent: the repository does not exist, or is private (HTTP 404)", error);
        Assert.Contains($"{Server.Endpoint}/org/absent/resolve/main/model.safetensors", error);
    }

    private static (int Code, string Output) RunPvp(string arguments)
    {
        string dll = Directory.GetFiles(Pvp.Tests.Numerics.TestTensors.RepoPath("Pvp.Cli/bin"), "pvp.dll", SearchOption.AllDirectories)
            .OrderByDescending(File.GetLastWriteTimeUtc).First();
        var start = new System.Diagnostics.ProcessStartInfo("dotnet", $"\"{dll}\" {arguments}")
        {
            RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
        };
        start.Environment["COLUMNS"] = "400"; // one console line per message
        using var process = System.Diagnostics.Process.Start(start)!;
        var error = process.StandardError.ReadToEndAsync();
        string output = process.StandardOutput.ReadToEnd();
        Assert.True(process.WaitForExit(120_000), $"pvp {arguments} did not finish");
        return (process.ExitCode, output + error.Result);
    }

    [Fact]
    public void AMalformedIdIsARecipeErrorAtItsLine()
    {
        var e = Assert.Throws<RecipeException>(() => RecipeParser.Parse("""
            variant: FixtureVptDeep
            backbone:
              weights: "hf-hub:org/name@"
            source: { builtin: { classes: 3 } }
            stage1: { epochs: 1 }
            stage2: { tasks: [ { name: s, builtin: { classes: 2 } } ] }
            """, Path.Combine(Root, "recipe.yaml")));
        Assert.Contains("recipe.yaml:3:12: backbone.weights: 'hf-hub:org/name@': '' is not a revision", e.Message);
    }
}
