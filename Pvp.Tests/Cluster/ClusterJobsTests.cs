using Pvp.Recipes.Cluster;
using Pvp.Recipes;
using YamlDotNet.RepresentationModel;

namespace Pvp.Tests.Cluster;

/// <summary>The Slurm scripts and Kubernetes manifests a recipe's grid becomes, checked field by field.</summary>
public sealed class ClusterJobsTests : IDisposable
{
    private readonly string folder = Directory.CreateTempSubdirectory("pvp-cluster-").FullName;

    static ClusterJobsTests() => VariantRegistry.Load(typeof(Pvp.Models.VptDeepMicro).Assembly);

    public void Dispose() => Directory.Delete(folder, recursive: true);

    private ClusterRun Run(string output = "run")
    {
        var recipe = RecipeParser.Parse($"""
            variant: VptDeepMicro
            output: {output}
            source:
              builtin: {"{"} classes: 4, train_per_class: 4, test_per_class: 2 {"}"}
            stage1: {"{"} epochs: 1 {"}"}
            stage2:
              tasks:
                - name: shapes
                  builtin: {"{"} classes: 3, train_per_class: 4, test_per_class: 2 {"}"}
              shots: [1, 2, 4]
              seeds: [0, 1]
            """, Path.Combine(folder, "my recipe.yaml"));
        return ClusterRun.Of(recipe, "pvp", new[] { "--precision", "float32" });
    }

    [Fact]
    public void SlurmScriptsChainStageOneTheArrayAndTheReport()
    {
        var run = Run();
        Assert.Equal(12, run.CellCount);
        var options = new SlurmOptions
        {
            Partition = "gpu", Account = "lab", Time = "04:00:00", GpusPerTask = 1, CpusPerTask = 8, Memory = "32G", MaxConcurrent = 5,
            ExtraLines = new[] { "#SBATCH --qos=high" },
        };
        var scripts = SlurmJobs.Scripts(run, options);
        Assert.Equal("0-11%5", SlurmJobs.ArraySpec(run, options));
        foreach (string script in new[] { scripts.Pretrain, scripts.Tune, scripts.Report })
        {
            Assert.StartsWith("#!/bin/bash\n", script);
            foreach (string d in new[] { "--partition=gpu", "--account=lab", "--time=04:00:00", "--cpus-per-task=8", "--mem=32G", "--qos=high", "--open-mode=append" })
                Assert.Contains("#SBATCH " + d + "\n", script);
            Assert.Contains("export OMP_NUM_THREADS=\"${OMP_NUM_THREADS:-${SLURM_CPUS_PER_TASK:-1}}\"", script);
        }
        Assert.Contains("#SBATCH --requeue\n", scripts.Tune);
        Assert.Contains("#SBATCH --gpus-per-task=1\n", scripts.Tune);
        Assert.Contains("#SBATCH --signal=B:TERM@120\n", scripts.Tune); // the time-limit warning reaches pvp (exec'd)
        Assert.DoesNotContain("--requeue", scripts.Pretrain);
        Assert.DoesNotContain("--gpus-per-task", scripts.Report);
        string recipe = Path.Combine(folder, "my recipe.yaml"), output = Path.Combine(folder, "run");
        Assert.EndsWith($"exec pvp tune '{recipe}' --output {output} --precision float32 --index \"${{SLURM_ARRAY_TASK_ID}}\"\n", scripts.Tune);
        Assert.EndsWith($"exec pvp pretrain '{recipe}' --output {output} --precision float32\n", scripts.Pretrain);
        Assert.EndsWith($"exec pvp report '{recipe}' --output {output} --precision float32\n", scripts.Report);
        Assert.Contains($"#SBATCH --output={output}/slurm/logs/tune-%A_%a.out", scripts.Tune);
        Assert.Throws<ArgumentException>(() => SlurmJobs.Scripts(run, options with { ExtraLines = new[] { "rm -rf /" } }));
    }

    [Fact]
    public void KubernetesManifestsAreIndexedJobsOnASharedVolume()
    {
        var run = Run(output: "/runs/exp1") with { RecipePath = "/runs/recipe.yaml" };
        var (pretrain, tune, report) = KubernetesJobs.Manifests(run, new KubernetesOptions
        {
            Image = "registry.example/pvp:0.1", Namespace = "ml", VolumeClaim = "shared", MountPath = "/runs", GpusPerPod = 1, CpusPerPod = 6, Parallelism = 4,
        });
        var job = Parse(tune);
        Assert.Equal("batch/v1", Scalar(job, "apiVersion"));
        Assert.Equal("Job", Scalar(job, "kind"));
        Assert.Equal("ml", Scalar(job, "metadata", "namespace"));
        Assert.Equal("Indexed", Scalar(job, "spec", "completionMode"));
        Assert.Equal("12", Scalar(job, "spec", "completions"));
        Assert.Equal("4", Scalar(job, "spec", "parallelism"));
        Assert.Equal("Failed", Scalar(job, "spec", "podReplacementPolicy"));
        var pod = (YamlMappingNode)Node(job, "spec", "template", "spec");
        Assert.Equal("Never", Scalar(pod, "restartPolicy"));
        var container = (YamlMappingNode)((YamlSequenceNode)pod["containers"]).Children[0];
        Assert.Equal("registry.example/pvp:0.1", Scalar(container, "image"));
        Assert.Equal("1", Scalar(container, "resources", "limits", "nvidia.com/gpu"));
        Assert.Equal("6", Scalar(container, "resources", "limits", "cpu"));
        string command = ((YamlScalarNode)((YamlSequenceNode)container["args"]).Children[0]).Value!;
        Assert.Contains("--index \"$JOB_COMPLETION_INDEX\"", command);
        Assert.Contains("exec pvp tune /runs/recipe.yaml --output /runs/exp1", command);
        Assert.Contains("PVP_CLAIM_KEY=", command);
        var mount = (YamlMappingNode)((YamlSequenceNode)container["volumeMounts"]).Children[0];
        Assert.Equal("/runs", Scalar(mount, "mountPath"));
        var volume = (YamlMappingNode)((YamlSequenceNode)pod["volumes"]).Children[0];
        Assert.Equal("shared", Scalar(volume, "persistentVolumeClaim", "claimName"));

        Assert.Null(((YamlMappingNode)Parse(pretrain)["spec"]).Children.TryGetValue(new YamlScalarNode("completionMode"), out var none) ? none : null);
        Assert.Contains("exec pvp pretrain /runs/recipe.yaml", pretrain);
        Assert.DoesNotContain("nvidia.com/gpu", report);
        Assert.Contains("not under the shared volume", Assert.Throws<ArgumentException>(() => KubernetesJobs.Manifests(Run(), new KubernetesOptions())).Message);
    }

    private static YamlMappingNode Parse(string yaml)
    {
        var stream = new YamlStream();
        stream.Load(new StringReader(yaml));
        return (YamlMappingNode)stream.Documents[0].RootNode;
    }

    private static YamlNode Node(YamlMappingNode root, params string[] path)
    {
        YamlNode node = root;
        foreach (string key in path) node = ((YamlMappingNode)node)[key];
        return node;
    }

    private static string Scalar(YamlMappingNode root, params string[] path) => ((YamlScalarNode)Node(root, path)).Value!;
}
