using System.Text;

namespace Pvp.Cluster;

/// <summary>How the grid's pods run: the image with pvp in it, where the shared run folder comes from, resources.</summary>
public sealed record KubernetesOptions
{
    /// <summary>A container image that has pvp (and the user's variant assembly, if any).</summary>
    public string Image { get; init; } = "pvp:latest";

    /// <summary>The namespace, or null for the current one.</summary>
    public string? Namespace { get; init; }

    /// <summary>A PersistentVolumeClaim (ReadWriteMany) holding the recipe and the run folder, mounted at <see cref="MountPath"/>.</summary>
    public string VolumeClaim { get; init; } = "pvp-runs";

    /// <summary>Where the claim is mounted; the recipe and run folder paths must lie under it.</summary>
    public string MountPath { get; init; } = "/runs";

    /// <summary>GPUs per pod (<c>nvidia.com/gpu</c> limit); 0 for CPU pods.</summary>
    public int GpusPerPod { get; init; } = 1;

    /// <summary>CPUs per pod: the pod's CPU request and limit, and torch's thread count (null: 4).</summary>
    public int? CpusPerPod { get; init; }

    /// <summary>Pods of the indexed job running at once (null: one per cell).</summary>
    public int? Parallelism { get; init; }

    /// <summary>Retries of one index before it counts as failed.</summary>
    public int BackoffLimitPerIndex { get; init; } = 3;
}

/// <summary>
/// A recipe's grid as Kubernetes Jobs: stage 1, an Indexed Job over the stage-2 cells (<c>completionMode: Indexed</c>,
/// <c>JOB_COMPLETION_INDEX</c> → the cell index, the run folder on a shared volume, one GPU per pod as a resource
/// limit), and the report. Kubernetes has no dependencies between Jobs: apply them in that order, each after the last
/// completed (<c>kubectl wait --for=condition=complete</c>).
/// </summary>
public static class KubernetesJobs
{
    /// <summary>The three manifests (YAML), in the order to apply them.</summary>
    /// <exception cref="ArgumentException">The recipe or run folder is not under the volume's mount path.</exception>
    public static (string Pretrain, string Tune, string Report) Manifests(ClusterRun run, KubernetesOptions options)
    {
        foreach (var (what, path) in new[] { ("recipe", run.RecipePath), ("run folder", run.Output) })
            if (!path.StartsWith(options.MountPath.TrimEnd('/') + "/", StringComparison.Ordinal))
                throw new ArgumentException($"The {what} '{path}' is not under the shared volume's mount path '{options.MountPath}': pods would not see it. " +
                                            "Put it on the shared volume, or set --mount-path.");
        string name = Dns(run.Name);
        return (
            Job($"{name}-pretrain", options, run.Command("pretrain"), indexed: null),
            // A pod replacing a failed one for the same index (only once the old one is gone) takes its claim over at once.
            Job($"{name}-tune", options, $"export PVP_CLAIM_KEY=\"{name}-tune-$JOB_COMPLETION_INDEX\"; " +
                                          run.Command("tune", "--index", "\"$JOB_COMPLETION_INDEX\""), indexed: run.CellCount),
            Job($"{name}-report", options with { GpusPerPod = 0 }, run.Command("report"), indexed: null));
    }

    private static string Job(string name, KubernetesOptions o, string command, int? indexed)
    {
        var y = new StringBuilder();
        y.Append("apiVersion: batch/v1\nkind: Job\nmetadata:\n");
        y.Append($"  name: {name}\n");
        if (o.Namespace is { } ns) y.Append($"  namespace: {ns}\n");
        y.Append("  labels:\n    app.kubernetes.io/name: pvp\n");
        y.Append("spec:\n");
        if (indexed is { } completions)
        {
            y.Append("  completionMode: Indexed\n");
            y.Append($"  completions: {completions}\n");
            y.Append($"  parallelism: {o.Parallelism ?? completions}\n");
            y.Append($"  backoffLimitPerIndex: {o.BackoffLimitPerIndex}\n");
            y.Append($"  backoffLimit: {Math.Max(6, completions * o.BackoffLimitPerIndex)}\n");
            y.Append("  podReplacementPolicy: Failed\n"); // a replacement pod starts only after the old one has fully terminated
        }
        else
        {
            y.Append($"  backoffLimit: {o.BackoffLimitPerIndex}\n");
        }
        y.Append("  template:\n    spec:\n      restartPolicy: Never\n");
        y.Append("      terminationGracePeriodSeconds: 120\n"); // SIGTERM first: pvp checkpoints within the grace period
        y.Append("      containers:\n");
        y.Append("        - name: pvp\n");
        y.Append($"          image: {Scalar(o.Image)}\n");
        y.Append("          command: [\"/bin/sh\", \"-c\"]\n");
        y.Append($"          args: [{Scalar(command.StartsWith("export ", StringComparison.Ordinal) ? command.Replace("; ", "; exec ", StringComparison.Ordinal) : "exec " + command)}]\n");
        int cpus = o.CpusPerPod ?? 4;
        // Torch's threads match the pod's CPUs: more threads than cores make OpenMP spin-wait on one another.
        y.Append($"          env:\n            - name: OMP_NUM_THREADS\n              value: \"{cpus}\"\n");
        y.Append($"          resources:\n            requests:\n              cpu: \"{cpus}\"\n            limits:\n              cpu: \"{cpus}\"\n");
        if (o.GpusPerPod > 0) y.Append($"              nvidia.com/gpu: {o.GpusPerPod}\n");
        y.Append("          volumeMounts:\n");
        y.Append("            - name: runs\n");
        y.Append($"              mountPath: {Scalar(o.MountPath)}\n");
        y.Append("      volumes:\n");
        y.Append("        - name: runs\n");
        y.Append("          persistentVolumeClaim:\n");
        y.Append($"            claimName: {Scalar(o.VolumeClaim)}\n");
        return y.ToString();
    }

    /// <summary>A double-quoted YAML scalar.</summary>
    private static string Scalar(string text) => "\"" + text.Replace("\\", "\\\\").Replace("\"", "\\\"") + "\"";

    /// <summary>A DNS-1123 name (what Job names must be): lower case, digits and '-'.</summary>
    private static string Dns(string name)
    {
        string lower = new string(name.ToLowerInvariant().Select(c => char.IsAsciiLetterOrDigit(c) ? c : '-').ToArray()).Trim('-');
        return (lower.Length == 0 ? "pvp" : lower.Length > 40 ? lower[..40].TrimEnd('-') : lower);
    }
}
