using System.ComponentModel;
using Pvp.Recipes.Cluster;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Pvp.Cli.Commands.Submit;

/// <summary><c>pvp submit slurm</c>: stage 1, a requeueable job array over the cells, the report.</summary>
internal sealed class SlurmCommand : SubmitCommand<SlurmCommand.Settings>
{
    /// <summary>What people pass to <c>sbatch</c>.</summary>
    internal sealed class Settings : SubmitSettings
    {
        /// <summary><c>--partition</c>.</summary>
        [CommandOption("--partition <NAME>")]
        [Description("The Slurm partition (or a comma-separated list) for every job.")]
        public string? Partition { get; init; }

        /// <summary><c>--account</c>.</summary>
        [CommandOption("--account <NAME>")]
        [Description("The Slurm account every job is charged to.")]
        public string? Account { get; init; }

        /// <summary><c>--time</c>.</summary>
        [CommandOption("--time <LIMIT>")]
        [Description("Each job's time limit, e.g. 04:00:00 or 2-00:00:00; " +
                     "pvp gets SIGTERM two minutes before it and checkpoints.")]
        public string? Time { get; init; }

        /// <summary><c>--mem</c>.</summary>
        [CommandOption("--mem <SIZE>")]
        [Description("Memory per job, e.g. 32G.")]
        public string? Memory { get; init; }

        /// <summary>Extra <c>#SBATCH</c> lines.</summary>
        [CommandOption("--sbatch-line <LINE>")]
        [Description("An extra '#SBATCH …' line for every script; repeat for more.")]
        public string[] SbatchLines { get; init; } = Array.Empty<string>();

        /// <summary>The options as <see cref="SlurmOptions"/>.</summary>
        public SlurmOptions Options => new()
        {
            Partition = Partition, Account = Account, Time = Time, GpusPerTask = GpusPerTask, CpusPerTask = CpusPerTask,
            Memory = Memory, MaxConcurrent = MaxConcurrent, ExtraLines = SbatchLines,
        };

        /// <inheritdoc />
        protected override void ValidateOptions() => Options.Validate();
    }

    /// <inheritdoc />
    protected override string DefaultPvpCommand => ClusterRun.CurrentPvpCommand();

    /// <inheritdoc />
    protected override int Submit(ClusterRun run, Settings s)
    {
        var options = s.Options;
        if (s.DryRun)
        {
            var scripts = SlurmJobs.Scripts(run, options);
            Output.Raw($"# pretrain.sbatch: sbatch --parsable pretrain.sbatch\n{scripts.Pretrain}\n");
            Output.Raw("# tune.sbatch: sbatch --parsable --dependency=afterok:<pretrain> " +
                       $"--array={SlurmJobs.ArraySpec(run, options)} tune.sbatch\n{scripts.Tune}\n");
            Output.Raw(
                $"# report.sbatch: sbatch --parsable --dependency=afterany:<tune> report.sbatch\n{scripts.Report}\n");
            return 0;
        }
        var jobs = SlurmJobs.Submit(run, options);
        AnsiConsole.WriteLine($"submitted {run.CellCount} cells of {run.RecipePath}:");
        AnsiConsole.WriteLine($"  stage 1: job {jobs.PretrainJob}");
        AnsiConsole.WriteLine($"  stage 2: array {jobs.TuneArray} " +
                              $"(tasks 0-{run.CellCount - 1}, after {jobs.PretrainJob} succeeds)");
        AnsiConsole.WriteLine($"  report:  job {jobs.ReportJob} (after the array, whatever its outcome)");
        AnsiConsole.WriteLine($"watch:   squeue -j {jobs.PretrainJob},{jobs.TuneArray},{jobs.ReportJob}   or   " +
                              $"pvp status {ClusterRun.Quote(run.RecipePath)} --output {ClusterRun.Quote(run.Output)}");
        AnsiConsole.WriteLine($"cancel:  scancel {jobs.PretrainJob} {jobs.TuneArray} {jobs.ReportJob}");
        AnsiConsole.WriteLine($"logs:    {Path.Combine(run.Output, "slurm", "logs")}");
        return 0;
    }
}
