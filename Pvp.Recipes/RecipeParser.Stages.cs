using Pvp.MixedPrecision;
using Pvp.Training;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;
using Pvp.Optim;

namespace Pvp.Recipes;

// The stage sections: training settings, mixup, the stage-2 search.
public static partial class RecipeParser
{
    private static StageSettings ReadStage(YamlSection? section, StageSettings defaults)
    {
        if (section is null) return defaults;
        var settings = ReadStageFields(section, defaults);
        section.Finish();
        return settings;
    }

    /// <summary>
    /// A stage's fields. <c>protocol: vpt</c> changes the defaults of the optimizer fields to VPT's (SGD, momentum 0.9,
    /// lr scaled by batch / 256, decay on every trainable parameter but the classifier's bias, the schedule stepped per
    /// epoch); keys given still win.
    /// </summary>
    private static StageSettings ReadStageFields(YamlSection s, StageSettings d)
    {
        if (s.Has("eval_crop"))
            throw s.Error(s.NodeOf("eval_crop")!,
                $"{s.Path}.eval_crop: the evaluation crop is now one setting for every stage, since the checkpoint expects it: " +
                "write it as preprocess.crop_fraction (top level).");
        bool vpt = s.Choice("protocol", "pvp", "pvp", "vpt") == "vpt";
        var settings = new StageSettings(
            s.Int("epochs", d.Epochs, min: 1, max: 100_000),
            s.Double("lr", d.LearningRate, min: 0, max: 1000, exclusiveMin: true),
            s.Int("batch", d.Batch, min: 1, max: 65_536),
            s.Double("warmup", d.WarmupEpochs, min: 0, max: 100_000),
            s.Double("weight_decay", d.WeightDecay, min: 0, max: 100),
            s.Double("label_smoothing", d.LabelSmoothing, min: 0, max: 0.999),
            s.Double("clip_grad", d.ClipGrad, min: 0, max: 1e9),
            s.OptionalBool("augment") ?? d.Augment,
            s.Int("checkpoint_every_steps", d.CheckpointEverySteps, min: 0, max: 1_000_000_000))
        {
            Optimizer = s.Choice("optimizer", vpt ? "sgd" : "adamw", "adamw", "sgd") == "sgd"
                ? OptimizerKind.Sgd
                : OptimizerKind.AdamW,
            Momentum = s.Double("momentum", 0.9, min: 0, max: 0.999),
            ScaleLrByBatch = s.Choice("lr_scaling", vpt ? "batch/256" : "none", "none", "batch/256") == "batch/256",
            Decay = s.Choice("decay", vpt ? "all" : "weights", "weights", "all") == "all" ? DecayRule.All : DecayRule.Pvp,
            ScheduleByEpoch = s.Choice("schedule", vpt ? "per_epoch" : "per_step", "per_step", "per_epoch") == "per_epoch",
            DropPath = s.Double("drop_path", d.DropPath, min: 0, max: 0.999),
            Mixup = s.Has("mixup") ? ReadMixup(s) : d.Mixup,
        };
        if (settings.Mixup is not null && settings.LabelSmoothing > 0)
            throw s.Error(s.NodeOf("label_smoothing") ?? s.NodeOf("mixup")!,
                $"{s.Path}.label_smoothing: with mixup the targets are smoothed by mixup.label_smoothing (timm's Mixup); " +
                "move the value there and remove label_smoothing.");
        if (settings.Mixup is not null && settings.Batch % 2 != 0)
            throw s.Error(s.NodeOf("batch") ?? s.NodeOf("mixup")!,
                $"{s.Path}.batch: {settings.Batch} is odd, and mixup (timm's batch mode) pairs each image with its mirror " +
                "in the batch; choose an even batch or remove mixup.");
        if (settings.Optimizer == OptimizerKind.AdamW && s.Has("momentum"))
            throw s.Error(s.NodeOf("momentum")!,
                $"{s.Path}.momentum: momentum is SGD's; this stage uses AdamW (set optimizer: sgd, or remove momentum).");
        return settings;
    }

    /// <summary>
    /// A stage's <c>mixup:</c> section: timm's <c>Mixup</c> arguments, each defaulting to NOAH's value
    /// (mixup_alpha 0.8, cutmix_alpha 1.0, prob 1.0, switch_prob 0.5, label_smoothing 0.1).
    /// </summary>
    private static Pvp.Training.Data.Mixup ReadMixup(YamlSection stage)
    {
        var m = stage.OptionalSection("mixup") ?? throw stage.Error(stage.NodeOf("mixup")!,
            $"{stage.Path}.mixup: is empty; write 'mixup: {{}}' for NOAH's values (mixup_alpha 0.8, cutmix_alpha 1.0, " +
            "prob 1.0, switch_prob 0.5, label_smoothing 0.1), or remove the key.");
        var mixup = new Pvp.Training.Data.Mixup(
            m.Double("mixup_alpha", 0.8, min: 0, max: 100),
            m.Double("cutmix_alpha", 1.0, min: 0, max: 100),
            m.Double("prob", 1.0, min: 0, max: 1),
            m.Double("switch_prob", 0.5, min: 0, max: 1),
            m.Double("label_smoothing", 0.1, min: 0, max: 0.999));
        if (mixup.MixupAlpha == 0 && mixup.CutmixAlpha == 0)
            throw m.Error($"{m.Path}: mixup_alpha and cutmix_alpha are both 0, so nothing would mix; " +
                          "give one a positive value or remove mixup.");
        m.Finish();
        return mixup;
    }

    private static SearchSpec? ReadSearch(YamlSection stage2, YamlSection? s, int epochs)
    {
        if (s is null)
        {
            // Present but empty (every line commented out, say) is not
            // the same as absent: say so rather than search nothing.
            if (stage2.Has("search"))
                throw stage2.Error(stage2.NodeOf("search")!,
                    "stage2.search: is empty; give lr and weight_decay lists, write 'search: {}' for VPT's grid, " +
                    "or remove the key.");
            return null;
        }
        // VPT's tune_fgvc.py grid for prompts (lr before scaling by batch / 256) and its weight decays.
        var search = new SearchSpec(
            s.DoubleList("lr", new[] { 50.0, 25, 10, 5, 2.5, 1, 0.5, 0.25, 0.1 }, min: 1e-12, max: 1000),
            s.DoubleList("weight_decay", new[] { 0.01, 0.001, 0.0001, 0.0 }, min: 0, max: 100),
            s.Int("val_per_class", 5, min: 1, max: 100_000));
        bool halving = s.Choice("strategy", "full", "full", "halving") == "halving";
        if (!halving)
        {
            foreach (string key in new[] { "eta", "first_budget" })
                if (s.Has(key))
                    throw s.Error(s.NodeOf(key)!,
                        $"stage2.search.{key}: applies to successive halving only; add 'strategy: halving' or remove {key}.");
            s.Finish();
            return search;
        }
        if (!s.Has("first_budget"))
            throw s.Error($"stage2.search: strategy halving needs first_budget, the first round's epochs (at least 1, at " +
                          $"most stage2.epochs = {epochs}), e.g. first_budget: {Math.Max(1, epochs / 9)}.");
        var etaNode = s.NodeOf("eta");
        int eta = s.Int("eta", 3, min: int.MinValue, max: 1_000);
        if (eta < 2)
            throw s.Error(etaNode!, $"stage2.search.eta: {eta} keeps every setting (or none) each round; give 2 or more " +
                                    "(3 is Hyperband's default: keep the best third, triple the budget).");
        var budgetNode = s.NodeOf("first_budget")!;
        int firstBudget = s.Int("first_budget", null, min: int.MinValue, max: int.MaxValue);
        if (firstBudget <= 0 || firstBudget > epochs)
            throw s.Error(budgetNode, $"stage2.search.first_budget: {firstBudget} epochs; the first round trains for at " +
                                      $"least 1 and at most stage2.epochs ({epochs}) epochs: give a number in that range " +
                                      $"(e.g. {Math.Max(1, epochs / 9)}).");
        s.Finish();
        return search with { Strategy = SearchStrategy.Halving, Eta = eta, FirstBudget = firstBudget };
    }
}
