using System.ComponentModel;
using Pvp.Cluster;
using Pvp.Recipe;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Pvp.Cli;

/// <summary>Settings of <c>pvp submit</c>.</summary>
public sealed class SubmitSettings : RecipeSettings
{
    /// <summary>Submit to Slurm.</summary>
    [CommandOption("--slurm")]
    [Description("Submit to Slurm: stage 1, a requeueable job array over the stage-2 cells (afterok), the report (afterany).")]
    public bool Slurm { get; init; }

    /// <summary>Write Kubernetes manifests.</summary>
    [CommandOption("--kubernetes")]
    [Description("Write Kubernetes Jobs (stage 1, an Indexed Job over the cells, the report); with --dry-run, print them.")]
    public bool Kubernetes { get; init; }

    /// <summary>Print instead of submitting.</summary>
    [CommandOption("--dry-run")]
    [Description("Print the scripts or manifests instead of submitting them.")]
    public bool DryRun { get; init; }

    /// <summary>How nodes start pvp.</summary>
    [CommandOption("--pvp-command <COMMAND>")]
    [Description("How the nodes start pvp (default for Slurm: the way this pvp was started, e.g. 'pvp' or 'dotnet /path/pvp.dll'; for Kubernetes: 'pvp', the tool on the image's PATH).")]
    public string? PvpCommand { get; init; }

    /// <summary><c>--partition</c>.</summary>
    [CommandOption("--partition <NAME>")] public string? Partition { get; init; }

    /// <summary><c>--account</c>.</summary>
    [CommandOption("--account <NAME>")] public string? Account { get; init; }

    /// <summary><c>--time</c>.</summary>
    [CommandOption("--time <LIMIT>")]
    [Description("Each job's time limit, e.g. 04:00:00; pvp gets SIGTERM two minutes before it and checkpoints.")]
    public string? Time { get; init; }

    /// <summary>GPUs per task (Slurm) or pod (Kubernetes).</summary>
    [CommandOption("--gpus-per-task <N>")] public int? GpusPerTask { get; init; }

    /// <summary><c>--cpus-per-task</c>.</summary>
    [CommandOption("--cpus-per-task <N>")] public int? CpusPerTask { get; init; }

    /// <summary><c>--mem</c>.</summary>
    [CommandOption("--mem <SIZE>")] public string? Memory { get; init; }

    /// <summary>The array's concurrency cap.</summary>
    [CommandOption("--max-concurrent <N>")]
    [Description("At most N cells at once (Slurm --array=…%N; Kubernetes parallelism).")]
    public int? MaxConcurrent { get; init; }

    /// <summary>Extra <c>#SBATCH</c> lines.</summary>
    [CommandOption("--sbatch-line <LINE>")]
    [Description("An extra '#SBATCH …' line for every script; repeat for more.")]
    public string[] SbatchLines { get; init; } = Array.Empty<string>();

    /// <summary>The image of the pods.</summary>
    [CommandOption("--image <IMAGE>")] public string? Image { get; init; }

    /// <summary>The namespace of the Jobs.</summary>
    [CommandOption("--namespace <NAME>")] public string? Namespace { get; init; }

    /// <summary>The PersistentVolumeClaim with the recipe and run folder.</summary>
    [CommandOption("--volume-claim <NAME>")] public string? VolumeClaim { get; init; }

    /// <summary>Where the claim is mounted in the pods.</summary>
    [CommandOption("--mount-path <PATH>")] public string? MountPath { get; init; }
}

/// <summary><c>pvp submit</c>: the recipe's grid on a cluster.</summary>
public sealed class SubmitCommand : RecipeCommand<SubmitSettings>
{
    /// <inheritdoc />
    protected override int Run(PvpRecipe recipe, SubmitSettings s, CancellationToken cancellationToken)
    {
        if (s.Slurm == s.Kubernetes) throw new ArgumentException("Choose one: --slurm or --kubernetes.");
        // Everything the recipe names is checked here, before anything waits in a queue (not the device: nodes have theirs).
        new PvpRunner(recipe, new ConsoleReporter()).Validate(forThisMachine: false);
        // Every node runs exactly what this command was given: the same assemblies, device and precision.
        var arguments = new List<string>();
        foreach (var assembly in s.Assemblies) arguments.AddRange(new[] { "--assembly", Path.GetFullPath(assembly) });
        if (s.Device is not null) arguments.AddRange(new[] { "--device", s.Device });
        if (s.Precision is not null) arguments.AddRange(new[] { "--precision", s.Precision });
        if (s.Force) arguments.Add("--force"); // the nodes redo what this command was told to redo
        // A pod runs the image's pvp, not this machine's path to it.
        var run = ClusterRun.Of(recipe, s.PvpCommand ?? (s.Kubernetes ? "pvp" : ClusterRun.CurrentPvpCommand()), arguments);
        if (s.Slurm) return Slurm(run, s);
        return Kubernetes(run, s);
    }

    private static int Slurm(ClusterRun run, SubmitSettings s)
    {
        var options = new SlurmOptions
        {
            Partition = s.Partition, Account = s.Account, Time = s.Time, GpusPerTask = s.GpusPerTask, CpusPerTask = s.CpusPerTask,
            Memory = s.Memory, MaxConcurrent = s.MaxConcurrent, ExtraLines = s.SbatchLines,
        };
        if (s.DryRun)
        {
            var scripts = SlurmJobs.Scripts(run, options);
            Console.WriteLine($"# pretrain.sbatch: sbatch --parsable pretrain.sbatch\n{scripts.Pretrain}");
            Console.WriteLine($"# tune.sbatch: sbatch --parsable --dependency=afterok:<pretrain> --array={SlurmJobs.ArraySpec(run, options)} tune.sbatch\n{scripts.Tune}");
            Console.WriteLine($"# report.sbatch: sbatch --parsable --dependency=afterany:<tune> report.sbatch\n{scripts.Report}");
            return 0;
        }
        var jobs = SlurmJobs.Submit(run, options);
        AnsiConsole.WriteLine($"submitted {run.CellCount} cells of {run.RecipePath}:");
        AnsiConsole.WriteLine($"  stage 1: job {jobs.PretrainJob}");
        AnsiConsole.WriteLine($"  stage 2: array {jobs.TuneArray} (tasks 0-{run.CellCount - 1}, after {jobs.PretrainJob} succeeds)");
        AnsiConsole.WriteLine($"  report:  job {jobs.ReportJob} (after the array, whatever its outcome)");
        AnsiConsole.WriteLine($"watch:   squeue -j {jobs.PretrainJob},{jobs.TuneArray},{jobs.ReportJob}   or   pvp status {ClusterRun.Quote(run.RecipePath)} --output {ClusterRun.Quote(run.Output)}");
        AnsiConsole.WriteLine($"cancel:  scancel {jobs.PretrainJob} {jobs.TuneArray} {jobs.ReportJob}");
        AnsiConsole.WriteLine($"logs:    {Path.Combine(run.Output, "slurm", "logs")}");
        return 0;
    }

    private static int Kubernetes(ClusterRun run, SubmitSettings s)
    {
        var options = new KubernetesOptions
        {
            Image = s.Image ?? "pvp:latest", Namespace = s.Namespace, VolumeClaim = s.VolumeClaim ?? "pvp-runs", MountPath = s.MountPath ?? "/runs",
            GpusPerPod = s.GpusPerTask ?? 1, CpusPerPod = s.CpusPerTask, Parallelism = s.MaxConcurrent,
        };
        var (pretrain, tune, report) = KubernetesJobs.Manifests(run, options);
        if (s.DryRun)
        {
            Console.Write($"{pretrain}---\n{tune}---\n{report}");
            return 0;
        }
        string folder = Path.Combine(run.Output, "kubernetes");
        Directory.CreateDirectory(folder);
        foreach (var (file, text) in new[] { ("1-pretrain.yaml", pretrain), ("2-tune.yaml", tune), ("3-report.yaml", report) })
            Checkpoints.AtomicFile.Write(Path.Combine(folder, file), temp => File.WriteAllText(temp, text));
        string ns = s.Namespace is null ? "" : $" -n {s.Namespace}";
        AnsiConsole.WriteLine($"wrote the Jobs to {folder}; Kubernetes has no dependencies between Jobs, so apply them in order:");
        AnsiConsole.WriteLine($"  kubectl apply{ns} -f {folder}/1-pretrain.yaml && kubectl wait{ns} --for=condition=complete --timeout=-1s job/{run.Name.ToLowerInvariant()}-pretrain");
        AnsiConsole.WriteLine($"  kubectl apply{ns} -f {folder}/2-tune.yaml && kubectl wait{ns} --for=condition=complete --timeout=-1s job/{run.Name.ToLowerInvariant()}-tune");
        AnsiConsole.WriteLine($"  kubectl apply{ns} -f {folder}/3-report.yaml");
        return 0;
    }
}

/// <summary><c>pvp status</c>: the run folder's cells, from the folder alone.</summary>
public sealed class StatusCommand : RecipeCommand<RecipeSettings>
{
    /// <inheritdoc />
    protected override int Run(PvpRecipe recipe, RecipeSettings settings, CancellationToken cancellationToken)
    {
        var runner = new PvpRunner(recipe);
        var cells = RunStatus.Cells(runner);
        bool stage1 = runner.StageOneDone;
        AnsiConsole.WriteLine($"{recipe.Output}: stage 1 {(stage1 ? "done" : "not done")}; {cells.Count} cells: " +
                              string.Join(", ", Enum.GetValues<CellState>().Select(state => $"{cells.Count(c => c.State == state)} {state.ToString().ToLowerInvariant()}")));
        foreach (var cell in cells.Where(c => c.State != CellState.Done)) AnsiConsole.WriteLine($"  {cell}");
        return 0;
    }
}
