using Pvp.Training.Data;

namespace Pvp.Recipes.Runner;

/// <summary>
/// What every part of one run shares: the recipe and its layout, where messages go, the variant, the preprocessing
/// (chosen once), and the switches the caller set (<see cref="PvpRunner.Force"/>,
/// <see cref="PvpRunner.ClaimStaleAfter"/>).
/// </summary>
internal sealed class RunContext(PvpRecipe recipe, IRunReporter reporter)
{
    private Preprocessing? preprocessing;

    /// <summary>The recipe.</summary>
    public PvpRecipe Recipe => recipe;

    /// <summary>Where messages go.</summary>
    public IRunReporter Reporter => reporter;

    /// <summary>The run's grid and paths.</summary>
    public RunLayout Layout { get; } = new(recipe);

    /// <summary>Redo work whose fingerprint differs (its folder moved aside) instead of stopping.</summary>
    public bool Force { get; set; }

    /// <summary>How long a claim may go without a heartbeat before another process takes it over.</summary>
    public TimeSpan ClaimStaleAfter { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>The recipe's variant as registered.</summary>
    public VariantInfo Variant => VariantRegistry.Describe(recipe.Variant);

    /// <summary>The backbone's input size, at which every dataset is read.</summary>
    public int ImageSize => Variant.Backbone.ImageSize;

    /// <summary>The images' preprocessing, resolved on first use (see <see cref="PreprocessingChoice"/>).</summary>
    public Preprocessing Preprocessing => preprocessing ??= PreprocessingChoice.For(recipe);

    /// <summary>
    /// The preprocessing stage-2 cells of <paramref name="task"/> train with: the run's, with the tuning references'
    /// augmentation (see <see cref="TuningAugmentation"/>) and the task's flip.
    /// </summary>
    public Preprocessing StageTwoPreprocessing(TaskSpec task) => TuningAugmentation.For(recipe, Preprocessing, task);

    /// <summary>The stage-2 task a cell belongs to.</summary>
    /// <exception cref="ArgumentException">The recipe has no such task; the message lists its tasks.</exception>
    public TaskSpec TaskOf(GridCell cell) =>
        recipe.Stage2.Tasks.FirstOrDefault(t => t.Name == cell.Task)
        ?? throw new ArgumentException($"The recipe has no task '{cell.Task}'; its tasks are " +
                                       $"{string.Join(", ", recipe.Stage2.Tasks.Select(t => t.Name))}.");
}
