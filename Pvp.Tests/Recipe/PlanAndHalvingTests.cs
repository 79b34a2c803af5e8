using System.Diagnostics;
using Pvp.Recipes;
using Pvp.Training.Data;

namespace Pvp.Tests.Recipe;

/// <summary>
/// <c>pvp plan</c>'s step counts against hand arithmetic, its cells against the runner's own enumeration, and the
/// successive-halving search: its rounds, its survivors, its resume and its errors.
/// </summary>
public sealed class PlanAndHalvingTests : IDisposable
{
    private readonly string folder = Directory.CreateTempSubdirectory("pvp-plan-").FullName;

    static PlanAndHalvingTests() => VariantRegistry.Load(typeof(Pvp.Models.VptDeepMicro).Assembly);

    public void Dispose() => Directory.Delete(folder, recursive: true);

    private const string Source = """
        variant: VptDeepMicro
        workers: 2
        backbone: { pretrain: { epochs: 2, batch: 16 } }
        source:
          builtin: { classes: 6, train_per_class: 6, test_per_class: 2 }
        stage1: { epochs: 3, lr: 0.01, batch: 10 }
        """;

    private PvpRecipe Parse(string stage2, string output = "run") =>
        RecipeParser.Parse(Source + $"\noutput: {output}\n" + stage2, Path.Combine(folder, "recipe.yaml"));

    private const string HalvingStage2 = """
        stage2:
          tasks:
            - name: shapes
              builtin: { classes: 3, train_per_class: 8, test_per_class: 4 }
          shots: [4]
          seeds: [0]
          baseline: false
          epochs: 4
          warmup: 2
          batch: 5
          search: { lr: [0.05, 0.01], weight_decay: [0.001, 0], val_per_class: 2, strategy: halving, eta: 2, first_budget: 1 }
        """;

    [Fact]
    public void PlanCountsEachRunsStepsAsTheTrainerDoes()
    {
        var recipe = Parse("""
            stage2:
              tasks:
                - name: shapes
                  builtin: { classes: 3, train_per_class: 8, test_per_class: 4 }
              shots: [1, 4]
              seeds: [0, 1]
              epochs: 3
              batch: 5
            """);
        var plan = RunPlan.Of(recipe);
        // Source: 6 classes × 6 = 36 images. Backbone: batch 16 → ⌊36/16⌋ = 2 steps an epoch × 2 epochs = 4.
        // Stage 1: batch 10 → ⌊36/10⌋ = 3 × 3 epochs = 9.
        Assert.Equal(4, plan.Steps(RunPlan.Backbone));
        Assert.Equal(9, plan.Steps(RunPlan.StageOne));
        // Stage 2: 1-shot = 3 images, fewer than the batch: one batch of 3 an epoch → 3 steps; 4-shot = 12 images,
        // batch 5 → ⌊12/5⌋ = 2 an epoch → 6 steps. 2 seeds × 2 inits of each: 4 × 3 + 4 × 6 = 36.
        var one = plan.Entries.Single(e => e.Id == "shapes/1shot-seed0-pvp");
        Assert.Equal((3, 3, 3L), (one.TrainImages, one.Batch, one.Steps));
        var four = plan.Entries.Single(e => e.Id == "shapes/4shot-seed1-random");
        Assert.Equal((12, 5, 6L), (four.TrainImages, four.Batch, four.Steps));
        Assert.Equal(36, plan.Steps(RunPlan.StageTwo));
        Assert.Equal(36 / 16, RunPlan.StepsFor(36, 16, 1));
        // The runner's own enumeration, in its order: plan adds no cell and loses none.
        var runnerCells = new PvpRunner(recipe, new Quiet()).Cells();
        Assert.Equal(runnerCells, plan.Cells);
        Assert.Equal(runnerCells, plan.Entries.Where(e => e.Cell is not null).Select(e => e.Cell!).ToList());
    }

    [Fact]
    public void PlanWorksFromDeclaredSizesWithoutTheDataAndNamesWhatIsMissing()
    {
        const string Fgvc = """
            stage2:
              tasks:
                - name: cub
                  fgvc: { root: absent, train: absent/train.json, test: absent/test.json, classes: 200 }
              shots: [2]
              seeds: [0]
              baseline: false
              epochs: 10
              batch: 128
            """;
        // 2 × 200 = 400 images at batch 128: ⌊400/128⌋ = 3 steps an epoch, 30 in all; no file of the task is here.
        var plan = RunPlan.Of(Parse(Fgvc));
        Assert.Equal((400, 128, 30L), (plan.Entries.Single(e => e.Id == "cub/2shot-seed0-pvp").TrainImages,
            plan.Entries.Single(e => e.Id == "cub/2shot-seed0-pvp").Batch, plan.Steps(RunPlan.StageTwo)));
        var error = Assert.Throws<DatasetException>(() => RunPlan.Of(Parse(Fgvc.Replace(", classes: 200", "", StringComparison.Ordinal))));
        Assert.Contains("stage2 task 'cub': its classes cannot be counted here", error.Message);
        Assert.Contains("declare them in the recipe (classes: N", error.Message);
    }

    [Fact]
    public void HalvingRoundsAreHyperbandsBudgetsAndCounts()
    {
        SearchSpec Grid(int lrs, int wds, int eta, int first) => new SearchSpec(
            Enumerable.Range(1, lrs).Select(i => i * 0.1).ToList(), Enumerable.Range(0, wds).Select(i => i * 1e-3).ToList(), 5)
        { Strategy = SearchStrategy.Halving, Eta = eta, FirstBudget = first };
        // The paper's grid (36 settings), 100 epochs, η 3, first budget 10: s = 2 (10·3² = 90 ≤ 100 < 270), budgets
        // round(100/9) = 11, round(100/3) = 33, 100; counts 36, ⌊36/3⌋ = 12, ⌊12/3⌋ = 4.
        Assert.Equal(new[] { new SearchRound(0, 36, 11), new SearchRound(1, 12, 33), new SearchRound(2, 4, 100) },
            Grid(9, 4, 3, 10).Rounds(100));
        // 4 settings, η 2, 4 epochs, first budget 1: budgets 1, 2, 4; counts 4, 2, 1.
        Assert.Equal(new[] { new SearchRound(0, 4, 1), new SearchRound(1, 2, 2), new SearchRound(2, 1, 4) },
            Grid(2, 2, 2, 1).Rounds(4));
        // 4 settings, η 3, 9 epochs, first budget 1: ⌊4/3⌋ = 1 left after the first round, so the next is the last.
        Assert.Equal(new[] { new SearchRound(0, 4, 1), new SearchRound(1, 1, 9) }, Grid(2, 2, 3, 1).Rounds(9));
        // first_budget = epochs: one round, the full grid's cost.
        Assert.Equal(new[] { new SearchRound(0, 4, 9) }, Grid(2, 2, 3, 9).Rounds(9));
        // The full grid: one round of every setting.
        Assert.Equal(new[] { new SearchRound(0, 36, 100) }, (Grid(9, 4, 3, 10) with { Strategy = SearchStrategy.Full }).Rounds(100));
        // A round's id carries its budget and parses back.
        var cell = GridCell.Parse("shapes/4shot-seed0-pvp-search/lr0.05-wd0.001-ep2");
        Assert.Equal(2, cell.Search!.Epochs);
        Assert.Equal("shapes/4shot-seed0-pvp-search/lr0.05-wd0.001-ep2", cell.Id);
        Assert.Null(GridCell.Parse("shapes/4shot-seed0-pvp-search/lr1E-05-wd0").Search!.Epochs);
    }

    [Fact]
    public void HalvingKeepsTheBestHalfEachRoundAndResumesToTheSameChoice()
    {
        var recipe = Parse(HalvingStage2);
        var runner = new PvpRunner(recipe, new Quiet());
        // The grid lists the first round (4 settings × 1 epoch) and the cell that runs the later rounds and chooses.
        Assert.Equal(new[]
        {
            "shapes/4shot-seed0-pvp-search/lr0.05-wd0.001-ep1", "shapes/4shot-seed0-pvp-search/lr0.05-wd0-ep1",
            "shapes/4shot-seed0-pvp-search/lr0.01-wd0.001-ep1", "shapes/4shot-seed0-pvp-search/lr0.01-wd0-ep1",
            "shapes/4shot-seed0-pvp",
        }, runner.Cells().Select(c => c.Id));
        // Plan: round 1 = 4 × 12 images at batch 5 × 1 epoch = 4 × 2 steps; round 2 = 2 survivors × 2 epochs × 2 = 8;
        // round 3 = 1 × 4 epochs × 2 = 8; the final cell evaluates the choice (0 steps).
        var plan = RunPlan.Of(recipe);
        Assert.Equal(8 + 8 + 8, plan.Steps(RunPlan.StageTwo));
        Assert.Equal(2, plan.Entries.Single(e => e.Id == "shapes/4shot-seed0-pvp-search/round2").Runs);

        var final = Assert.Single(runner.Run().Results);
        string search = Path.Combine(recipe.Output, "stage2", "shapes", "4shot-seed0-pvp-search");
        CellResult At(string id) => CellResult.Load(Path.Combine(search, id, "result.json"));
        double[] lrs = { 0.05, 0.01 }, wds = { 0.001, 0 };
        var settings = (from lr in lrs from wd in wds select new SearchSetting(lr, wd)).ToList();
        List<SearchSetting> Best(IEnumerable<SearchSetting> alive, int epochs, int keep) => alive
            .OrderByDescending(s => At((s with { Epochs = epochs == 4 ? null : epochs }).Id).Top1)
            .ThenBy(s => s.LearningRate).ThenBy(s => s.WeightDecay).Take(keep).ToList();
        var second = Best(settings, 1, 2);
        var third = Best(second, 2, 1);
        // Exactly the survivors trained in each later round, for their round's epochs (warm-up scaled: 2 · 2/4 = 1).
        Assert.Equal(second.Select(s => $"{s.Id}-ep2").Order(),
            Directory.GetDirectories(search, "*-ep2").Select(Path.GetFileName).Order());
        Assert.Equal(new[] { third[0].Id },
            Directory.GetDirectories(search).Select(Path.GetFileName).Where(n => !n!.Contains("-ep", StringComparison.Ordinal)));
        Assert.Equal(third[0].Id, final.Chosen);
        Assert.Equal(4 + 2 + 1, final.SearchScores!.Count);
        var roundTwo = Fingerprint.Load(Path.Combine(search, $"{second[0].Id}-ep2"))!.Components;
        Assert.Equal(("2", "1"), (roundTwo["stage2.epochs"], roundTwo["stage2.warmup"]));
        Assert.Equal(2 * 2, CellResult.Load(Path.Combine(search, $"{second[0].Id}-ep2", "result.json")).Steps); // 2 epochs × ⌊12/5⌋
        Assert.Equal(4 * 2, CellResult.Load(Path.Combine(search, third[0].Id, "result.json")).Steps);

        // Interrupted after round 2: the last round and the choice are gone; running again trains only what is
        // missing and chooses the same.
        var kept = File.GetLastWriteTimeUtc(Path.Combine(search, settings[0].Id + "-ep1", "result.json"));
        Directory.Delete(Path.Combine(search, third[0].Id), recursive: true);
        Directory.Delete(Path.Combine(recipe.Output, "stage2", "shapes", "4shot-seed0-pvp"), recursive: true);
        var again = Assert.Single(new PvpRunner(recipe, new Quiet()).Run().Results);
        Assert.Equal(final.Chosen, again.Chosen);
        Assert.Equal(final.Top1, again.Top1);
        Assert.Equal(kept, File.GetLastWriteTimeUtc(Path.Combine(search, settings[0].Id + "-ep1", "result.json")));

        // Another η is another search: the finished cell is then another recipe's, and says what changed.
        var changed = new PvpRunner(Parse(HalvingStage2.Replace("eta: 2", "eta: 3")), new Quiet());
        var state = RunStatus.Of(changed, GridCell.Parse("shapes/4shot-seed0-pvp"));
        Assert.Equal(CellState.Stale, state.State);
        Assert.Contains("search.strategy", state.Detail);
        // A tampered round result is never taken as a score: the cell that chooses stops with the seal's complaint.
        string tampered = Path.Combine(search, settings[1].Id + "-ep1", "result.json");
        File.AppendAllText(tampered, " ");
        Directory.Delete(Path.Combine(recipe.Output, "stage2", "shapes", "4shot-seed0-pvp"), recursive: true);
        var stale = Assert.Throws<StaleRunException>(() => new PvpRunner(recipe, new Quiet()).Run());
        Assert.Contains("its result.json was changed after training wrote it", stale.Message);
        Assert.False(File.Exists(Path.Combine(recipe.Output, "stage2", "shapes", "4shot-seed0-pvp", "result.json")));
    }

    /// <summary>Cancels the run at the 3rd step of the last halving round's run (a setting id without -ep).</summary>
    private sealed class StopInLastRound(CancellationTokenSource stop) : IRunReporter
    {
        public void Stage(string title) { }
        public void Info(string line) { }
        public global::Pvp.Training.ITrainingObserver Observer(string run, bool gridCell) =>
            run.Contains("-search/", StringComparison.Ordinal) && !run.Contains("-ep", StringComparison.Ordinal)
                ? new Stopper(stop)
                : global::Pvp.Training.SilentObserver.Instance;

        private sealed class Stopper(CancellationTokenSource stop) : global::Pvp.Training.ITrainingObserver
        {
            public void Step(long step, double loss, double learningRate)
            {
                if (step >= 3) stop.Cancel();
            }
        }
    }

    [Fact]
    public void AHalvingSearchInterruptedInItsLastRoundResumesToTheUninterruptedChoice()
    {
        var reference = Assert.Single(new PvpRunner(Parse(HalvingStage2, "run-reference"), new Quiet()).Run().Results);
        var recipe = Parse(HalvingStage2, "run-interrupted");
        using var stop = new CancellationTokenSource();
        Assert.ThrowsAny<OperationCanceledException>(() => new PvpRunner(recipe, new StopInLastRound(stop)).Run(stop.Token));
        var runner = new PvpRunner(recipe, new Quiet());
        Assert.Equal(CellState.Missing, RunStatus.Of(runner, GridCell.Parse("shapes/4shot-seed0-pvp")).State);
        var resumed = Assert.Single(runner.Run().Results);
        Assert.Equal(reference.Chosen, resumed.Chosen);
        Assert.Equal(reference.Top1, resumed.Top1);
        Assert.Equal(reference.SearchScores, resumed.SearchScores);
    }

    [Theory]
    [InlineData("strategy: halving, eta: 1, first_budget: 1", "stage2.search.eta: 1", "give 2 or more")]
    [InlineData("strategy: halving, first_budget: 0", "stage2.search.first_budget: 0", "at least 1 and at most stage2.epochs (4)")]
    [InlineData("strategy: halving, first_budget: 5", "stage2.search.first_budget: 5", "at least 1 and at most stage2.epochs (4)")]
    [InlineData("strategy: halving", "strategy halving needs first_budget", "first_budget:")]
    [InlineData("strategy: bisect", "stage2.search.strategy: expected one of full, halving, got 'bisect'", "")]
    [InlineData("eta: 3", "stage2.search.eta: applies to successive halving only", "add 'strategy: halving'")]
    public void BadHalvingKeysAreErrorsNamingTheKeyAndTheFix(string keys, string named, string fix)
    {
        string yaml = HalvingStage2.Replace("strategy: halving, eta: 2, first_budget: 1", keys, StringComparison.Ordinal);
        var error = Assert.Throws<RecipeException>(() => Parse(yaml));
        Assert.Contains("recipe.yaml:", error.Message);
        Assert.Contains(named, error.Message);
        Assert.Contains(fix, error.Message);
    }

    [Fact]
    public void PvpPlanListsEveryCellTheRunnerRunsAndTimesTheRecipesStep()
    {
        string recipePath = Path.Combine(folder, "recipe.yaml");
        File.WriteAllText(recipePath, Source + "\noutput: run-cli\n" + HalvingStage2);
        var runner = new PvpRunner(RecipeParser.Load(recipePath), new Quiet());
        var (code, output) = RunPvp($"plan \"{recipePath}\" --steps 2 --warmup 1");
        Assert.True(code == 0, output);
        var lines = output.Split('\n');
        foreach (var (cell, index) in runner.Cells().Select((c, i) => (c, i)))
            Assert.Contains(lines, l => l.TrimStart().StartsWith($"{index}  {cell.Id} ", StringComparison.Ordinal));
        Assert.Contains("halving (eta 2, first_budget 1): 4 × 1 epochs → 2 × 2 → 1 × 4", output);
        Assert.Contains(lines, l => l.Contains("shapes/4shot-seed0-pvp-search/round3", StringComparison.Ordinal));
        var total = lines.Single(l => l.StartsWith("total:", StringComparison.Ordinal));
        Assert.Contains("device-hours", total);
        Assert.Contains("median of 2 after 1 warm-up", output);
        // The measured path itself, on the Micro model: a positive time.
        var timing = RunPlan.MeasureStep(RecipeParser.Load(recipePath), RunPlan.StageTwo, batch: 4, classes: 3, warmup: 1, steps: 1);
        Assert.True(timing.SecondsPerStep > 0);
        Assert.True(timing.SecondsFor(RunPlan.Of(RecipeParser.Load(recipePath)).Entries.First(e => e.Steps > 0)) > 0);
    }

    [Fact]
    public void SubmitPrintsThePlansSummaryAsCommentsBeforeTheScripts()
    {
        string recipePath = Path.Combine(folder, "recipe.yaml");
        File.WriteAllText(recipePath, Source + "\noutput: run-submit\n" + HalvingStage2);
        var (code, output) = RunPvp($"submit slurm \"{recipePath}\" --dry-run --pvp-command pvp");
        Assert.True(code == 0, output);
        var lines = output.Split('\n');
        int script = Array.FindIndex(lines, l => l.StartsWith("#!", StringComparison.Ordinal));
        int summary = Array.FindIndex(lines, l => l.StartsWith("# stage 2: 7 training run(s), 24 steps", StringComparison.Ordinal));
        Assert.InRange(summary, 0, script - 1);
        Assert.Contains(lines, l => l.StartsWith("# search: 2 lr × 2 weight decay = 4 settings per cell; halving", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("# total: ", StringComparison.Ordinal));
    }

    private static (int Code, string Output) RunPvp(string arguments)
    {
        string dll = Directory.GetFiles(Numerics.TestTensors.RepoPath("Pvp.Cli/bin"), "pvp.dll", SearchOption.AllDirectories)
            .OrderByDescending(File.GetLastWriteTimeUtc).First();
        var start = new ProcessStartInfo("dotnet", $"\"{dll}\" {arguments}")
        {
            RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
        };
        start.Environment["COLUMNS"] = "400";
        using var process = Process.Start(start)!;
        var error = process.StandardError.ReadToEndAsync();
        string output = process.StandardOutput.ReadToEnd();
        Assert.True(process.WaitForExit(180_000), $"pvp {arguments} did not finish");
        return (process.ExitCode, output + error.Result);
    }
}
