using Pvp.Recipes.Cluster;
using Pvp.Recipes;
using YamlDotNet.RepresentationModel;

namespace Pvp.Tests.Cluster;

/// <summary>
/// A <c>variants:</c> recipe on a cluster: the job array spans every cell of every variant, and each task index names
/// one variant's cell, in the order the runner enumerates them.
/// </summary>
public sealed class MultiVariantClusterTests : IDisposable
{
    private readonly string folder = Directory.CreateTempSubdirectory("pvp-cluster-variants-").FullName;

    static MultiVariantClusterTests() => VariantRegistry.Load(typeof(Pvp.Models.VptDeepMicro).Assembly);

    public void Dispose() => Directory.Delete(folder, recursive: true);

    private PvpRecipe Recipe(string variants) => RecipeParser.Parse($"""
        {variants}
        output: /runs/methods
        source:
          builtin: {"{"} classes: 4, train_per_class: 4, test_per_class: 2 {"}"}
        stage1: {"{"} epochs: 1 {"}"}
        stage2:
          tasks:
            - name: shapes
              builtin: {"{"} classes: 3, train_per_class: 4, test_per_class: 2 {"}"}
          shots: [1, 2, 4]
          seeds: [0, 1]
        """, "/runs/methods.yaml");

    [Fact]
    public void TheArrayCoversEveryCellOfEveryVariant()
    {
        var recipe = Recipe("variants: [VptDeepMicro, LoraMicro, Ia3Micro]");
        var run = ClusterRun.Of(recipe, "pvp", Array.Empty<string>());
        Assert.Equal(3 * 12, run.CellCount);
        Assert.Equal(12, ClusterRun.Of(Recipe("variant: VptDeepMicro"), "pvp", Array.Empty<string>()).CellCount);
        Assert.Equal("0-35", SlurmJobs.ArraySpec(run, new SlurmOptions()));
        var scripts = SlurmJobs.Scripts(run, new SlurmOptions());
        // One pretrain job: the backbone once, then every variant's stage 1; the array's tasks index all cells.
        Assert.EndsWith("exec pvp pretrain /runs/methods.yaml --output /runs/methods\n", scripts.Pretrain);
        Assert.EndsWith("exec pvp tune /runs/methods.yaml --output /runs/methods --index \"${SLURM_ARRAY_TASK_ID}\"\n", scripts.Tune);
        var (_, tune, _) = KubernetesJobs.Manifests(run, new KubernetesOptions { Image = "pvp:1", VolumeClaim = "shared", MountPath = "/runs" });
        var job = (YamlMappingNode)new YamlStream().Let(s => s.Load(new StringReader(tune))).Documents[0].RootNode;
        Assert.Equal("36", ((YamlScalarNode)((YamlMappingNode)job["spec"])["completions"]).Value);

        // Index i is cell i of the runner's order: variant by variant, each variant's grid as a one-variant recipe's.
        var cells = new PvpRunner(recipe, new Pvp.Tests.Recipe.Quiet()).Cells();
        Assert.Equal("VptDeepMicro/shapes/1shot-seed0-pvp", cells[0].Id);
        Assert.Equal("LoraMicro/shapes/1shot-seed0-pvp", cells[12].Id);
        Assert.Equal("Ia3Micro/shapes/4shot-seed1-random", cells[35].Id);
        var single = new PvpRunner(Recipe("variant: VptDeepMicro"), new Pvp.Tests.Recipe.Quiet()).Cells();
        Assert.Equal(single.Select(c => c.Id), cells.Take(12).Select(c => c.Id[(c.Variant!.Length + 1)..]));
        Assert.Throws<ArgumentOutOfRangeException>(() => new PvpRunner(recipe, new Pvp.Tests.Recipe.Quiet()).RunCell(36));
    }
}

internal static class YamlStreamExtensions
{
    public static YamlStream Let(this YamlStream stream, Action<YamlStream> load)
    {
        load(stream);
        return stream;
    }
}
