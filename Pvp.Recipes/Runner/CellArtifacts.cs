using Pvp.Training.Data;
using Pvp.Training;

namespace Pvp.Recipes.Runner;

/// <summary>
/// What a finished cell yields: its model loaded back (only when the cell is this recipe's and its seal holds), its
/// evaluation, and the re-evaluation of every finished cell against what its result records.
/// </summary>
internal sealed class CellArtifacts(
    RunContext run, RunData data, RunTraining training, RunFingerprints fingerprints, FolderGuard guard)
{
    private PvpRecipe Recipe => run.Recipe;
    private RunLayout Layout => run.Layout;

    /// <summary>See <see cref="PvpRunner.Evaluate"/>.</summary>
    public EvaluationResult Evaluate(GridCell cell)
    {
        var (model, _, test) = Load(cell);
        using (model)
            return training.Evaluate(model, test);
    }

    /// <summary>See <see cref="PvpRunner.Verify"/>.</summary>
    public (IReadOnlyList<string> Differences, int Checked) Verify(CancellationToken cancellationToken)
    {
        var differences = new List<string>();
        int count = 0;
        foreach (var cell in Layout.Cells().Where(c => c.Search is null))
        {
            cancellationToken.ThrowIfCancellationRequested();
            string resultPath = Layout.ResultPath(cell);
            if (!File.Exists(resultPath)) continue;
            var recorded = CellResult.Load(resultPath);
            var (model, _, test) = Load(cell);
            EvaluationResult now;
            using (model)
                now = training.Evaluate(model, test);
            count++;
            double oneImage = 1.0 / Math.Max(1, test.Count);
            if (Math.Abs(now.Top1 - recorded.Top1) > oneImage + 1e-9)
                differences.Add($"{cell.Id}: result.json records top-1 {100 * recorded.Top1:F2}%, its model scores " +
                                $"{100 * now.Top1:F2}% on {test.Count} test images");
            run.Reporter.Info($"{cell.Id,-32} recorded top-1 {100 * recorded.Top1,6:F2}%, " +
                              $"re-evaluated {100 * now.Top1,6:F2}%");
        }
        return (differences, count);
    }

    /// <summary>
    /// A finished cell's model (backbone and tuned modules loaded, in the precision it trained in), its training images
    /// and the images it is measured on (test; a search cell's validation images). The caller disposes the model.
    /// </summary>
    /// <exception cref="StaleRunException">
    /// The cell is another recipe's, or its outputs changed since training.
    /// </exception>
    public (PetModel Model, IImageDataset Train, IImageDataset Test) Load(GridCell cell)
    {
        string folder = Layout.CellFolder(cell), tuned = Layout.TunedPath(cell);
        var task = run.TaskOf(cell);
        if (!File.Exists(tuned) || !File.Exists(Layout.ResultPath(cell)))
            throw new InvalidOperationException($"Cell {cell.Id} has not finished: '{folder}' has no result.");
        guard.CheckUpstream();
        var differences = fingerprints.CellDifferences(cell);
        if (differences.Count > 0)
            throw new StaleRunException($"Cell {cell.Id} in '{folder}' was made by a different recipe — " +
                                        $"{string.Join("; ", differences)}; using it would not measure this recipe.");
        if (CellSeal.Broken(folder) is { } broken)
            throw new StaleRunException($"Cell {cell.Id} in '{folder}': {broken}, so it no longer matches what " +
                                        "training wrote. Run 'pvp tune' with --force and --cell to redo it.");
        var (train, indices, test) = data.Cell(task, cell);
        var evaluated = cell.Search is null ? test : data.SearchValidation(task, cell, indices);
        var device = Devices.Resolve(Recipe.Device);
        var precision = training.PrecisionOf(CellResult.Load(Layout.ResultPath(cell)));
        var model = VariantRegistry.Create(Recipe.Variant, train.Classes.Count, device, precision: precision);
        try
        {
            model.LoadBackbone(Layout.BackbonePath);
            model.ImportPetuning(tuned, includeHead: true);
            return (model, train, evaluated);
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }
}
