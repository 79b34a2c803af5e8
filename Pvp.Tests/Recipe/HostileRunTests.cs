using System.Diagnostics;
using System.Text.Json;
using Pvp.Recipes;
using Pvp.Training;

namespace Pvp.Tests.Recipe;

/// <summary>
/// Nothing wrong is reported as a result: a run folder of another recipe, two pvp processes on one folder, SIGTERM,
/// a full disk and an impossible output folder, damaged checkpoints and results, and data problems found before training.
/// The cases with processes run the real pvp command.
/// </summary>
public sealed class HostileRunTests : IDisposable
{
    private readonly string folder = Directory.CreateTempSubdirectory("pvp-hostile-run-").FullName;

    static HostileRunTests() => VariantRegistry.Load(typeof(Pvp.Models.VptDeepMicro).Assembly);

    public void Dispose()
    {
        foreach (string mount in Directory.GetDirectories(folder, "tmpfs*")) Unmount(mount);
        Directory.Delete(folder, recursive: true);
    }

    private static string Recipe(string variant = "VptDeepMicro", int stage2Epochs = 2, string output = "run", string extra = "", string shots = "[1, 2]", string seeds = "[0]") => $"""
        variant: {variant}
        output: {output}
        workers: 1
        backbone: {"{"} pretrain: {"{"} epochs: 1, batch: 16 {"}"} {"}"}
        source:
          builtin: {"{"} classes: 4, train_per_class: 6, test_per_class: 2 {"}"}
        stage1: {"{"} epochs: 1, lr: 0.01, batch: 16 {"}"}
        stage2:
          tasks:
            - name: shapes
              builtin: {"{"} classes: 3, train_per_class: 4, test_per_class: 3 {"}"}
          shots: {shots}
          seeds: {seeds}
          epochs: {stage2Epochs}
        {extra}
        """;

    private string WriteRecipe(string yaml, string name = "recipe.yaml")
    {
        string path = Path.Combine(folder, name);
        File.WriteAllText(path, yaml);
        return path;
    }

    private static string PvpDll()
    {
        string? dll = Directory.GetFiles(Numerics.TestTensors.RepoPath("Pvp.Cli/bin"), "pvp.dll", SearchOption.AllDirectories)
            .OrderByDescending(File.GetLastWriteTimeUtc).FirstOrDefault();
        return dll ?? throw new InvalidOperationException("Pvp.Cli has no pvp.dll: build the solution first.");
    }

    private static Process StartPvp(string arguments)
    {
        var start = new ProcessStartInfo("dotnet", $"\"{PvpDll()}\" {arguments}")
        {
            RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
        };
        start.Environment["COLUMNS"] = "400"; // one console line per message, for the assertions
        return Process.Start(start)!;
    }

    private static (int Code, string Output) RunPvp(string arguments, int timeoutMs = 180_000)
    {
        using var process = StartPvp(arguments);
        var error = process.StandardError.ReadToEndAsync();
        string output = process.StandardOutput.ReadToEnd();
        Assert.True(process.WaitForExit(timeoutMs), $"pvp {arguments} did not finish");
        return (process.ExitCode, output + error.Result);
    }

    [Fact]
    public void AChangedRecipeNeverReportsTheOldResults()
    {
        string run = Path.Combine(folder, "run");
        new PvpRunner(RecipeParser.Parse(Recipe(), Path.Combine(folder, "recipe.yaml")), new Quiet()).Run();

        // The case that went wrong silently: another variant and other stage-2 epochs, the same output folder.
        var changed = RecipeParser.Parse(Recipe(variant: "LoraMicro", stage2Epochs: 3), Path.Combine(folder, "recipe.yaml"));
        var error = Assert.Throws<StaleRunException>(() => new PvpRunner(changed, new Quiet()).Run());
        Assert.Contains("variant: was VptDeepMicro, now LoraMicro", error.Message);
        Assert.Contains("--force", error.Message);
        // Report alone refuses too: it would otherwise title LoraMicro's table with VptDeepMicro's numbers.
        var report = Assert.Throws<StaleRunException>(() => new PvpRunner(changed, new Quiet()).Report());
        Assert.Contains("Stage 2 starts from stage 1", report.Message);
        Assert.Contains("variant: was VptDeepMicro, now LoraMicro", report.Message);

        // Only stage 1's settings changed, and only tune runs: new cells must not start from the old stage 1.
        var stageOneOnly = RecipeParser.Parse(Recipe().Replace("stage1: { epochs: 1, lr: 0.01", "stage1: { epochs: 1, lr: 0.02"), Path.Combine(folder, "recipe.yaml"));
        var tune = Assert.Throws<StaleRunException>(() => new PvpRunner(stageOneOnly, new Quiet()).Tune());
        Assert.Contains("stage1.lr: was 0.01, now 0.02", tune.Message);
        Assert.Contains("pretrain --force", tune.Message);

        // What does not change results does not invalidate them: loader threads, checkpoint frequency.
        var harmless = RecipeParser.Parse(Recipe().Replace("workers: 1", "workers: 2").Replace("epochs: 2\n", "epochs: 2\n  checkpoint_every_steps: 7\n"), Path.Combine(folder, "recipe.yaml"));
        Assert.Equal(4, new PvpRunner(harmless, new Quiet()).Report().Results.Count);

        // --force redoes what changed and keeps the old work beside it.
        var quiet = new Quiet();
        var redone = new PvpRunner(changed, quiet) { Force = true }.Run();
        Assert.Equal(4, redone.Results.Count);
        Assert.Contains(quiet.Lines, l => l.StartsWith("--force: stage 1 changed", StringComparison.Ordinal));
        Assert.NotEmpty(Directory.GetDirectories(Path.Combine(run, "stage2", "shapes"), "1shot-seed0-pvp.replaced-*"));
        Assert.All(Directory.GetFiles(Path.Combine(run, "stage2"), "result.json", SearchOption.AllDirectories)
                .Where(f => !f.Contains(".replaced-", StringComparison.Ordinal)),
            f => Assert.Contains("\"variant\": \"LoraMicro\"", File.ReadAllText(Path.Combine(Path.GetDirectoryName(f)!, Fingerprint.FileName))));
        Assert.Equal(4, new PvpRunner(changed, new Quiet()).Report().Results.Count);
    }

    [Fact]
    public void AFailedCellLeavesAnErrorFileThatStatusAndReportShow()
    {
        var recipe = RecipeParser.Parse(Recipe(), Path.Combine(folder, "recipe.yaml"));
        new PvpRunner(recipe, new Quiet()).Pretrain();
        Assert.All(RunStatus.Cells(new PvpRunner(recipe)), c => Assert.Equal(CellState.Missing, c.State));

        // Random-init cells need only the backbone; PVP cells also load stage 1's modules, which are now damaged.
        string modules = Path.Combine(folder, "run", "stage1", "petuning.safetensors");
        var damaged = Pvp.Weights.SafeTensors.Load(modules).ToDictionary(p => p.Key, p => p.Key == "prompt_embeddings" ? TorchSharp.torch.zeros(1, 1, 1) : p.Value);
        Pvp.Weights.SafeTensors.Save(modules, damaged);
        var runner = new PvpRunner(recipe, new Quiet()) { Force = true };
        Assert.ThrowsAny<Exception>(() => runner.RunCell(GridCell.Parse("shapes/1shot-seed0-pvp")));
        runner.RunCell(GridCell.Parse("shapes/1shot-seed0-random"));

        string error = Path.Combine(folder, "run", "stage2", "shapes", "1shot-seed0-pvp", PvpRunner.CellErrorFile);
        Assert.True(File.Exists(error));
        Assert.Contains("prompt_embeddings", File.ReadAllText(error));
        var status = RunStatus.Cells(new PvpRunner(recipe)).ToDictionary(c => c.Cell.Id);
        Assert.Equal(CellState.Failed, status["shapes/1shot-seed0-pvp"].State);
        Assert.Contains("prompt_embeddings", status["shapes/1shot-seed0-pvp"].Detail);
        Assert.Equal(CellState.Done, status["shapes/1shot-seed0-random"].State);
        Assert.Equal(CellState.Missing, status["shapes/2shot-seed0-pvp"].State);
        var report = new PvpRunner(recipe, new Quiet()).Report();
        Assert.Single(report.Results);
        Assert.Contains(report.Unfinished, u => u.StartsWith("shapes/1shot-seed0-pvp failed:", StringComparison.Ordinal));
        Assert.Contains("**Not finished: 3 of 4 cells**", File.ReadAllText(Path.Combine(folder, "run", "results.md")));
    }

    [Fact]
    public void TwoTuneProcessesOnOneFolderRunEachCellOnce()
    {
        string recipe = WriteRecipe(Recipe(stage2Epochs: 6, shots: "[1, 2, 3]", seeds: "[0, 1]"));
        new PvpRunner(RecipeParser.Load(recipe), new Quiet()).Pretrain();

        using var a = StartPvp($"tune \"{recipe}\"");
        using var b = StartPvp($"tune \"{recipe}\"");
        var outputs = new[] { a, b }.Select(p => (p.StandardOutput.ReadToEndAsync(), p.StandardError.ReadToEndAsync())).ToList();
        Assert.True(a.WaitForExit(300_000) && b.WaitForExit(300_000));
        string both = string.Join("\n", outputs.Select(o => o.Item1.Result + o.Item2.Result));
        Assert.True(a.ExitCode == 0 && b.ExitCode == 0, $"exit codes {a.ExitCode}, {b.ExitCode}:\n{both}");

        var cells = Directory.GetDirectories(Path.Combine(folder, "run", "stage2", "shapes"));
        Assert.Equal(12, cells.Length);
        foreach (string cell in cells)
        {
            Assert.True(File.Exists(Path.Combine(cell, "result.json")), $"{cell} has no result:\n{both}");
            Assert.False(File.Exists(Path.Combine(cell, CellClaim.FileName)), $"{cell} kept its claim");
            var lines = File.ReadAllLines(Path.Combine(cell, "metrics.jsonl"));
            var events = lines.Select(l => JsonDocument.Parse(l).RootElement.GetProperty("event").GetString()).ToList(); // every line whole JSON
            Assert.Equal(1, events.Count(e => e == "start")); // trained once, by one process
        }
    }

    [Fact]
    public void SigtermSavesACheckpointAndTheSameCommandContinues()
    {
        // A backbone pre-training of some seconds, with a checkpoint every 5 steps besides the one the signal writes.
        string recipe = WriteRecipe(Recipe(extra: "", stage2Epochs: 2).Replace("pretrain: { epochs: 1, batch: 16 }", "pretrain: { epochs: 400, batch: 4, checkpoint_every_steps: 5 }"));
        using (var first = StartPvp($"run \"{recipe}\""))
        {
            string? line;
            var seen = new List<string>();
            while ((line = first.StandardOutput.ReadLine()) is not null)
            {
                seen.Add(line);
                if (line.Contains("Backbone: no weights given", StringComparison.Ordinal))
                {
                    Thread.Sleep(1500);
                    using var kill = Process.Start("/bin/sh", $"-c \"kill -TERM {first.Id}\"")!;
                    kill.WaitForExit();
                    break;
                }
            }
            seen.Add(first.StandardOutput.ReadToEnd());
            Assert.True(first.WaitForExit(60_000));
            string said = string.Join("\n", seen) + first.StandardError.ReadToEnd();
            Assert.True(first.ExitCode == 143, $"exit code {first.ExitCode}:\n{said}");
            Assert.Contains("SIGTERM: stopping after the current step", said);
            Assert.Contains("Run the same command again to continue", said);
        }
        Assert.True(File.Exists(Path.Combine(folder, "run", "backbone", "checkpoints", "latest.json")));

        var (code, output) = RunPvp($"run \"{recipe}\"");
        Assert.True(code == 0, $"exit code {code}:\n{output}");
        Assert.Contains("resumed from the checkpoint at step", output);
        Assert.True(File.Exists(Path.Combine(folder, "run", "results.md")));
    }

    [Fact]
    public void AnImpossibleOutputExitsOneWithOneLine()
    {
        // An output folder that cannot exist.
        var (code, output) = RunPvp($"pretrain \"{WriteRecipe(Recipe(output: "/proc/pvp-cannot-write-here"), "impossible.yaml")}\"");
        Assert.True(code == 1, $"exit code {code}:\n{output}");
        Assert.Contains("error:", output);
        Assert.Contains("/proc/pvp-cannot-write-here", output);
        Assert.DoesNotContain("   at ", output); // no stack trace
    }

    /// <summary>A fact that is skipped, with the reason shown, where this process cannot mount a tmpfs (not root, say).</summary>
    private sealed class TmpfsFactAttribute : FactAttribute
    {
        public TmpfsFactAttribute()
        {
            string probe = Directory.CreateTempSubdirectory("pvp-tmpfs-probe-").FullName;
            try
            {
                if (Mount(probe, "64k")) Unmount(probe);
                else Skip = "this process cannot mount a tmpfs (it needs root, or CAP_SYS_ADMIN), so a full disk cannot be made here";
            }
            finally
            {
                Directory.Delete(probe);
            }
        }
    }

    [TmpfsFact]
    public void AFullDiskExitsOneWithOneLineAndNoPartialFile()
    {
        // A disk that fills up while checkpoints are written: a 1 MiB tmpfs.
        string small = Path.Combine(folder, "tmpfs-full");
        Directory.CreateDirectory(small);
        Assert.True(Mount(small, "1m"), "the tmpfs mounted for the probe but not now");
        var (code, output) = RunPvp($"pretrain \"{WriteRecipe(Recipe(output: small), "full.yaml")}\"");
        Assert.True(code == 1, $"exit code {code}:\n{output}");
        Assert.Contains(small, output);
        Assert.True(output.Contains("disk is full", StringComparison.Ordinal) || output.Contains("No space left", StringComparison.Ordinal), output);
        Assert.DoesNotContain("   at ", output);
        Assert.Empty(Directory.GetFiles(small, "*.tmp", SearchOption.AllDirectories));
    }

    private static bool Mount(string path, string size)
    {
        using var mount = Process.Start(new ProcessStartInfo("mount", $"-t tmpfs -o size={size} tmpfs \"{path}\"") { RedirectStandardError = true, UseShellExecute = false })!;
        mount.WaitForExit();
        return mount.ExitCode == 0;
    }

    private static void Unmount(string path)
    {
        using var umount = Process.Start(new ProcessStartInfo("umount", $"\"{path}\"") { RedirectStandardError = true, UseShellExecute = false })!;
        umount.WaitForExit();
    }

    [Fact]
    public void SubmitForceReachesTheNodesAndLibtorchErrorsAreOneLine()
    {
        string recipe = WriteRecipe(Recipe());
        var (code, output) = RunPvp($"submit slurm \"{recipe}\" --dry-run --force --pvp-command pvp");
        Assert.True(code == 0, $"exit code {code}:\n{output}");
        var execs = output.Split('\n').Where(l => l.StartsWith("exec pvp ", StringComparison.Ordinal)).ToList();
        Assert.Equal(3, execs.Count);
        Assert.All(execs, l => Assert.Contains(" --force", l)); // the nodes redo what the submitting command was told to

        // Mistakes on the command line are said in our words, with the closest name.
        foreach (var (arguments, said) in new[]
                 {
                     ("rn", "Unknown command 'rn'. Did you mean run?"),
                     ($"run \"{recipe}\" --outptu x", "Unknown option '--outptu'. Did you mean --output?"),
                     ($"tune \"{recipe}\" --shots abc", "--shots 'abc': expected a whole number."),
                     ($"tune \"{recipe}\" --init rand", "--init: expected pvp or random, got 'rand'."),
                     ($"eval \"{recipe}\"", "Give the cell with --cell"),
                 })
        {
            (code, output) = RunPvp(arguments);
            Assert.True(code != 0, $"pvp {arguments} exited 0:\n{output}");
            Assert.Contains(said, output);
            Assert.DoesNotContain("Nullable`1", output);
        }

        (code, output) = RunPvp("inspect VptDeepMicro --classes 2000000000");
        Assert.True(code == 1, $"exit code {code}:\n{output}");
        Assert.Contains("--classes 2000000000: expected 0 (no head) to 1,000,000 classes", output);
        Assert.DoesNotContain("frame #", output);
    }

    [Fact]
    public void ARecipeThatIsNoRegularFileIsRefusedBeforeAnyRead()
    {
        // A FIFO would block the read (no signal reached pvp there), /dev/zero would fill memory: both refused at once.
        string fifo = Path.Combine(folder, "recipe.fifo");
        using (var make = Process.Start("mkfifo", $"\"{fifo}\"")) make.WaitForExit();
        foreach (string path in new[] { fifo, "/dev/zero" })
        {
            var (code, output) = RunPvp($"run \"{path}\"", timeoutMs: 60_000);
            Assert.True(code == 2, $"exit code {code}:\n{output}");
            Assert.Contains($"'{path}' is empty, or not a regular file", output);
        }
        // Larger than the limit: refused by its length, before it is read.
        string big = Path.Combine(folder, "big.yaml");
        using (var stream = File.Create(big)) stream.SetLength(RecipeParser.MaxBytes + 1);
        Assert.Contains("a recipe is at most", Assert.Throws<RecipeException>(() => RecipeParser.Load(big)).Message);
    }

    [Fact]
    public void ADamagedStageTwoImageIsFoundBeforeStageOneTrains()
    {
        // An ImageFolder task of real PNG files, one of its test images damaged after it was written.
        var shapes = Pvp.Training.Data.SyntheticShapes.Target(Pvp.Training.Data.SyntheticSplit.Train, 4, classCount: 3, imageSize: 32);
        foreach (string split in new[] { "train", "test" })
            for (int i = 0; i < shapes.Count; i++)
            {
                string path = Path.Combine(folder, "images", split, shapes.Classes[shapes.LabelOf(i)], $"{i}.png");
                Directory.CreateDirectory(Path.GetDirectoryName(path)!);
                using var bitmap = shapes.Read(i);
                Pvp.Training.Data.ImageCodec.Save(bitmap, path);
            }
        string damaged = Path.Combine(folder, "images", "test", shapes.Classes[0], "0.png");
        File.WriteAllBytes(damaged, File.ReadAllBytes(damaged)[..12]);
        string yaml = Recipe().Replace("builtin: { classes: 3, train_per_class: 4, test_per_class: 3 }", "imagefolder: { train: images/train, test: images/test }");
        var error = Assert.Throws<Pvp.Training.Data.DatasetException>(() => new PvpRunner(RecipeParser.Parse(yaml, Path.Combine(folder, "recipe.yaml")), new Quiet()).Pretrain());
        Assert.Contains("stage2 task 'shapes'", error.Message);
        Assert.Contains(damaged, error.Message);
        Assert.False(Directory.Exists(Path.Combine(folder, "run", "backbone")), "nothing may train before the stage-2 images are checked");
    }

    [Fact]
    public void ProblemsWithTheDataAreFoundBeforeAnyTraining()
    {
        string missing = Recipe().Replace("builtin: { classes: 3, train_per_class: 4, test_per_class: 3 }", "imagefolder: { train: nowhere/train, test: nowhere/test }");
        var error = Assert.Throws<Pvp.Training.Data.DatasetException>(() => new PvpRunner(RecipeParser.Parse(missing, Path.Combine(folder, "recipe.yaml")), new Quiet()).Run());
        Assert.Contains("stage2 task 'shapes'", error.Message);
        Assert.Contains("nowhere", error.Message);
        Assert.False(Directory.Exists(Path.Combine(folder, "run", "backbone")), "nothing may train before the recipe is checked");

        string tooFew = Recipe(shots: "[1, 8]");
        var shots = Assert.Throws<Pvp.Training.Data.DatasetException>(() => new PvpRunner(RecipeParser.Parse(tooFew, Path.Combine(folder, "recipe.yaml")), new Quiet()).Run());
        Assert.Contains("asks for 8 shots, but class", shots.Message);
        Assert.Contains("has 4 training images", shots.Message);
        Assert.False(Directory.Exists(Path.Combine(folder, "run", "backbone")));
    }

    [Fact]
    public void DamagedCheckpointsFallBackAndDamagedResultsAreNamed()
    {
        // Two checkpoints of one run; the newest truncated, the pointer emptied.
        using var model = new Pvp.Models.VptDeepMicro(numClasses: 3);
        using var optimizer = model.CreateAdamW(1e-2, 0.0);
        var store = new CheckpointStore(Path.Combine(folder, "checkpoints"));
        store.Save(model, optimizer, new TrainingPosition(0, 3, 3));
        store.Save(model, optimizer, new TrainingPosition(1, 0, 6));
        string newest = Path.Combine(folder, "checkpoints", "step-00000006.safetensors");
        using (var stream = new FileStream(newest, FileMode.Open)) stream.SetLength(stream.Length / 2);
        File.WriteAllText(Path.Combine(folder, "checkpoints", "latest.json"), "");

        var notes = new List<string>();
        var position = store.Restore(model, optimizer, notes.Add);
        Assert.Equal(new TrainingPosition(0, 3, 3), position);
        Assert.Contains(notes, n => n.Contains("latest.json' is unreadable", StringComparison.Ordinal));
        Assert.Contains(notes, n => n.Contains("step-00000006.safetensors' is unreadable", StringComparison.Ordinal));
        Assert.Contains(notes, n => n.Contains("resuming from the older checkpoint", StringComparison.Ordinal));

        string result = Path.Combine(folder, "result.json");
        File.WriteAllText(result, "{ \"task\": ");
        Assert.Contains($"'{result}' is not a readable cell result", Assert.Throws<InvalidDataException>(() => CellResult.Load(result)).Message);
    }
}
