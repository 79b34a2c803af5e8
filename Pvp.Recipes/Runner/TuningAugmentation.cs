using Pvp.Training.Data;

namespace Pvp.Recipes.Runner;

/// <summary>
/// The training augmentation of stage 2 (few-shot tuning), which need not be pre-training's. A checkpoint family's
/// preset carries the augmentation its pre-training used (a random-resized crop over 8–100 % of the area), which can
/// wreck a few-shot run (issue 21: 1/2/4-shot top-1 near chance on digits). The tuning references tune otherwise: VPT's
/// <c>src/data/transforms.py</c> trains with Resize → RandomCrop → RandomHorizontalFlip. So stage 2 uses VPT's
/// resize → random crop → flip unless the recipe chose (<c>preprocess.train_augmentation</c>) or its preset is a tuning
/// reference's own (<c>vpt</c>, <c>noah</c>: NOAH's few-shot training keeps timm's random-resized crop). The backbone
/// pre-training and stage 1 keep the run's preprocessing, as the references pre-train with the random-resized crop. A
/// task with <c>flip: false</c> trains without the flip (digits, text, orientation labels).
/// </summary>
internal static class TuningAugmentation
{
    /// <summary>The presets whose augmentation is a tuning reference's, kept for stage 2.</summary>
    public static readonly IReadOnlyList<string> TuningPresets = new[] { "vpt", "noah" };

    /// <summary>Stage 2's preprocessing for <paramref name="task"/>, from the run's <paramref name="run"/>.</summary>
    public static Preprocessing For(PvpRecipe recipe, Preprocessing run, TaskSpec task)
    {
        // Cells that do not augment (augment: false, or the built-in images by default) train on the evaluation
        // transform: nothing to choose, and their record stays the run's.
        if (!(recipe.Stage2.Settings.Augment ?? task.Data is not BuiltinDatasetSpec)) return run;
        var result = run;
        if (recipe.Preprocess.Augmentation is null && !TuningPresets.Contains(recipe.Preprocess.Preset) &&
            run.Augmentation != TrainAugmentation.ResizeRandomCrop)
            result = result with
            {
                Name = result.Name + " + stage-2 tuning augmentation (VPT's resize → random crop → flip)",
                Augmentation = TrainAugmentation.ResizeRandomCrop,
            };
        if (task.Flip == false && result.Augmentation != TrainAugmentation.None)
            result = result with { Name = result.Name + $" + flip off for task {task.Name}", FlipProbability = 0 };
        return result;
    }
}
