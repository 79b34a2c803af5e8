using System.Diagnostics;
using Pvp.Recipes.Cluster;
using Pvp.Recipes;
using YamlDotNet.RepresentationModel;

namespace Pvp.Tests.Cluster;

/// <summary>
/// Hostile values through every option and every path that reaches a Slurm script or a Kubernetes manifest: each is
/// refused with a message naming the option, or proven inert by running what was generated (the scripts under bash, the
/// pod's command under sh) with a stand-in pvp that records the words it was given, and by parsing the manifests back.
/// With PVP_REAL_SLURM=1 (set by .ci/slurm-check once its local Slurm runs) every script also passes the real
/// <c>sbatch --test-only</c>.
/// </summary>
public sealed class HostileSchedulerValuesTests : IDisposable
{
    private readonly string folder = Directory.CreateTempSubdirectory("pvp-hostile-sched-").FullName;

    static HostileSchedulerValuesTests() => VariantRegistry.Load(typeof(Pvp.Models.VptDeepMicro).Assembly);

    public void Dispose() => Directory.Delete(folder, recursive: true);

    /// <summary>Values that would run a command, add a line or a key, or split a word, were they written as given.</summary>
    public static readonly string[] Hostile =
    {
        "a\ntouch INJECTED", "a\r\ntouch INJECTED", "$(touch INJECTED)", "`touch INJECTED`", "x'; touch INJECTED; '", "x\"; touch INJECTED; \"",
        "with space", "a; touch INJECTED", "a && touch INJECTED", "ünïcødé ☃", "a: b", "{a: b}", "-x", "a\\b", "#comment", "a\tb", "a\u0000b",
    };

    public static IEnumerable<object[]> SlurmStringOptions() =>
        from option in new[] { "--partition", "--account", "--time", "--mem" }
        from value in Hostile
        select new object[] { option, value };

    [Theory]
    [MemberData(nameof(SlurmStringOptions))]
    public void HostileSlurmValuesAreRefusedNamingTheOption(string option, string value)
    {
        var options = option switch
        {
            "--partition" => new SlurmOptions { Partition = value },
            "--account" => new SlurmOptions { Account = value },
            "--time" => new SlurmOptions { Time = value },
            _ => new SlurmOptions { Memory = value },
        };
        var error = Assert.Throws<ArgumentException>(() => SlurmJobs.Scripts(Run("/tmp/r.yaml", "/tmp/out"), options));
        Assert.StartsWith(option + " ", error.Message);
        Assert.DoesNotContain("\n", error.Message); // one line: the value's control characters shown as escapes
    }

    [Theory]
    [InlineData("--gpus-per-task", -1)]
    [InlineData("--cpus-per-task", 0)]
    [InlineData("--cpus-per-task", -3)]
    [InlineData("--max-concurrent", -1)]
    [InlineData("--max-concurrent", 0)]
    public void CountsBelowTheirLeastAreRefused(string option, int value)
    {
        var options = option switch
        {
            "--gpus-per-task" => new SlurmOptions { GpusPerTask = value },
            "--cpus-per-task" => new SlurmOptions { CpusPerTask = value },
            _ => new SlurmOptions { MaxConcurrent = value },
        };
        Assert.StartsWith($"{option} {value}:", Assert.Throws<ArgumentException>(() => SlurmJobs.Scripts(Run("/tmp/r.yaml", "/tmp/out"), options)).Message);
        Assert.Throws<ArgumentException>(() => KubernetesJobs.Manifests(Run("/runs/r.yaml", "/runs/out"), option switch
        {
            "--gpus-per-task" => new KubernetesOptions { GpusPerPod = value },
            "--cpus-per-task" => new KubernetesOptions { CpusPerPod = value },
            _ => new KubernetesOptions { Parallelism = value },
        }));
    }

    [Theory]
    [InlineData("30")]
    [InlineData("04:00:00")]
    [InlineData("2-12")]
    [InlineData("2-12:30:00")]
    [InlineData("UNLIMITED")]
    public void SlurmTimeFormsAreAccepted(string time) =>
        Assert.Contains($"#SBATCH --time={time}\n", SlurmJobs.Scripts(Run("/tmp/r.yaml", "/tmp/out"), new SlurmOptions { Time = time }).Tune);

    [Fact]
    public void AnExtraLineWithANewlineIsRefused()
    {
        var error = Assert.Throws<ArgumentException>(() => SlurmJobs.Scripts(Run("/tmp/r.yaml", "/tmp/out"),
            new SlurmOptions { ExtraLines = new[] { "#SBATCH --qos=high\ntouch INJECTED" } }));
        Assert.StartsWith("--sbatch-line", error.Message);
        Assert.Throws<ArgumentException>(() => SlurmJobs.Scripts(Run("/tmp/r.yaml", "/tmp/out"), new SlurmOptions { ExtraLines = new[] { "touch INJECTED" } }));
    }

    [Theory]
    [InlineData("pvp\ntouch INJECTED")]
    [InlineData("pvp; touch INJECTED")]
    [InlineData("pvp $(touch INJECTED)")]
    [InlineData("pvp `touch INJECTED`")]
    [InlineData("pvp > /tmp/x")]
    [InlineData(" ")]
    public void APvpCommandThatChainsCommandsIsRefused(string command)
    {
        var run = Run("/tmp/r.yaml", "/tmp/out") with { PvpCommand = command };
        Assert.StartsWith("--pvp-command", Assert.Throws<ArgumentException>(() => SlurmJobs.Scripts(run, new SlurmOptions())).Message);
    }

    public static IEnumerable<object[]> HostilePaths() => Hostile.Select(value => new object[] { value });

    /// <summary>
    /// A recipe path, run folder (the recipe's <c>output:</c>) and an argument holding the hostile text: refused when it
    /// has a control character; otherwise each script, run under bash, hands the recording pvp exactly the words it should
    /// and creates nothing else.
    /// </summary>
    [Theory]
    [MemberData(nameof(HostilePaths))]
    public void HostilePathsInSlurmScriptsAreRefusedOrInert(string hostile)
    {
        string root = Path.Combine(folder, "slurm");
        string recipe = Path.Combine(root, $"recipe {hostile}.yaml"), output = Path.Combine(root, $"out {hostile}");
        var run = Run(recipe, output, extra: new[] { "--assembly", Path.Combine(root, hostile, "My.dll") }) with { PvpCommand = Recorder() };
        if (hostile.Any(char.IsControl))
        {
            var error = Assert.Throws<ArgumentException>(() => SlurmJobs.Scripts(run, new SlurmOptions()));
            Assert.Contains("control character", error.Message);
            Assert.DoesNotContain("\n", error.Message);
            return;
        }
        var scripts = SlurmJobs.Scripts(run, new SlurmOptions { Time = "01:00:00" });
        foreach (var (job, script, tail) in new[]
                 {
                     ("pretrain", scripts.Pretrain, Array.Empty<string>()),
                     ("tune", scripts.Tune, new[] { "--index", "3" }),
                     ("report", scripts.Report, Array.Empty<string>()),
                 })
        {
            // A directive's value never splits: sbatch reads one --output, quoted where it needs to be.
            string directive = script.Split('\n').Single(l => l.StartsWith("#SBATCH --output=", StringComparison.Ordinal));
            Assert.DoesNotContain("INJECTED", string.Join('\n', script.Split('\n').Where(l => !l.StartsWith("#SBATCH --output=", StringComparison.Ordinal) && !l.StartsWith("exec ", StringComparison.Ordinal))));
            Assert.True(directive == $"#SBATCH --output={output}/slurm/logs/{job}-%j.out" || directive.StartsWith("#SBATCH --output=\"", StringComparison.Ordinal), directive);
            var words = RunScript("bash", script, ("SLURM_ARRAY_TASK_ID", "3"), ("SLURM_JOB_ID", "7"));
            Assert.Equal(new[] { job, recipe, "--output", output, "--assembly", Path.Combine(root, hostile, "My.dll") }.Concat(tail), words);
            if (Environment.GetEnvironmentVariable("PVP_REAL_SLURM") == "1") SbatchTestOnly(script);
        }
    }

    public static IEnumerable<object[]> KubernetesStringOptions() =>
        from option in new[] { "--namespace", "--volume-claim", "--image", "--mount-path" }
        from value in Hostile.Concat(new[] { "UPPER", "ends-", "a.b" })
        where !(option == "--volume-claim" && value == "a.b") // a valid DNS-1123 subdomain
        where !(option == "--image" && value is "UPPER" or "ends-" or "a.b") // valid image references
        select new object[] { option, value };

    [Theory]
    [MemberData(nameof(KubernetesStringOptions))]
    public void HostileKubernetesValuesAreRefusedNamingTheOption(string option, string value)
    {
        var options = option switch
        {
            "--namespace" => new KubernetesOptions { Namespace = value },
            "--volume-claim" => new KubernetesOptions { VolumeClaim = value },
            "--image" => new KubernetesOptions { Image = value },
            _ => new KubernetesOptions { MountPath = value },
        };
        if (option == "--mount-path" && value.StartsWith('/')) return; // none of the table is absolute
        var error = Assert.Throws<ArgumentException>(() => KubernetesJobs.Manifests(Run("/runs/r.yaml", "/runs/out"), options));
        Assert.StartsWith(option, error.Message);
        Assert.DoesNotContain("\n", error.Message);
    }

    /// <summary>Hostile paths in the manifests: refused when they hold a control character; otherwise the manifests parse back
    /// with exactly the expected keys, and the pod's command, run under sh, hands pvp exactly its words.</summary>
    [Theory]
    [MemberData(nameof(HostilePaths))]
    public void HostilePathsInKubernetesManifestsAreRefusedOrInert(string hostile)
    {
        string recipe = $"/runs/recipe {hostile}.yaml", output = $"/runs/out {hostile}";
        var run = Run(recipe, output, extra: Array.Empty<string>()) with { PvpCommand = Recorder() };
        var options = new KubernetesOptions { Namespace = "ml", Image = "registry.example/pvp:0.1" };
        if (hostile.Any(char.IsControl))
        {
            Assert.Contains("control character", Assert.Throws<ArgumentException>(() => KubernetesJobs.Manifests(run, options)).Message);
            return;
        }
        var (pretrain, tune, report) = KubernetesJobs.Manifests(run, options);
        foreach (var (job, manifest, tail) in new[]
                 {
                     ("pretrain", pretrain, Array.Empty<string>()), ("tune", tune, new[] { "--index", "2" }), ("report", report, Array.Empty<string>()),
                 })
        {
            var stream = new YamlStream();
            stream.Load(new StringReader(manifest));
            Assert.Single(stream.Documents);
            var root = (YamlMappingNode)stream.Documents[0].RootNode;
            Assert.Equal(new[] { "apiVersion", "kind", "metadata", "spec" }, root.Children.Keys.Select(k => ((YamlScalarNode)k).Value));
            var metadata = (YamlMappingNode)root["metadata"];
            Assert.Equal(new[] { "name", "namespace", "labels" }, metadata.Children.Keys.Select(k => ((YamlScalarNode)k).Value));
            var container = (YamlMappingNode)((YamlSequenceNode)((YamlMappingNode)((YamlMappingNode)((YamlMappingNode)root["spec"])["template"])["spec"])["containers"])[0];
            string command = ((YamlScalarNode)((YamlSequenceNode)container["args"])[0]).Value!;
            var words = RunScript("sh", command, ("JOB_COMPLETION_INDEX", "2"));
            Assert.Equal(new[] { job, recipe, "--output", output }.Concat(tail), words);
        }
        Assert.False(File.Exists(Path.Combine(folder, "INJECTED")));
    }

    [Fact]
    public void TheTuneJobsCommandKeepsARecipePathWithSemicolons()
    {
        // The pod's command once gained an `exec` after every "; ": a path holding "; " broke.
        var run = Run("/runs/a; b.yaml", "/runs/out; x") with { PvpCommand = Recorder() };
        string command = ((YamlScalarNode)((YamlSequenceNode)Container(KubernetesJobs.Manifests(run, new KubernetesOptions()).Tune)["args"])[0]).Value!;
        Assert.Equal(new[] { "tune", "/runs/a; b.yaml", "--output", "/runs/out; x", "--index", "5" }, RunScript("sh", command, ("JOB_COMPLETION_INDEX", "5")));
        Assert.Contains("export PVP_CLAIM_KEY=", command);
    }

    private static YamlMappingNode Container(string manifest)
    {
        var stream = new YamlStream();
        stream.Load(new StringReader(manifest));
        var spec = (YamlMappingNode)((YamlMappingNode)((YamlMappingNode)((YamlMappingNode)stream.Documents[0].RootNode)["spec"])["template"])["spec"];
        return (YamlMappingNode)((YamlSequenceNode)spec["containers"])[0];
    }

    private ClusterRun Run(string recipe, string output, string[]? extra = null) =>
        new("pvp", recipe, output, extra ?? Array.Empty<string>(), CellCount: 4, Name: "hostile");

    /// <summary>A stand-in pvp: writes each word it was given, NUL-terminated, to <c>words</c> beside it.</summary>
    private string Recorder()
    {
        string path = Path.Combine(folder, "record-pvp");
        if (!File.Exists(path))
        {
            File.WriteAllText(path, "#!/bin/sh\nfor w in \"$@\"; do printf '%s\\0' \"$w\"; done > \"$(dirname \"$0\")/words\"\n");
            if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
        return path;
    }

    /// <summary>Runs <paramref name="script"/> with <paramref name="shell"/> in the test folder; returns the recorder's words.</summary>
    private string[] RunScript(string shell, string script, params (string Name, string Value)[] environment)
    {
        string words = Path.Combine(folder, "words");
        File.Delete(words);
        var start = new ProcessStartInfo(shell) { WorkingDirectory = folder, RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add(script);
        foreach (var (name, value) in environment) start.Environment[name] = value;
        using var process = Process.Start(start)!;
        process.StandardInput.Close();
        string stderr = process.StandardError.ReadToEnd();
        process.WaitForExit();
        Assert.True(process.ExitCode == 0, $"{shell} exited {process.ExitCode}: {stderr}");
        Assert.False(File.Exists(Path.Combine(folder, "INJECTED")), "an injected command ran");
        return File.ReadAllText(words).Split('\0')[..^1];
    }

    /// <summary>The real sbatch parses the script's directives and would queue it (<c>--test-only</c> submits nothing).</summary>
    private void SbatchTestOnly(string script)
    {
        string file = Path.Combine(folder, "job.sbatch");
        File.WriteAllText(file, script);
        var start = new ProcessStartInfo("sbatch") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (string a in new[] { "--test-only", "--partition", Environment.GetEnvironmentVariable("PVP_SLURM_PARTITION") ?? "local", file })
            start.ArgumentList.Add(a);
        using var process = Process.Start(start)!;
        string output = process.StandardOutput.ReadToEnd() + process.StandardError.ReadToEnd();
        process.WaitForExit();
        Assert.True(process.ExitCode == 0 && output.Contains("to start at", StringComparison.Ordinal), $"sbatch --test-only refused the script: {output}\n{script}");
    }
}
