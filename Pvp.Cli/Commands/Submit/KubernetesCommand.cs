using System.ComponentModel;
using Pvp.Recipes.Cluster;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Pvp.Cli.Commands.Submit;

/// <summary><c>pvp submit kubernetes</c>: the stage-1 Job, an Indexed Job over the cells and the report Job.</summary>
internal sealed class KubernetesCommand : SubmitCommand<KubernetesCommand.Settings>
{
    /// <summary>How the grid's pods run.</summary>
    internal sealed class Settings : SubmitSettings
    {
        /// <summary>The image of the pods.</summary>
        [CommandOption("--image <IMAGE>")]
        [Description("A container image with pvp (and your variants' assembly) in it; default pvp:latest.")]
        public string? Image { get; init; }

        /// <summary>The namespace of the Jobs.</summary>
        [CommandOption("--namespace <NAME>")]
        [Description("The namespace of the Jobs (default: kubectl's current one).")]
        public string? Namespace { get; init; }

        /// <summary>The PersistentVolumeClaim with the recipe and run folder.</summary>
        [CommandOption("--volume-claim <NAME>")]
        [Description("A ReadWriteMany PersistentVolumeClaim holding the recipe and the run folder; default pvp-runs.")]
        public string? VolumeClaim { get; init; }

        /// <summary>Where the claim is mounted in the pods.</summary>
        [CommandOption("--mount-path <PATH>")]
        [Description("Where the claim is mounted in the pods (the recipe and run folder must lie under it); " +
                     "default /runs.")]
        public string? MountPath { get; init; }

        /// <summary>The options as <see cref="KubernetesOptions"/>.</summary>
        public KubernetesOptions Options => new()
        {
            Image = Image ?? "pvp:latest", Namespace = Namespace,
            VolumeClaim = VolumeClaim ?? "pvp-runs", MountPath = MountPath ?? "/runs",
            GpusPerPod = GpusPerTask ?? 1, CpusPerPod = CpusPerTask, Parallelism = MaxConcurrent,
        };

        /// <inheritdoc />
        protected override void ValidateOptions() => Options.Validate();
    }

    /// <inheritdoc />
    protected override string DefaultPvpCommand => "pvp"; // a pod runs the image's pvp, not this machine's path to it

    /// <inheritdoc />
    protected override int Submit(ClusterRun run, Settings s)
    {
        var (pretrain, tune, report) = KubernetesJobs.Manifests(run, s.Options);
        if (s.DryRun)
        {
            Output.Raw($"{pretrain}---\n{tune}---\n{report}");
            return 0;
        }
        string folder = Path.Combine(run.Output, "kubernetes");
        Directory.CreateDirectory(folder);
        foreach (var (file, text) in new[] { ("1-pretrain.yaml", pretrain), ("2-tune.yaml", tune),
            ("3-report.yaml", report) })
            Checkpoints.AtomicFile.Write(Path.Combine(folder, file), temp => File.WriteAllText(temp, text));
        string ns = s.Namespace is null ? "" : $" -n {s.Namespace}";
        string name = KubernetesJobs.JobPrefix(run);
        AnsiConsole.WriteLine(
            $"wrote the Jobs to {folder}; Kubernetes has no dependencies between Jobs, so apply them in order:");
        AnsiConsole.WriteLine($"  kubectl apply{ns} -f {ClusterRun.Quote(folder + "/1-pretrain.yaml")} && " +
                              $"kubectl wait{ns} --for=condition=complete --timeout=-1s job/{name}-pretrain");
        AnsiConsole.WriteLine($"  kubectl apply{ns} -f {ClusterRun.Quote(folder + "/2-tune.yaml")} && " +
                              $"kubectl wait{ns} --for=condition=complete --timeout=-1s job/{name}-tune");
        AnsiConsole.WriteLine($"  kubectl apply{ns} -f {ClusterRun.Quote(folder + "/3-report.yaml")}");
        return 0;
    }
}
