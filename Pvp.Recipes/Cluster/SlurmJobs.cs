using System.Diagnostics;
using System.Text;

namespace Pvp.Recipes.Cluster;

/// <summary>What people pass to <c>sbatch</c>; null leaves the cluster's default.</summary>
public sealed record SlurmOptions
{
    /// <summary><c>--partition</c>.</summary>
    public string? Partition { get; init; }

    /// <summary><c>--account</c>.</summary>
    public string? Account { get; init; }

    /// <summary><c>--time</c> of each job, e.g. <c>04:00:00</c>.</summary>
    public string? Time { get; init; }

    /// <summary><c>--gpus-per-task</c>.</summary>
    public int? GpusPerTask { get; init; }

    /// <summary><c>--cpus-per-task</c>.</summary>
    public int? CpusPerTask { get; init; }

    /// <summary><c>--mem</c>, e.g. <c>32G</c>.</summary>
    public string? Memory { get; init; }

    /// <summary>The array's concurrency cap (<c>--array=0-N%K</c>).</summary>
    public int? MaxConcurrent { get; init; }

    /// <summary>Extra lines for every script, each <c>#SBATCH …</c>.</summary>
    public IReadOnlyList<string> ExtraLines { get; init; } = Array.Empty<string>();

    /// <summary>
    /// Checks each value for what it is (see <see cref="SchedulerValues"/>), so that none can add a line to a script.
    /// </summary>
    /// <exception cref="ArgumentException">A value that is not what its option takes; the message names the option.</exception>
    public void Validate()
    {
        if (Partition is { } partition) SchedulerValues.SlurmName("--partition", partition);
        if (Account is { } account) SchedulerValues.SlurmName("--account", account);
        if (Time is { } time) SchedulerValues.SlurmTime("--time", time);
        if (Memory is { } memory) SchedulerValues.SlurmMemory("--mem", memory);
        if (GpusPerTask is { } gpus) SchedulerValues.Count("--gpus-per-task", gpus, least: 0);
        if (CpusPerTask is { } cpus) SchedulerValues.Count("--cpus-per-task", cpus);
        if (MaxConcurrent is { } cap) SchedulerValues.Count("--max-concurrent", cap);
        foreach (string line in ExtraLines)
        {
            if (line.Any(char.IsControl))
                throw new ArgumentException($"--sbatch-line '{SchedulerValues.Printable(line)}': a line may not contain a newline or other control character.");
            if (!line.StartsWith("#SBATCH ", StringComparison.Ordinal))
                throw new ArgumentException($"--sbatch-line '{line}': each extra line must be an '#SBATCH …' directive.");
        }
    }
}

/// <summary>The three scripts of a recipe's Slurm submission.</summary>
/// <param name="Pretrain">Backbone (when needed) and stage 1.</param>
/// <param name="Tune">The job array over the stage-2 cells: task i runs cell i of the recipe's deterministic order.</param>
/// <param name="Report">Merges whatever finished and names what did not.</param>
public sealed record SlurmScripts(string Pretrain, string Tune, string Report);

/// <summary>The job ids of a submission.</summary>
public sealed record SlurmSubmission(string PretrainJob, string TuneArray, string ReportJob);

/// <summary>
/// Writes and submits a recipe's grid as Slurm jobs: stage 1, then one requeueable job array over the stage-2 cells
/// (<c>afterok</c> on stage 1; <c>SLURM_ARRAY_TASK_ID</c> → the cell index), then the report (<c>afterany</c> on the
/// array). Each script <c>exec</c>s pvp, so the SIGTERM Slurm sends before a preemption or the time limit reaches it:
/// it checkpoints and exits, and the requeued task resumes.
/// </summary>
public static class SlurmJobs
{
    /// <summary>The three scripts.</summary>
    /// <exception cref="ArgumentException">
    /// A value that is not what its option takes (see <see cref="SlurmOptions.Validate"/>), a path that cannot be written
    /// safely, or a recipe with no cells.
    /// </exception>
    public static SlurmScripts Scripts(ClusterRun run, SlurmOptions options)
    {
        options.Validate();
        run.Validate();
        if (run.CellCount == 0) throw new ArgumentException("The recipe has no stage-2 cells to submit.");
        string logs = Path.Combine(run.Output, "slurm", "logs");
        string Script(string job, string logName, IEnumerable<string> directives, string command)
        {
            var text = new StringBuilder("#!/bin/bash\n");
            text.Append($"#SBATCH --job-name={run.Name}-{job}\n");
            text.Append($"#SBATCH --output={SchedulerValues.Directive($"{logs}/{logName}")}\n");
            text.Append("#SBATCH --open-mode=append\n");
            if (options.Partition is { } partition) text.Append($"#SBATCH --partition={partition}\n");
            if (options.Account is { } account) text.Append($"#SBATCH --account={account}\n");
            if (options.Time is { } time) text.Append($"#SBATCH --time={time}\n");
            if (options.CpusPerTask is { } cpus) text.Append($"#SBATCH --cpus-per-task={cpus}\n");
            if (options.Memory is { } memory) text.Append($"#SBATCH --mem={memory}\n");
            foreach (string d in directives) text.Append($"#SBATCH {d}\n");
            foreach (string line in options.ExtraLines) text.Append(line).Append('\n');
            text.Append("set -euo pipefail\n");
            // Torch's threads to the CPUs Slurm gave the task: more threads than cores make OpenMP spin-wait on one
            // another (measured here: a 100x slower step when another process held one of two cores).
            text.Append("export OMP_NUM_THREADS=\"${OMP_NUM_THREADS:-${SLURM_CPUS_PER_TASK:-1}}\"\n");
            text.Append($"echo \"pvp {job}: job ${{SLURM_JOB_ID}}{(job == "tune" ? " task ${SLURM_ARRAY_TASK_ID}" : "")} on $(hostname) at $(date -Is)\"\n");
            text.Append($"exec {command}\n");
            return text.ToString();
        }
        var gpu = options.GpusPerTask is { } gpus and > 0 ? new[] { $"--gpus-per-task={gpus}" } : Array.Empty<string>();
        // The time-limit warning: SIGTERM two minutes before, to the batch shell (which is pvp, by exec).
        var term = options.Time is null ? Array.Empty<string>() : new[] { "--signal=B:TERM@120" };
        return new SlurmScripts(
            Script("pretrain", "pretrain-%j.out", gpu.Concat(term), run.Command("pretrain")),
            Script("tune", "tune-%A_%a.out", gpu.Concat(term).Append("--requeue"), run.Command("tune", "--index", "\"${SLURM_ARRAY_TASK_ID}\"")),
            Script("report", "report-%j.out", Array.Empty<string>(), run.Command("report")));
    }

    /// <summary>The array specification: every cell, capped at <see cref="SlurmOptions.MaxConcurrent"/> at once.</summary>
    public static string ArraySpec(ClusterRun run, SlurmOptions options) =>
        $"0-{run.CellCount - 1}{(options.MaxConcurrent is { } cap ? $"%{cap}" : "")}";

    /// <summary>Writes the scripts under the run folder's <c>slurm/</c> and submits them through <c>sbatch --parsable</c>.</summary>
    /// <exception cref="InvalidOperationException">sbatch is missing or refused a job; the message holds its words.</exception>
    public static SlurmSubmission Submit(ClusterRun run, SlurmOptions options)
    {
        var scripts = Scripts(run, options);
        string folder = Path.Combine(run.Output, "slurm");
        Directory.CreateDirectory(Path.Combine(folder, "logs"));
        string Write(string name, string text)
        {
            string path = Path.Combine(folder, name);
            Checkpoints.AtomicFile.Write(path, temp => File.WriteAllText(temp, text));
            return path;
        }
        string pretrain = Write("pretrain.sbatch", scripts.Pretrain), tune = Write("tune.sbatch", scripts.Tune), report = Write("report.sbatch", scripts.Report);
        string first = Sbatch(pretrain);
        string array = Sbatch($"--dependency=afterok:{first}", $"--array={ArraySpec(run, options)}", tune);
        string last = Sbatch($"--dependency=afterany:{array}", report);
        var submission = new SlurmSubmission(first, array, last);
        Checkpoints.AtomicFile.Write(Path.Combine(folder, "jobs.txt"), temp => File.WriteAllText(temp, $"pretrain {first}\ntune {array}\nreport {last}\n"));
        return submission;
    }

    /// <summary>Runs <c>sbatch --parsable</c> with <paramref name="arguments"/> as separate words (no shell: a path with spaces or quotes stays one argument).</summary>
    private static string Sbatch(params string[] arguments)
    {
        ProcessStartInfo start = new("sbatch") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add("--parsable");
        foreach (string argument in arguments) start.ArgumentList.Add(argument);
        Process process;
        try
        {
            process = Process.Start(start) ?? throw new InvalidOperationException("Could not start sbatch.");
        }
        catch (System.ComponentModel.Win32Exception)
        {
            throw new InvalidOperationException("sbatch is not on PATH: run 'pvp submit slurm' on a Slurm login node, or add --dry-run to only write the scripts.");
        }
        using (process)
        {
            var error = process.StandardError.ReadToEndAsync();
            string output = process.StandardOutput.ReadToEnd().Trim();
            process.WaitForExit();
            if (process.ExitCode != 0 || output.Length == 0)
                throw new InvalidOperationException($"sbatch {string.Join(' ', arguments.Select(ClusterRun.Quote))} failed (exit {process.ExitCode}): {error.Result.Trim()}");
            return output.Split(';')[0]; // "id" or "id;cluster"
        }
    }
}
