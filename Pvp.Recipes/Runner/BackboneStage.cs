using Pvp.Weights;
using TorchSharp;
using static TorchSharp.torch;

namespace Pvp.Recipes.Runner;

/// <summary>
/// Stage 0, when the recipe gives no backbone weights: a plain backbone of the variant's sizes trained on the source
/// classes, standing in for ImageNet-21k pre-training, saved without its head.
/// </summary>
internal sealed class BackboneStage(
    RunContext run, RunData data, RunTraining training, RunFingerprints fingerprints, FolderGuard guard,
    StageClaims claims)
{
    private const string What = "the backbone pre-training";

    private PvpRecipe Recipe => run.Recipe;

    /// <summary>
    /// Trains the backbone unless the recipe gives weights or it is done (here or by another process).
    /// </summary>
    /// <exception cref="InvalidOperationException">No plain backbone of the variant's sizes is declared.</exception>
    public void Run(CancellationToken cancellationToken)
    {
        if (Recipe.BackboneWeights is not null) return; // checked by Validate
        var layout = run.Layout;
        string path = layout.BackbonePath, sidecar = layout.BackboneSidecar;
        guard.Guard(layout.BackboneFolder, fingerprints.Backbone(), What);
        using var claim = claims.Claim(layout.BackboneFolder, () => claims.Done(sidecar, path, What), What,
            cancellationToken);
        if (claim is null)
        {
            run.Reporter.Info($"backbone: pre-trained earlier on the source classes ({path})");
            return;
        }
        var backbone = run.Variant.Backbone;
        var plain = VariantRegistry.FindPlainBackbone(backbone)
            ?? throw new InvalidOperationException(
                $"The recipe gives no backbone weights, and no plain backbone with {backbone} is declared to " +
                "pre-train one. Set backbone.weights to a pre-trained checkpoint, or declare " +
                "[VisionTransformer(...)] with the same sizes and no PETuning attributes.");
        var (sourceTrain, sourceTest) = data.Source();
        run.Reporter.Stage($"Backbone: no weights given, so a {backbone} backbone ({plain.Name}) is first trained on " +
                           $"the source classes ({Recipe.Source.Describe()}); it stands in for ImageNet-21k " +
                           "pre-training and sees no target class");
        manual_seed(Recipe.Seed);
        using var model = plain.Factory(sourceTrain.Classes.Count, null, ScalarType.Float32);
        var options = training.OptionsFor(Recipe.BackbonePretrain, Recipe.Seed, Recipe.Source);
        var result = training.Fit(model, sourceTrain, sourceTest, options, Path.Combine(Recipe.Output, "backbone"),
            RunTraining.BackboneRun, cancellationToken);
        var weights = model.state_dict().Where(p => model.KindOf(p.Key) != KindNames.Head)
            .ToDictionary(p => p.Key, p => p.Value);
        SafeTensors.Save(path, weights,
            new Dictionary<string, string> { ["made_by"] = "pvp backbone pre-training on the source classes" });
        StageClaims.WriteRecord(sidecar, new Dictionary<string, object?>
        {
            ["note"] = "backbone trained by Pvp on the recipe's source classes because no pre-trained weights " +
                       "were given",
            ["declared_by"] = plain.Name,
            ["source_dataset"] = Recipe.Source.Describe(),
            ["epochs"] = Recipe.BackbonePretrain.Epochs,
            ["final_top1"] = result.Evaluation?.Top1,
            [StageClaims.OutputHashKey] = Fingerprint.HashFile(path),
        });
        run.Reporter.Info($"backbone: source test {result.Evaluation}; saved to {path}");
    }
}
