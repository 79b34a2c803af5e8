using System.Diagnostics;

namespace Pvp.Recipes.Runner;

/// <summary>
/// The end of a cell whose recipe searches: every search cell finished (run here, or waited for), the best setting
/// chosen, and that run's model reported on the test images.
/// </summary>
internal sealed class CellSearch(RunContext run, RunData data, RunTraining training, CellRunner cells, CellTrainer trainer)
{
    private PvpRecipe Recipe => run.Recipe;

    /// <summary>
    /// Makes sure every search cell of <paramref name="cell"/> has finished (running those no one holds, waiting for
    /// those another process runs), picks the best validation top-1 (ties: the smaller lr, then the smaller decay, as
    /// VPT's <c>find_best_lrwd</c>), and reports that run's model on the test images. Training again with the same
    /// setting, seed and images would repeat that very run, so the chosen run's model is the one evaluated. A task whose
    /// search trains on other images than its final run (<see cref="DatasetSpec.SearchTrain"/>: VTAB-1k's train800) trains
    /// the final run again on its training images with the chosen setting. With successive halving the rounds run in
    /// turn (<see cref="SearchSpec.Rounds"/>): the first round's cells are the grid's (any process runs them), the later
    /// rounds' the survivors, run by the process that holds this cell; the choice is the last round's best, at the
    /// stage's epochs.
    /// </summary>
    /// <exception cref="InvalidOperationException">Every setting (of a round) diverged, or the claim was lost.</exception>
    public CellResult Finish(GridCell cell, TaskSpec task, CellClaim claim, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        var spec = Recipe.Stage2.Search!;
        var rounds = spec.Rounds(Recipe.Stage2.Settings.Epochs);
        var alive = spec.Settings();
        var results = new Dictionary<GridCell, CellResult>();
        var searchCells = new List<GridCell>();
        GridCell best = null!; // set by the last round (rounds is never empty)
        foreach (var round in rounds)
        {
            // Each round restarts its survivors with the longer budget (see the README's search section); a round's
            // cells are ordinary search cells: claimed, sealed and fingerprinted one by one, so an interrupted round
            // resumes, and its survivors are recomputed from the sealed results alone: the same choice again.
            var roundCells = alive.Select(setting => cell with { Search = run.Layout.AtRound(setting, round) }).ToList();
            if (round.Index > 0)
                run.Reporter.Info($"{cell.Id}: halving round {round.Index + 1} of {rounds.Count}: " +
                                  $"{roundCells.Count} setting(s) × {round.Epochs} epochs");
            foreach (var (c, r) in WaitForAll(cell, roundCells, cancellationToken)) results[c] = r;
            searchCells.AddRange(roundCells);
            var ranked = Ranked(roundCells, results);
            if (ranked.Count == 0)
                throw new InvalidOperationException(
                    $"Cell {cell.Id}: every setting of its search diverged " +
                    $"({string.Join(", ", roundCells.Select(c => c.Search!.Id))}); " +
                    "lower the learning rates searched, raise the warm-up, or turn on clip_grad.");
            if (round.Index == rounds.Count - 1)
            {
                best = ranked[0];
                break;
            }
            alive = ranked.Take(rounds[round.Index + 1].Settings).Select(c => c.Search!.Unbudgeted).ToList();
        }
        var finished = searchCells.Where(c => results[c].Diverged is null).ToList();
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
            TrainableParameters = chosen.TrainableParameters,
            HeadParameters = chosen.HeadParameters,
            Variant = cell.Variant,
        };
    }

    /// <summary>
    /// The settings of <paramref name="roundCells"/> that did not diverge, best first: the higher validation top-1, ties
    /// to the smaller lr, then the smaller weight decay (VPT's <c>find_best_lrwd</c> order); exact comparisons of the
    /// recorded values, so a resumed search ranks the same way.
    /// </summary>
    private static List<GridCell> Ranked(IReadOnlyList<GridCell> roundCells, Dictionary<GridCell, CellResult> results) =>
        roundCells.Where(c => results[c].Diverged is null)
            .OrderByDescending(c => results[c].Top1).ThenBy(c => c.Search!.LearningRate)
            .ThenBy(c => c.Search!.WeightDecay)
            .ToList();

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
