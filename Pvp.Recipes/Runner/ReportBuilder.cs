namespace Pvp.Recipes.Runner;

/// <summary>
/// The results report of a run folder: the finished cells of this recipe's grid (each made by this recipe, its seal
/// holding, its result naming it), and the cells still unfinished.
/// </summary>
internal sealed class ReportBuilder(RunContext run, RunFingerprints fingerprints, FolderGuard guard)
{
    /// <summary>
    /// See <see cref="PvpRunner.Report"/>; <paramref name="unfinished"/> lists the cells not done yet.
    /// </summary>
    public ResultsReport Report(Func<IEnumerable<string>> unfinished)
    {
        var recipe = run.Recipe;
        if (!Directory.Exists(recipe.Output))
            throw new DirectoryNotFoundException($"The run folder '{recipe.Output}' does not exist: nothing has run " +
                                                 "there yet (check 'output:' or --output).");
        guard.CheckUpstream();
        var results = new List<CellResult>();
        var stale = new List<string>();
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
                (result.Task, result.Shots, result.Seed, result.Init) != (cell.Task, cell.Shots, cell.Seed, cell.Init))
                differences = new[]
                {
                    $"its result.json is cell {new GridCell(result.Task, result.Shots, result.Seed, result.Init == "pvp").Id}'s",
                };
            if (differences.Count > 0) stale.Add($"{cell.Id} ({string.Join("; ", differences)})");
            else results.Add(result!);
        }
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
        };
        report.Write(recipe.Output, $"{recipe.Variant}: PVP vs random init");
        return report;
    }
}
