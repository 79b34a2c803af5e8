using System.Globalization;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Pvp.Recipes.Cluster;

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

    /// <summary>Checks each value for what it is (see <see cref="SchedulerValues"/>).</summary>
    /// <exception cref="ArgumentException">A value that is not what its option takes; the message names the option.</exception>
    public void Validate()
    {
        SchedulerValues.Image("--image", Image);
        if (Namespace is { } ns) SchedulerValues.DnsLabel("--namespace", ns);
        SchedulerValues.DnsSubdomain("--volume-claim", VolumeClaim);
        SchedulerValues.Path("--mount-path", MountPath);
        if (!MountPath.StartsWith('/') || MountPath.Contains(':'))
            throw new ArgumentException($"--mount-path '{MountPath}': expected an absolute path without ':' (where the claim is mounted in the pods).");
        SchedulerValues.Count("--gpus-per-task", GpusPerPod, least: 0);
        if (CpusPerPod is { } cpus) SchedulerValues.Count("--cpus-per-task", cpus);
        if (Parallelism is { } parallelism) SchedulerValues.Count("--max-concurrent", parallelism);
        SchedulerValues.Count("backoff limit per index", BackoffLimitPerIndex, least: 0);
    }
}

/// <summary>
/// A recipe's grid as Kubernetes Jobs: stage 1, an Indexed Job over the stage-2 cells (<c>completionMode: Indexed</c>,
/// <c>JOB_COMPLETION_INDEX</c> → the cell index, the run folder on a shared volume, one GPU per pod as a resource
/// limit), and the report. Kubernetes has no dependencies between Jobs: apply them in that order, each after the last
/// completed (<c>kubectl wait --for=condition=complete</c>).
/// </summary>
public static class KubernetesJobs
{
    /// <summary>The three manifests (YAML, written by YamlDotNet's emitter), in the order to apply them.</summary>
    /// <exception cref="ArgumentException">
    /// The recipe or run folder is not under the volume's mount path, or a value is not what its option takes (a DNS-1123
    /// name, an image reference, a positive count); the message names the option.
    /// </exception>
    public static (string Pretrain, string Tune, string Report) Manifests(ClusterRun run, KubernetesOptions options)
    {
        options.Validate();
        run.Validate();
        foreach (var (what, path) in new[] { ("recipe", run.RecipePath), ("run folder", run.Output) })
            if (!path.StartsWith(options.MountPath.TrimEnd('/') + "/", StringComparison.Ordinal))
                throw new ArgumentException($"The {what} '{path}' is not under the shared volume's mount path '{options.MountPath}': pods would not see it. " +
                                            "Put it on the shared volume, or set --mount-path.");
        string name = Dns(run.Name);
        return (
            Job($"{name}-pretrain", options, "exec " + run.Command("pretrain"), indexed: null),
            // A pod replacing a failed one for the same index (only once the old one is gone) takes its claim over at once.
            Job($"{name}-tune", options, $"export PVP_CLAIM_KEY=\"{name}-tune-$JOB_COMPLETION_INDEX\"; exec " +
                                          run.Command("tune", "--index", "\"$JOB_COMPLETION_INDEX\""), indexed: run.CellCount),
            Job($"{name}-report", options with { GpusPerPod = 0 }, "exec " + run.Command("report"), indexed: null));
    }

    private static string Job(string name, KubernetesOptions o, string command, int? indexed)
    {
        var metadata = Map(("name", Text(name)));
        if (o.Namespace is { } ns) metadata.Add("namespace", Text(ns));
        metadata.Add("labels", Map(("app.kubernetes.io/name", Text("pvp"))));
        var spec = new YamlMappingNode();
        if (indexed is { } completions)
        {
            spec.Add("completionMode", Text("Indexed"));
            spec.Add("completions", Number(completions));
            spec.Add("parallelism", Number(o.Parallelism ?? completions));
            spec.Add("backoffLimitPerIndex", Number(o.BackoffLimitPerIndex));
            spec.Add("backoffLimit", Number(Math.Max(6, completions * o.BackoffLimitPerIndex)));
            spec.Add("podReplacementPolicy", Text("Failed")); // a replacement pod starts only after the old one has fully terminated
        }
        else
        {
            spec.Add("backoffLimit", Number(o.BackoffLimitPerIndex));
        }
        int cpus = o.CpusPerPod ?? 4;
        var limits = Map(("cpu", Text(cpus.ToString(CultureInfo.InvariantCulture))));
        if (o.GpusPerPod > 0) limits.Add("nvidia.com/gpu", Number(o.GpusPerPod));
        var container = Map(
            ("name", Text("pvp")),
            ("image", Text(o.Image)),
            ("command", new YamlSequenceNode(Text("/bin/sh"), Text("-c"))),
            ("args", new YamlSequenceNode(Text(command))),
            // Torch's threads match the pod's CPUs: more threads than cores make OpenMP spin-wait on one another.
            ("env", new YamlSequenceNode(Map(("name", Text("OMP_NUM_THREADS")), ("value", Text(cpus.ToString(CultureInfo.InvariantCulture)))))),
            ("resources", Map(("requests", Map(("cpu", Text(cpus.ToString(CultureInfo.InvariantCulture))))), ("limits", limits))),
            ("volumeMounts", new YamlSequenceNode(Map(("name", Text("runs")), ("mountPath", Text(o.MountPath))))));
        var pod = Map(
            ("restartPolicy", Text("Never")),
            ("terminationGracePeriodSeconds", Number(120)), // SIGTERM first: pvp checkpoints within the grace period
            ("containers", new YamlSequenceNode(container)),
            ("volumes", new YamlSequenceNode(Map(("name", Text("runs")), ("persistentVolumeClaim", Map(("claimName", Text(o.VolumeClaim))))))));
        spec.Add("template", Map(("spec", pod)));
        var job = Map(("apiVersion", Text("batch/v1")), ("kind", Text("Job")), ("metadata", metadata), ("spec", spec));
        var writer = new StringWriter { NewLine = "\n" };
        // No folding: a long command stays one line, as a reader (and grep) expects.
        new YamlStream(new YamlDocument(job)).Save(new Emitter(writer, new EmitterSettings().WithBestWidth(int.MaxValue)), assignAnchors: false);
        // YamlStream ends each document with "...": one manifest per file needs no end marker.
        string yaml = writer.ToString();
        return yaml.EndsWith("...\n", StringComparison.Ordinal) ? yaml[..^4] : yaml;
    }

    private static YamlMappingNode Map(params (string Key, YamlNode Value)[] entries)
    {
        var map = new YamlMappingNode();
        foreach (var (key, value) in entries) map.Add(key, value);
        return map;
    }

    /// <summary>A string: double-quoted, so that no value reads as a number, a boolean or YAML syntax.</summary>
    private static YamlScalarNode Text(string value) => new(value) { Style = ScalarStyle.DoubleQuoted };

    private static YamlScalarNode Number(int value) => new(value.ToString(CultureInfo.InvariantCulture));

    /// <summary>The prefix of the run's Job names (<c>PREFIX-pretrain</c>, <c>-tune</c>, <c>-report</c>).</summary>
    public static string JobPrefix(ClusterRun run) => Dns(run.Name);

    /// <summary>A DNS-1123 name (what Job names must be): lower case, digits and '-'.</summary>
    private static string Dns(string name)
    {
        string lower = new string(name.ToLowerInvariant().Select(c => char.IsAsciiLetterOrDigit(c) ? c : '-').ToArray()).Trim('-');
        return (lower.Length == 0 ? "pvp" : lower.Length > 40 ? lower[..40].TrimEnd('-') : lower);
    }
}
