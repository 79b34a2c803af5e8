using Pvp.Training.Data;
using Pvp.Weights;

namespace Pvp.Recipes.Runner;

/// <summary>
/// Chooses a run's image normalisation, resize, crop and augmentation: the recipe's <c>preprocess:</c> over the
/// defaults of the backbone checkpoint's family (its key layout: timm, torchvision, Google's JAX .npz, Hugging Face),
/// or Pvp's own for a backbone Pvp pre-trains itself.
/// </summary>
internal static class PreprocessingChoice
{
    /// <summary>The preprocessing <paramref name="recipe"/> trains and evaluates with.</summary>
    public static Preprocessing For(PvpRecipe recipe) =>
        recipe.Preprocess.Resolve(HubConfigDefault(recipe) ?? Preprocessing.ForFamily(CheckpointFamily(recipe)));

    /// <summary>
    /// A Hub model's own preprocessing: timm's <c>config.json</c> or transformers' <c>preprocessor_config.json</c>
    /// beside its weights (<see cref="ModelConfigPreprocessing"/>); null for a file path or a model without either.
    /// </summary>
    private static Preprocessing? HubConfigDefault(PvpRecipe recipe)
    {
        if (!Pvp.Weights.Hub.HubModelId.IsHubId(recipe.BackboneWeights)) return null;
        var files = Pvp.Weights.Hub.HubWeights.Resolve(recipe.BackboneWeights!);
        return ModelConfigPreprocessing.Read(files.Config, files.PreprocessorConfig,
            Preprocessing.ForFamily(KeyLayouts.DetectFile(files.Weights)), files.Id.ToString());
    }

    /// <summary>
    /// The backbone checkpoint's family by its key layout; null (Pvp's own) when there are no weights or when the file
    /// is one Pvp's backbone pre-training wrote (timm's layout, but trained with Pvp's preprocessing).
    /// </summary>
    private static KeyLayout? CheckpointFamily(PvpRecipe recipe)
    {
        if (recipe.BackboneWeights is not { } given) return null;
        string weights = Pvp.Weights.Hub.HubWeights.LocalPath(given);
        if (!File.Exists(weights)) return null;
        if (weights.EndsWith(".safetensors", StringComparison.OrdinalIgnoreCase) &&
            SafeTensors.ReadMetadata(weights).TryGetValue("made_by", out string? madeBy) &&
            madeBy.StartsWith("pvp backbone pre-training", StringComparison.Ordinal))
            return null;
        return KeyLayouts.DetectFile(weights);
    }
}
