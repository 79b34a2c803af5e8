using System.ComponentModel;
using Pvp.Cli.Settings;
using Pvp.Recipes.Cluster;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Pvp.Cli.Commands.Submit;

/// <summary>Settings both <c>pvp submit slurm</c> and <c>pvp submit kubernetes</c> take.</summary>
internal abstract class SubmitSettings : TrainingSettings
{
    /// <summary>Print instead of submitting.</summary>
    [CommandOption("--dry-run")]
    [Description("Print the scripts or manifests instead of submitting or writing them.")]
    public bool DryRun { get; init; }

    /// <summary>Time a few steps here for the summary printed before submitting.</summary>
    [CommandOption("--estimate")]
    [Description("Time a few training steps per stage on this machine and print the estimated time with the summary " +
                 "(as 'pvp plan' does; meaningful when this machine is the nodes' kind).")]
    public bool Estimate { get; init; }

    /// <summary>How nodes start pvp.</summary>
    [CommandOption("--pvp-command <COMMAND>")]
    [Description("How the nodes start pvp, as shell words (Slurm default: the way this pvp was started, e.g. 'pvp' or " +
                 "'dotnet /path/pvp.dll'; Kubernetes default: 'pvp', the tool on the image's PATH).")]
    public string? PvpCommand { get; init; }

    /// <summary>GPUs per task (Slurm) or pod (Kubernetes).</summary>
    [CommandOption("--gpus-per-task <N>")]
    [Description("GPUs per array task (Slurm --gpus-per-task) or per pod (the nvidia.com/gpu limit); 0 for none.")]
    public int? GpusPerTask { get; init; }

    /// <summary>CPUs per task or pod.</summary>
    [CommandOption("--cpus-per-task <N>")]
    [Description("CPUs per task or pod; torch's threads follow it.")]
    public int? CpusPerTask { get; init; }

    /// <summary>The array's concurrency cap.</summary>
    [CommandOption("--max-concurrent <N>")]
    [Description("At most N cells at once (Slurm --array=…%N; Kubernetes parallelism).")]
    public int? MaxConcurrent { get; init; }

    /// <summary>
    /// Checks the scheduler's own options (<see cref="SlurmOptions.Validate"/>,
    /// <see cref="KubernetesOptions.Validate"/>).
    /// </summary>
    /// <exception cref="ArgumentException">A value that is not what its option takes.</exception>
    protected abstract void ValidateOptions();

    /// <inheritdoc />
    public override ValidationResult Validate()
    {
        try
        {
            ValidateOptions();
        }
        catch (ArgumentException e)
        {
            return ValidationResult.Error(e.Message);
        }
        return base.Validate();
    }

    /// <summary>
    /// Every argument the nodes' commands get: the same assemblies, device, precision and force as this command.
    /// </summary>
    public IReadOnlyList<string> NodeArguments()
    {
        var arguments = new List<string>();
        foreach (var assembly in Assemblies) arguments.AddRange(new[] { "--assembly", Path.GetFullPath(assembly) });
        if (Device is not null) arguments.AddRange(new[] { "--device", Device });
        if (Precision is not null) arguments.AddRange(new[] { "--precision", Precision });
        if (Force) arguments.Add("--force"); // the nodes redo what this command was told to redo
        return arguments;
    }
}
