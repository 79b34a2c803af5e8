using Pvp.Recipes;

namespace Pvp.Tests.Recipe;

/// <summary>
/// A <c>variants:</c> recipe end to end on micro models: one backbone, a stage 1 and a grid per variant, one report with
/// a methods × shots table, a figure per task and results.csv's variant column; each variant's stage 1 and cells are
/// its own (folders, fingerprints, claims), so one variant's work is never taken for another's.
/// </summary>
public sealed class MultiVariantRunTests : IDisposable
{
    private readonly string folder = Directory.CreateTempSubdirectory("pvp-methods-").FullName;

    static MultiVariantRunTests() => VariantRegistry.Load(typeof(Pvp.Models.VptDeepMicro).Assembly);

    public void Dispose() => Directory.Delete(folder, recursive: true);

    private PvpRecipe Recipe(string variants = "[VptDeepMicro, LoraMicro]", string key = "variants", string output = "run") =>
        RecipeParser.Parse($"""
        {key}: {variants}
        output: {output}
        workers: 2
        backbone: {"{"} pretrain: {"{"} epochs: 1, batch: 16 {"}"} {"}"}
        source:
          builtin: {"{"} classes: 4, train_per_class: 4, test_per_class: 2 {"}"}
        stage1: {"{"} epochs: 1, lr: 0.01, batch: 16 {"}"}
        stage2:
          tasks:
            - name: shapes
              builtin: {"{"} classes: 3, train_per_class: 2, test_per_class: 2 {"}"}
          shots: [1, 2]
          seeds: [0]
          epochs: 1
        """, Path.Combine(folder, "methods.yaml"));

    [Fact]
    public void EveryVariantRunsOnOneBackboneAndTheReportComparesThem()
    {
        var recipe = Recipe();
        var quiet = new Quiet();
        var report = new PvpRunner(recipe, quiet).Run();
        string run = Path.Combine(folder, "run");

        // One backbone for both; a stage 1 of each, in its own folder, with its own fingerprint.
        Assert.Single(quiet.Lines, l => l.Contains("no weights given, so a", StringComparison.Ordinal));
        Assert.True(File.Exists(Path.Combine(run, "backbone", "backbone.safetensors")));
        foreach (string variant in recipe.Variants)
        {
            Assert.Contains($"\"variant\": \"{variant}\"", File.ReadAllText(Path.Combine(run, "stage1", variant, "petuning.json")));
            Assert.Contains(variant, File.ReadAllText(Path.Combine(run, "stage1", variant, "fingerprint.json")));
        }
        Assert.False(File.Exists(Path.Combine(run, "stage1", "petuning.safetensors")));
        Assert.Contains(quiet.Lines, l => l.StartsWith("== Stage 2 of LoraMicro: 4 few-shot runs", StringComparison.Ordinal));

        // Cells: both variants' grids, each result naming its variant and what trained.
        Assert.Equal(8, report.Results.Count);
        var lora = CellResult.Load(Path.Combine(run, "stage2", "LoraMicro", "shapes", "2shot-seed0-pvp", "result.json"));
        Assert.Equal("LoraMicro", lora.Variant);
        Assert.True(lora.TrainableParameters > lora.HeadParameters && lora.HeadParameters == 3 * 64 + 3);
        Assert.Equal(new[] { "VptDeepMicro", "LoraMicro" }, report.Results.Select(r => r.Variant).Distinct());

        // results.csv: the variant first; results.md: per task a methods × shots table; a figure per task.
        var csv = File.ReadAllLines(Path.Combine(run, "results.csv"));
        Assert.Equal("variant,task,shots,seed,init,top1,top5,loss,steps,seconds,precision", csv[0]);
        Assert.Equal(9, csv.Length);
        Assert.StartsWith("VptDeepMicro,shapes,1,0,pvp,", csv[1]);
        Assert.StartsWith("LoraMicro,shapes,2,0,random,", csv[^1]);
        string md = File.ReadAllText(Path.Combine(run, "results.md"));
        Assert.Contains("## VptDeepMicro, LoraMicro: PVP vs random init", md);
        Assert.Contains("| method | trainable | init | 1 | 2 |", md);
        Assert.Contains($"| LoraMicro | {lora.TrainableParameters - lora.HeadParameters:N0} + 195 | PVP | ", md);
        Assert.Contains("| | | random | ", md);
        Assert.Contains("| | | PVP − random | ", md);
        Assert.True(md.IndexOf("| VptDeepMicro |", StringComparison.Ordinal) < md.IndexOf("| LoraMicro |", StringComparison.Ordinal));
        Assert.True(new FileInfo(Path.Combine(run, "accuracy_vs_shots_shapes.png")).Length > 1000);
        Assert.False(File.Exists(Path.Combine(run, "accuracy_vs_shots.png")));

        // Status: every cell of both variants done; running again trains nothing.
        var runner = new PvpRunner(recipe, new Quiet());
        Assert.All(RunStatus.Cells(runner), c => Assert.Equal(CellState.Done, c.State));
        Assert.True(runner.StageOneDone);
        var again = new Quiet();
        new PvpRunner(recipe, again).Run();
        Assert.Equal(2, again.Lines.Count(l => l.StartsWith("stage 1: done earlier for ", StringComparison.Ordinal)));
        Assert.DoesNotContain(again.Lines, l => l.Contains("top-1", StringComparison.Ordinal) && l.Contains("/shapes/", StringComparison.Ordinal));

        // A cell by index is the same cell as by id, and evaluation of a saved cell reproduces its accuracy.
        var cell = GridCell.Parse("LoraMicro/shapes/2shot-seed0-pvp");
        Assert.Equal(cell, runner.Cells()[runner.Cells().ToList().IndexOf(cell)]);
        Assert.Equal(lora.Top1, runner.RunCell(runner.Cells().ToList().IndexOf(cell))!.Top1);
        Assert.Equal(lora.Top1, runner.Evaluate(cell).Top1, 6);

        // One variant's stage-1 modules put in another's folder: its stage 1 is not done, and its PVP cells (which
        // recorded their own modules) are stale; the other variant's are untouched.
        File.Copy(Path.Combine(run, "stage1", "LoraMicro", "petuning.safetensors"),
            Path.Combine(run, "stage1", "VptDeepMicro", "petuning.safetensors"), overwrite: true);
        var swapped = new PvpRunner(recipe, new Quiet());
        Assert.False(swapped.StageOneDoneOf("VptDeepMicro"));
        Assert.True(swapped.StageOneDoneOf("LoraMicro"));
        var states = RunStatus.Cells(swapped).ToDictionary(c => c.Cell.Id, c => c.State);
        Assert.Equal(CellState.Stale, states["VptDeepMicro/shapes/1shot-seed0-pvp"]);
        Assert.Equal(CellState.Done, states["VptDeepMicro/shapes/1shot-seed0-random"]);
        Assert.Equal(CellState.Done, states["LoraMicro/shapes/1shot-seed0-pvp"]);
        Assert.Contains("stage1.modules", Assert.Throws<StaleRunException>(() => swapped.Report()).Message);
    }

    [Fact]
    public void AVariantOfSeveralTrainsExactlyAsItsOneVariantRecipe()
    {
        var several = new PvpRunner(Recipe("[LoraMicro, Ia3Micro]", output: "several"), new Quiet()).Run();
        var alone = new PvpRunner(Recipe("Ia3Micro", key: "variant", output: "alone"), new Quiet()).Run();
        Assert.Equal(4, alone.Results.Count);
        Assert.All(alone.Results, r => Assert.Null(r.Variant));
        // Same backbone, same stage 1, same cells: the lane changes where things are kept, not what is computed.
        Assert.Equal(File.ReadAllBytes(Path.Combine(folder, "alone", "backbone", "backbone.safetensors")),
            File.ReadAllBytes(Path.Combine(folder, "several", "backbone", "backbone.safetensors")));
        Assert.Equal(alone.Results.Select(r => (r.Task, r.Shots, r.Seed, r.Init, r.Top1, r.Loss)),
            several.Results.Where(r => r.Variant == "Ia3Micro").Select(r => (r.Task, r.Shots, r.Seed, r.Init, r.Top1, r.Loss)));
        Assert.StartsWith("Ia3Micro,shapes,1,0,pvp,", File.ReadAllLines(Path.Combine(folder, "alone", "results.csv"))[1]);
    }

    [Fact]
    public void AResultOfAnotherVariantInACellsFolderIsNotReportedAsItsOwn()
    {
        var recipe = Recipe("[LoraMicro, DoraMicro]");
        var runner = new PvpRunner(recipe, new Quiet());
        runner.Pretrain();
        var lora = GridCell.Parse("LoraMicro/shapes/1shot-seed0-random");
        var dora = lora with { Variant = "DoraMicro" };
        runner.RunCell(lora);
        runner.RunCell(dora);
        // DoRA's folder gets LoRA's whole cell (result, model, seal, fingerprint): the fingerprint names LoRA's cell.
        string from = runner.CellFolder(lora), to = runner.CellFolder(dora);
        foreach (string file in Directory.GetFiles(from)) File.Copy(file, Path.Combine(to, Path.GetFileName(file)), overwrite: true);
        var status = RunStatus.Of(new PvpRunner(recipe, new Quiet()), dora);
        Assert.Equal(CellState.Stale, status.State);
        Assert.Contains("variant", status.Detail);
        Assert.Throws<StaleRunException>(() => new PvpRunner(recipe, new Quiet()).Report());
    }
}
