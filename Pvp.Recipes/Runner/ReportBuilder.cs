namespace Pvp.Recipes.Runner;

/// <summary>
/// The results report of a run folder: the finished cells of this recipe's grid (each made by this recipe, its seal
/// holding, its result naming it), and the cells still unfinished; in a <c>variants:</c> recipe every variant's.
/// </summary>
internal sealed class ReportBuilder(RunContext run, RunFingerprints fingerprints, FolderGuard guard)
{
    /// <summary>
    /// Adds this variant's finished cells to <paramref name="results"/>, and to <paramref name="stale"/> each finished
    /// cell this recipe did not make (with why).
    /// </summary>
    /// <exception cref="StaleRunException">The backbone or stage 1 upstream of the cells is another recipe's.</exception>
    public void Collect(List<CellResult> results, List<string> stale)
    {
        guard.CheckUpstream();
        foreach (var cell in run.Layout.Cells().Where(c => c.Search is null))
        {
            string folder = run.Layout.CellFolder(cell), resultPath = run.Layout.ResultPath(cell);
            if (!File.Exists(resultPath)) continue;
            var differences = fingerprints.CellDifferences(cell);
            // An impossible value is named by key first.
            var result = differences.Count == 0 ? CellResult.Load(resultPath) : null;
            if (result is not null && CellSeal.Broken(folder) is { } broken)
                (differences, result) = (new[] { broken }, null);
            if (result is not null &&
                (result.Task, result.Shots, result.Seed, result.Init, result.Variant) !=
                (cell.Task, cell.Shots, cell.Seed, cell.Init, cell.Variant))
                differences = new[]
                {
                    $"its result.json is cell {new GridCell(result.Task, result.Shots, result.Seed, result.Init == "pvp") { Variant = result.Variant }.Id}'s",
                };
            if (differences.Count > 0) stale.Add($"{cell.Id} ({string.Join("; ", differences)})");
            else results.Add(result!);
        }
    }

    /// <summary>
    /// See <see cref="PvpRunner.Report"/>: every lane's finished cells (<paramref name="lanes"/>), written as one report;
    /// <paramref name="unfinished"/> lists the cells not done yet.
    /// </summary>
    public static ResultsReport Report(PvpRecipe recipe, IReadOnlyList<VariantLane> lanes,
        Func<IEnumerable<string>> unfinished)
    {
        if (!Directory.Exists(recipe.Output))
            throw new DirectoryNotFoundException($"The run folder '{recipe.Output}' does not exist: nothing has run " +
                                                 "there yet (check 'output:' or --output).");
        var results = new List<CellResult>();
        var stale = new List<string>();
        foreach (var lane in lanes) lane.Report.Collect(results, stale);
        if (stale.Count > 0)
            throw new StaleRunException(
                $"'{recipe.Output}' holds results that this recipe did not produce: " +
                $"{string.Join(", ", stale.Take(5))}" +
                $"{(stale.Count > 5 ? $" and {stale.Count - 5} more" : "")}. Use a new output folder, or run 'tune' " +
                "with --force to redo them.");
        var report = new ResultsReport(results, unfinished().ToList())
        {
            Groups = recipe.Stage2.Tasks.Where(t => t.Group is not null)
                .Select(t => new KeyValuePair<string, string>(t.Name, t.Group!)).ToList(),
            Variants = recipe.NamesVariants ? recipe.Variants : Array.Empty<string>(),
            Variant = recipe.Variant,
        };
        report.Write(recipe.Output, ResultsReport.TitleOf(recipe));
        return report;
    }
}
