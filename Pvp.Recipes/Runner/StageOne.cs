using static TorchSharp.torch;

namespace Pvp.Recipes.Runner;

/// <summary>
/// Stage 1: the variant's PETuning modules pre-trained on the source data with the backbone frozen, exported for
/// stage 2's PVP cells, with a sidecar recording how.
/// </summary>
internal sealed class StageOne(
    RunContext run, RunData data, RunTraining training, RunFingerprints fingerprints, FolderGuard guard,
    StageClaims claims)
{
    private PvpRecipe Recipe => run.Recipe;
    private RunLayout Layout => run.Layout;

    /// <summary>Whether stage 1 has finished: its modules are there and are the file it wrote.</summary>
    public bool Done => claims.Done(Layout.PetuningSidecar, Layout.PetuningPath, what: null);

    /// <summary>Trains stage 1 unless it is done (here or by another process); the backbone must be there.</summary>
    public void Run(CancellationToken cancellationToken)
    {
        string path = Layout.PetuningPath, sidecar = Layout.PetuningSidecar, folder = Layout.StageOneFolder;
        const string what = RunTraining.StageOneRun;
        guard.Guard(folder, fingerprints.StageOne(), what);
        using var claim = claims.Claim(folder, () => claims.Done(sidecar, path, what), what, cancellationToken);
        if (claim is null)
        {
            run.Reporter.Info($"stage 1: done earlier{(Recipe.NamesVariants ? $" for {Recipe.Variant}" : "")} ({path})");
            return;
        }
        var (sourceTrain, sourceTest) = data.Source();
        run.Reporter.Stage($"Stage 1: pre-train the PETuning modules of {Recipe.Variant} on " +
                           $"{Recipe.Source.Describe()}, backbone frozen");
        manual_seed(Recipe.Seed);
        using var model = training.CreateModel(sourceTrain.Classes.Count);
        run.Reporter.Info($"precision: {model.Precision}");
        run.Reporter.Info($"preprocessing: {run.Preprocessing.Describe(run.ImageSize)}" +
                          (Recipe.Stage1.Mixup is { } mixup ? $"; batches: {mixup.Describe()}" : ""));
        run.Reporter.Info(model.LoadBackbone(Layout.BackbonePath).ToString());
        if (model.PetuningStateDict().Count == 0)
            run.Reporter.Info($"note: {Recipe.Variant} has no PETuning modules besides its head; stage 1 leaves " +
                              "nothing to transfer.");
        var options = training.OptionsFor(Recipe.Stage1, Recipe.Seed, Recipe.Source);
        var result = training.Fit(model, sourceTrain, sourceTest, options, folder, RunTraining.StageOneRun,
            cancellationToken);
        model.ExportPetuning(path,
            metadata: new Dictionary<string, string> { ["source_dataset"] = Recipe.Source.Describe() });
        StageClaims.WriteRecord(sidecar, new Dictionary<string, object?>
        {
            ["variant"] = Recipe.Variant,
            ["backbone"] = model.Backbone.ToString(),
            ["backbone_weights"] = Layout.BackbonePath,
            ["shapes"] = model.PetuningStateDict().ToDictionary(p => p.Key, p => p.Value.shape),
            ["source_dataset"] = Recipe.Source.Describe(),
            ["source_classes"] = sourceTrain.Classes.Count,
            ["precision"] = model.Precision.Name,
            ["preprocessing"] = options.Preprocessing.Describe(run.ImageSize),
            ["augment"] = options.Augment,
            ["optimizer"] = Recipe.Stage1.Optimizer.ToString(),
            ["lr"] = options.LearningRate,
            ["epochs"] = Recipe.Stage1.Epochs,
            ["steps"] = result.Steps,
            ["final_top1"] = result.Evaluation?.Top1,
            ["final_top5"] = result.Evaluation?.Top5,
            [StageClaims.OutputHashKey] = Fingerprint.HashFile(path),
        });
        run.Reporter.Info($"stage 1: source test {result.Evaluation}; PETuning modules saved to {path}");
    }
}
