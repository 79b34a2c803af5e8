using System.Diagnostics;
using Pvp.Recipes;

namespace Pvp.Bench;

/// <summary>
/// Successive halving against the full grid on the quick start's built-in task, side by side in one run: the same
/// backbone and stage-1 prompts (trained once, copied into the second run folder), the same cells (2- and 8-shot, 3
/// seeds, PVP init) and a 9-setting lr × weight-decay grid. Prints, per cell, each strategy's choice and test top-1, how
/// often halving picks the full grid's setting, and each search's cost in optimizer steps and seconds (summed over its
/// search runs' results).
/// </summary>
internal static class SearchBench
{
    public static int Run(string[] args)
    {
        string root = Path.Combine(Path.GetTempPath(), "pvp-search-bench");
        if (Directory.Exists(root) && !args.Contains("--keep")) Directory.Delete(root, recursive: true);
        var recipe = RecipeParser.Load(Path.Combine(AppContext.BaseDirectory, "builtin.yaml"));
        // The quick start's task at the epochs the README's table was measured with (the quick start itself was cut to
        // 15 / 5 / 20 epochs on 2026-12-02): the bench compares searches, so it keeps the longer schedule.
        var quickStart = recipe with
        {
            BackbonePretrain = recipe.BackbonePretrain with { Epochs = 30 },
            Stage1 = recipe.Stage1 with { Epochs = 10 },
            Stage2 = recipe.Stage2 with { Settings = recipe.Stage2.Settings with { Epochs = 40 } },
        };
        var grid = new SearchSpec(new[] { 0.05, 0.02, 0.01 }, new[] { 0.001, 0.0001, 0.0 }, ValPerClass: 5);
        var full = quickStart with
        {
            Output = Path.Combine(root, "full"),
            Stage2 = quickStart.Stage2 with { Shots = new[] { 2, 8 }, Baseline = false, Search = grid },
        };
        var halving = full with
        {
            Output = Path.Combine(root, "halving"),
            Stage2 = full.Stage2 with { Search = grid with { Strategy = SearchStrategy.Halving, Eta = 3, FirstBudget = 4 } },
        };
        int epochs = full.Stage2.Settings.Epochs;
        Console.WriteLine($"grid: {grid.Settings().Count} settings; full: {grid.Describe(epochs)}; " +
                          $"{halving.Stage2.Search!.Describe(epochs)}");
        var reporter = new ConsoleReporter(cellEpochs: false);
        var fullRunner = new PvpRunner(full, reporter);
        fullRunner.Pretrain();
        // The same backbone and stage-1 modules for both: their fingerprints name no run folder.
        foreach (string stage in new[] { "backbone", "stage1" })
            CopyFolder(Path.Combine(full.Output, stage), Path.Combine(halving.Output, stage));
        var clock = Stopwatch.StartNew();
        var fullReport = fullRunner.Run();
        double fullWall = clock.Elapsed.TotalSeconds;
        var halvingRunner = new PvpRunner(halving, reporter);
        clock.Restart();
        var halvingReport = halvingRunner.Run();
        double halvingWall = clock.Elapsed.TotalSeconds;

        Console.WriteLine();
        Console.WriteLine("| cell | full grid: chosen | test top-1 | halving: chosen | test top-1 |");
        Console.WriteLine("| --- | --- | ---: | --- | ---: |");
        int same = 0;
        foreach (var (a, b) in fullReport.Results.Zip(halvingReport.Results))
        {
            if (a.Chosen == b.Chosen) same++;
            Console.WriteLine($"| {a.Task}/{a.Shots}shot-seed{a.Seed} | {a.Chosen} | {100 * a.Top1:F1}% | {b.Chosen} | {100 * b.Top1:F1}% |");
        }
        var (fullSteps, fullSeconds) = SearchCost(full.Output);
        var (halvingSteps, halvingSeconds) = SearchCost(halving.Output);
        Console.WriteLine($"halving picks the full grid's setting in {same} of {fullReport.Results.Count} cells");
        Console.WriteLine($"mean test top-1: full grid {100 * fullReport.Results.Average(r => r.Top1):F2}%, " +
                          $"halving {100 * halvingReport.Results.Average(r => r.Top1):F2}%");
        Console.WriteLine($"search cost: full grid {fullSteps:N0} steps, {fullSeconds:F0} s of training runs " +
                          $"({fullWall:F0} s wall); halving {halvingSteps:N0} steps, {halvingSeconds:F0} s " +
                          $"({halvingWall:F0} s wall); halving / full: {(double)halvingSteps / fullSteps:F2} of the steps, " +
                          $"{halvingSeconds / fullSeconds:F2} of the seconds");
        return 0;
    }

    /// <summary>Steps and seconds recorded by every search run under a run folder (the cells' <c>*-search</c> folders).</summary>
    private static (long Steps, double Seconds) SearchCost(string output)
    {
        long steps = 0;
        double seconds = 0;
        foreach (string result in Directory.GetFiles(Path.Combine(output, "stage2"), "result.json", SearchOption.AllDirectories)
                     .Where(p => p.Contains("-search" + Path.DirectorySeparatorChar, StringComparison.Ordinal)))
        {
            var r = CellResult.Load(result);
            steps += r.Steps;
            seconds += r.Seconds;
        }
        return (steps, seconds);
    }

    private static void CopyFolder(string from, string to)
    {
        foreach (string file in Directory.GetFiles(from, "*", SearchOption.AllDirectories))
        {
            string target = Path.Combine(to, Path.GetRelativePath(from, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target, overwrite: true);
        }
    }
}
