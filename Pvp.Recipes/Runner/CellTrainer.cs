using System.Diagnostics;
using Pvp.Training.Data;
using Pvp.Training;
using static TorchSharp.torch;

namespace Pvp.Recipes.Runner;

/// <summary>
/// Trains one stage-2 cell (a plain cell, or one setting of a search) on its training images and exports its tuned
/// modules and head.
/// </summary>
internal sealed class CellTrainer(RunContext run, RunData data, RunTraining training)
{
    private PvpRecipe Recipe => run.Recipe;

    /// <summary>
    /// Trains <paramref name="cell"/>: PVP and random-init cells of the same task, shots and seed share the head's
    /// initialisation, the split and the data order, and differ only in where the PETuning modules start; a search
    /// cell differs from its siblings only in lr and weight decay, and is scored on the validation images; a final cell
    /// that trains again after its search does so with the <paramref name="chosen"/> setting.
    /// </summary>
    public CellResult Train(GridCell cell, TaskSpec task, string folder, CellClaim claim,
        CancellationToken cancellationToken, SearchSetting? chosen = null)
    {
        var (train, indices, test) = data.Cell(task, cell);
        var clock = Stopwatch.StartNew();
        manual_seed(Seeds.Mix(cell.Seed, cell.Shots, Recipe.Stage2.Tasks.ToList().IndexOf(task)));
        using var model = training.CreateModel(train.Classes.Count);
        model.LoadBackbone(run.Layout.BackbonePath);
        if (cell.PvpInit) model.ImportPetuning(run.Layout.PetuningPath);

        Directory.CreateDirectory(folder);
        string how = task.Data.TrainsOnWholeSplit
            ? $"the whole training list of {task.Data.Describe()} ({(cell.Search is null ? "final run" : "search setting")})"
            : task.Data.HasFixedSplits
            ? $"{cell.Shots}-shot split as listed in {((ListFileSpec)task.Data).TrainListFor(cell.Shots, cell.Seed)}"
            : $"{cell.Shots}-shot split of {task.Data.Describe()}, seed {cell.Seed}";
        KShotSampler.Write(train, Enumerable.Range(0, train.Count).ToList(), Path.Combine(folder, "split.txt"), how);
        var settings = training.CellSettings(cell, chosen);
        int batch = Math.Min(settings.Batch, train.Count);
        // VPT scales lr by its configured batch (tune_fgvc.py), whatever a small k-shot set makes of the actual batch.
        var options = training.CellOptionsFor(settings, cell.Seed, task) with { BatchSize = batch };
        var evaluation = cell.Search is null ? test : data.SearchValidation(task, cell, indices);
        var result = training.Fit(model, train, evaluation, options, folder, cell.Id, cancellationToken);
        ThrowIfLost(cell, claim, run.ClaimStaleAfter);
        model.ExportPetuning(Path.Combine(folder, CellSeal.TunedFile), includeHead: true);
        return new CellResult(cell.Task, cell.Shots, cell.Seed, cell.Init, result.Evaluation!.Top1,
            result.Evaluation.Top5, result.Evaluation.Loss, result.Steps, clock.Elapsed.TotalSeconds,
            model.Precision.Name)
        {
            Preprocessing = options.Preprocessing.Describe(run.ImageSize) +
                            (options.Augment ? "" : " (training augmentation off)") +
                            (options.Mixup is { } mixup ? $"; batches: {mixup.Describe()}" : ""),
            Optimizer = settings.Optimizer == OptimizerKind.Sgd ? $"SGD (momentum {settings.Momentum})" : "AdamW",
            LearningRate = options.LearningRate,
            WeightDecay = options.WeightDecay,
            EvaluatedOn = cell.Search is null ? "test" : "validation",
            TrainableParameters = model.TrainableParameterCount,
            HeadParameters = model.named_parameters()
                .Where(p => p.parameter.requires_grad && model.KindOf(p.name) == KindNames.Head)
                .Sum(p => p.parameter.numel()),
            Variant = cell.Variant,
        };
    }

    /// <summary>
    /// Stops a cell whose claim another process took over while it ran: the result is that process's to write.
    /// </summary>
    public static void ThrowIfLost(GridCell cell, CellClaim claim, TimeSpan staleAfter)
    {
        if (claim.Lost)
            throw new InvalidOperationException(
                $"Cell {cell.Id}: another process took its claim over while it ran (no heartbeat for {staleAfter}); " +
                "its result is left to that process.");
    }
}
