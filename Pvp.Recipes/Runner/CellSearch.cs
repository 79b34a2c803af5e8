using System.Diagnostics;

namespace Pvp.Recipes.Runner;

/// <summary>
/// The end of a cell whose recipe searches: every search cell finished (run here, or waited for), the best setting
/// chosen, and that run's model reported on the test images.
/// </summary>
internal sealed class CellSearch(RunContext run, RunData data, RunTraining training, CellRunner cells, CellTrainer trainer)
{
    /// <summary>
    /// Makes sure every search cell of <paramref name="cell"/> has finished (running those no one holds, waiting for
    /// those another process runs), picks the best validation top-1 (ties: the smaller lr, then the smaller decay, as
    /// VPT's <c>find_best_lrwd</c>), and reports that run's model on the test images. Training again with the same
    /// setting, seed and images would repeat that very run, so the chosen run's model is the one evaluated. A task whose
    /// search trains on other images than its final run (<see cref="DatasetSpec.SearchTrain"/>: VTAB-1k's train800) trains
    /// the final run again on its training images with the chosen setting.
    /// </summary>
    /// <exception cref="InvalidOperationException">Every setting diverged, or the claim was lost.</exception>
    public CellResult Finish(GridCell cell, TaskSpec task, CellClaim claim, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        var searchCells = run.Layout.SearchSettings().Select(setting => cell with { Search = setting }).ToList();
        var results = WaitForAll(cell, searchCells, cancellationToken);
        var finished = searchCells.Where(c => results[c].Diverged is null).ToList();
        if (finished.Count == 0)
            throw new InvalidOperationException(
                $"Cell {cell.Id}: every setting of its search diverged " +
                $"({string.Join(", ", searchCells.Select(c => c.Search!.Id))}); " +
                "lower the learning rates searched, raise the warm-up, or turn on clip_grad.");
        var best = finished
            .OrderByDescending(c => results[c].Top1).ThenBy(c => c.Search!.LearningRate)
            .ThenBy(c => c.Search!.WeightDecay)
            .First();
        var chosen = results[best];
        CellTrainer.ThrowIfLost(cell, claim, run.ClaimStaleAfter);
        var diverged = searchCells.Where(c => results[c].Diverged is not null).Select(c => c.Search!.Id).ToList();
        var scores = finished.ToDictionary(c => c.Search!.Id, c => results[c].Top1);
        if (data.Task(task).SearchTrain is not null)
        {
            // VTAB-1k: the search trained on train800 and was scored on val200; the reported run trains again, on
            // train800val200, with the chosen setting (NOAH's general_dataset, VPT's protocol).
            var final = trainer.Train(cell, task, run.Layout.CellFolder(cell), claim, cancellationToken, best.Search);
            return final with
            {
                Chosen = best.Search!.Id, SearchScores = scores, SearchDiverged = diverged.Count > 0 ? diverged : null,
            };
        }
        string chosenModel = run.Layout.TunedPath(best);
        string folder = run.Layout.CellFolder(cell);
        Directory.CreateDirectory(folder);
        Checkpoints.AtomicFile.Write(Path.Combine(folder, CellSeal.TunedFile),
            temp => File.Copy(chosenModel, temp, overwrite: true));
        var (train, _, test) = data.Cell(task, cell);
        using var model = training.CreateModel(train.Classes.Count, trainedAs: chosen);
        model.LoadBackbone(run.Layout.BackbonePath);
        model.ImportPetuning(chosenModel, includeHead: true);
        var evaluation = training.Evaluate(model, test);
        return new CellResult(cell.Task, cell.Shots, cell.Seed, cell.Init, evaluation.Top1, evaluation.Top5,
            evaluation.Loss, chosen.Steps, chosen.Seconds + clock.Elapsed.TotalSeconds, chosen.Precision)
        {
            Preprocessing = chosen.Preprocessing,
            Optimizer = chosen.Optimizer,
            LearningRate = chosen.LearningRate,
            WeightDecay = chosen.WeightDecay,
            Chosen = best.Search!.Id,
            SearchScores = scores,
            SearchDiverged = diverged.Count > 0 ? diverged : null,
        };
    }

    /// <summary>
    /// Runs the search cells no one holds and waits for those other processes run, until all have a result.
    /// </summary>
    private Dictionary<GridCell, CellResult> WaitForAll(GridCell cell, IReadOnlyList<GridCell> searchCells,
        CancellationToken cancellationToken)
    {
        var results = new Dictionary<GridCell, CellResult>();
        bool said = false;
        while (true)
        {
            foreach (var searchCell in searchCells.Where(c => !results.ContainsKey(c)))
                if (cells.Run(searchCell, cancellationToken) is { } r) results[searchCell] = r;
            if (results.Count == searchCells.Count) return results;
            if (!said)
                run.Reporter.Info($"{cell.Id}: waiting for {searchCells.Count - results.Count} search cell(s) " +
                                  "that other processes run");
            said = true;
            cancellationToken.WaitHandle.WaitOne(TimeSpan.FromSeconds(2));
            cancellationToken.ThrowIfCancellationRequested();
        }
    }
}
