using System.ComponentModel;
using System.Globalization;
using Pvp.Cli.Settings;
using Pvp.Recipes;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Pvp.Cli.Commands;

/// <summary>
/// <c>pvp plan</c>: what the recipe costs before anything trains: its cells with their search, each run's steps, and
/// from a few measured steps of its own variant and batch, the time of each stage on this device.
/// </summary>
internal sealed class PlanCommand : RecipeCommand<PlanCommand.Settings>
{
    /// <summary>What to measure.</summary>
    internal sealed class Settings : TrainingSettings
    {
        /// <summary>Steps timed per stage.</summary>
        [CommandOption("--steps <N>")]
        [Description("Training steps timed per stage, after the warm-up (default 3; the median is used).")]
        public int Steps { get; init; } = 3;

        /// <summary>Untimed steps first.</summary>
        [CommandOption("--warmup <N>")]
        [Description("Untimed training steps before the timed ones, per stage (default 1).")]
        public int Warmup { get; init; } = 1;

        /// <summary>Caps the measured batch.</summary>
        [CommandOption("--max-batch <N>")]
        [Description("Time steps of at most N images and scale per image to the stage's batch (a ViT-B/16 step of " +
                     "batch 256 takes minutes on a CPU); default: the stage's own batch.")]
        public int? MaxBatch { get; init; }

        /// <summary>The source's training image count where its data is not here.</summary>
        [CommandOption("--source-images <N>")]
        [Description("The source's training images, when its data is not on this machine (ImageNet-1k: 1281167).")]
        public int? SourceImages { get; init; }

        /// <summary>Steps only, no timing.</summary>
        [CommandOption("--no-timing")]
        [Description("Count the steps only; measure nothing.")]
        public bool NoTiming { get; init; }

        /// <summary>Only the summary.</summary>
        [CommandOption("--summary")]
        [Description("Print the stages' totals only, not a line per cell.")]
        public bool Summary { get; init; }

        /// <inheritdoc />
        public override ValidationResult Validate()
        {
            if (Steps < 1) return ValidationResult.Error($"--steps {Steps}: time at least 1 step.");
            if (Warmup < 0) return ValidationResult.Error($"--warmup {Warmup}: expected 0 or more.");
            if (MaxBatch is < 1) return ValidationResult.Error($"--max-batch {MaxBatch}: expected at least 1.");
            if (SourceImages is < 1) return ValidationResult.Error($"--source-images {SourceImages}: expected at least 1.");
            return base.Validate();
        }
    }

    /// <inheritdoc />
    protected override int Run(PvpRecipe recipe, Settings s, CancellationToken cancellationToken)
    {
        var plan = RunPlan.Of(recipe, s.SourceImages);
        PlanPrinter.Print(plan, line => AnsiConsole.WriteLine(line), cells: !s.Summary,
            s.NoTiming ? null : (stage, variant) => Measure(plan, stage, variant, s, cancellationToken));
        return 0;
    }

    private static StepTiming Measure(RunPlan plan, string stage, string? variant, Settings s,
        CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        return PlanPrinter.MeasureStage(plan, stage, variant, s.Warmup, s.Steps, s.MaxBatch);
    }
}

/// <summary>Writes a <see cref="RunPlan"/>: for <c>pvp plan</c>, and before <c>pvp submit</c> queues anything.</summary>
internal static class PlanPrinter
{
    private static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;

    /// <summary>
    /// The plan's lines to <paramref name="write"/>: every cell (unless <paramref name="cells"/> is false), each stage's
    /// runs and steps, and with <paramref name="measure"/> each stage's measured step and estimated time, and the total
    /// in device-hours.
    /// </summary>
    public static void Print(RunPlan plan, Action<string> write, bool cells, Func<string, string?, StepTiming>? measure,
        string prefix = "")
    {
        var recipe = plan.Recipe;
        void Line(string text) => write(prefix + text);
        string variants = recipe.NamesVariants
            ? $"{recipe.Variants.Count} variant(s) {string.Join(", ", recipe.Variants)} on one backbone"
            : recipe.Variant;
        Line($"plan of {recipe.Path}: {variants}, {plan.Cells.Count} stage-2 cells " +
             $"({(recipe.NamesVariants ? $"{recipe.Variants.Count} variant(s) × " : "")}" +
             $"{recipe.Stage2.Tasks.Count} task(s) × shots {string.Join("/", recipe.Stage2.Shots)} × seeds " +
             $"{string.Join("/", recipe.Stage2.Seeds)}{(recipe.Stage2.Baseline ? " × PVP and random init" : "")})");
        if (recipe.Stage2.Search is { } search)
            Line($"search: {search.LearningRates.Count} lr × {search.WeightDecays.Count} weight decay = " +
                 $"{search.LearningRates.Count * search.WeightDecays.Count} settings per cell; " +
                 $"{search.Describe(recipe.Stage2.Settings.Epochs)}" +
                 (search.Strategy == SearchStrategy.Halving
                     ? "; later rounds' survivors are known once the round before ends (their lines: CELL-search/roundN)"
                     : ""));
        if (cells)
        {
            Line($"{"index",5}  {"cell",-48} {"runs",4} {"images",7} {"batch",5} {"epochs",6} {"steps",9}");
            var index = plan.Cells.Select((c, i) => (c, i)).ToDictionary(p => p.c, p => p.i);
            foreach (var e in plan.Entries)
            {
                string at = e.Cell is { } c ? index[c].ToString(Invariant) : "";
                Line($"{at,5}  {e.Id,-48} {e.Runs,4} {e.TrainImages,7} {e.Batch,5} {e.Epochs,6} {e.Steps,9}" +
                     (e.Stage == RunPlan.StageTwo && e.Epochs == 0 ? "  (evaluates its search's choice)" : ""));
            }
        }
        double total = 0;
        bool timed = measure is not null;
        // A timed variants: recipe times stages 1 and 2 on each variant's own model, a line each: methods differ per
        // step (bench methods); untimed, each stage is one line.
        bool perVariant = timed && recipe.NamesVariants && recipe.Variants.Count > 1;
        foreach (string stage in plan.Stages)
        {
            var stageEntries = plan.Entries.Where(e => e.Stage == stage).ToList();
            var groups = perVariant && stage != RunPlan.Backbone
                ? stageEntries.GroupBy(e => e.Variant).Select(g => (g.Key, g.ToList())).ToList()
                : new List<(string?, List<PlanEntry>)> { (null, stageEntries) };
            foreach (var (variant, entries) in groups)
            {
                long steps = entries.Sum(e => e.Steps);
                string label = variant is null ? stage : $"{stage} {variant}";
                string head = $"{label}: {entries.Sum(e => e.Steps > 0 ? e.Runs : 0):N0} training run(s), {steps:N0} steps";
                if (measure is null || steps == 0)
                {
                    Line(head);
                    continue;
                }
                var timing = measure(stage, variant);
                int stageBatch = entries.Max(e => e.Batch);
                double seconds = entries.Sum(timing.SecondsFor);
                total += seconds;
                Line($"{head}; measured {timing.SecondsPerStep:F3} s/step at batch {timing.Batch} ({timing.Precision} " +
                     $"backbone, {timing.Device}; median of {timing.Steps} after {timing.Warmup} warm-up" +
                     $"{(timing.Batch < stageBatch ? $", scaled per image to batch {stageBatch}" : "")}) → " +
                     $"{Duration(seconds)}");
            }
        }
        if (timed)
            Line($"total: {plan.Entries.Sum(e => e.Steps):N0} steps, {Duration(total)} = " +
                 $"{(total / 3600).ToString("F2", Invariant)} device-hours on this device, one process, torch threads " +
                 $"{TorchSharp.torch.get_num_threads()} (training steps only: data loading and evaluation are not counted)");
        else
            Line($"total: {plan.Entries.Sum(e => e.Steps):N0} steps (time: run 'pvp plan' on the machine kind that will " +
                 "train, which times a few steps there)");
    }

    /// <summary>
    /// Times <paramref name="stage"/>'s step at its largest batch (at most <paramref name="maxBatch"/>), with the head of
    /// its largest class count (1000 where the plan does not know it), on <paramref name="variant"/>'s model (null: the
    /// recipe's first variant, and all of the stage's lines), and says so first.
    /// </summary>
    public static StepTiming MeasureStage(RunPlan plan, string stage, string? variant, int warmup, int steps,
        int? maxBatch)
    {
        var entries = plan.Entries.Where(e => e.Stage == stage && e.Steps > 0 && (variant is null || e.Variant == variant))
            .ToList();
        int batch = entries.Max(e => e.Batch);
        if (maxBatch is { } cap) batch = Math.Min(batch, cap);
        int classes = entries.Max(e => e.Classes);
        var recipe = variant is null ? plan.Recipe : plan.Recipe.ForVariant(variant);
        AnsiConsole.WriteLine($"  timing {stage}{(variant is null ? "" : $" of {variant}")}: {warmup} warm-up + " +
                              $"{steps} timed step(s) of batch {batch} …");
        return RunPlan.MeasureStep(recipe, stage, batch, classes == 0 ? 1000 : classes, warmup, steps);
    }

    private static string Duration(double seconds) => seconds switch
    {
        < 120 => $"{seconds.ToString("F1", Invariant)} s",
        < 7200 => $"{(seconds / 60).ToString("F1", Invariant)} min",
        _ => $"{(seconds / 3600).ToString("F1", Invariant)} h",
    };
}
