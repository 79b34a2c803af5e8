using Pvp.Training.Data;
using Pvp.Recipes.Runner;
using Pvp.Training;

namespace Pvp.Recipes;

/// <summary>
/// Runs a PVP recipe: (stage 0) a backbone pre-trained on the source classes when no weights are given; stage 1,
/// the PETuning modules pre-trained on the source data with the backbone frozen; stage 2, every task × shots × seeds
/// cell from the stage-1 modules and, as the baseline, from random ones; and the results report. Every finished piece
/// is kept in the run folder and skipped when run again, so an interrupted run continues where it stopped.
/// </summary>
/// <remarks>
/// A facade over the runner's rooms (the internal classes of <c>Recipe/Runner/</c>): the run's layout, validation
/// before training, fingerprints and folder guards, the stages, the cell runner with its search, a finished cell's
/// artifacts and the report. They share one run context, so one runner reads each dataset once.
/// </remarks>
public sealed class PvpRunner
{
    /// <summary>
    /// The file a cell that failed leaves in its folder (time, host, process; the exception's type and message).
    /// </summary>
    public const string CellErrorFile = CellRunner.ErrorFile;

    private readonly PvpRecipe recipe;
    private readonly IReadOnlyList<VariantLane> lanes;
    private readonly BackboneStage backbone;

    /// <summary>
    /// A runner of <paramref name="recipe"/>; messages go to <paramref name="reporter"/> (null: the console). A
    /// <c>variants:</c> recipe runs each variant in a lane of its own (stage 1, cells, fingerprints, claims), all on one
    /// backbone and one reading of the data.
    /// </summary>
    public PvpRunner(PvpRecipe recipe, IRunReporter? reporter = null)
    {
        this.recipe = recipe;
        reporter ??= new ConsoleReporter();
        var dataComponents = new Dictionary<string, string>(StringComparer.Ordinal);
        var built = new List<VariantLane>();
        foreach (string variant in recipe.Variants)
        {
            var view = recipe.Variants.Count == 1 && !recipe.NamesVariants ? recipe : recipe.ForVariant(variant);
            built.Add(built.Count == 0
                ? new VariantLane(view, reporter, null, null, dataComponents)
                : new VariantLane(view, reporter, built[0].Data, built[0].Validation, dataComponents));
        }
        lanes = built;
        var first = lanes[0];
        backbone = new BackboneStage(first.Run, first.Data, first.Training, first.Fingerprints, first.Guard,
            first.Claims);
    }

    private RunContext First => lanes[0].Run;

    /// <summary>The recipe.</summary>
    public PvpRecipe Recipe => recipe;

    /// <summary>
    /// Redo the stages and cells whose recorded fingerprint differs from what the recipe now asks for (their old
    /// folders are kept beside, renamed <c>*.replaced-TIME</c>). Without it such a difference stops the run with the
    /// differences named.
    /// </summary>
    public bool Force
    {
        get => First.Force;
        init
        {
            foreach (var lane in lanes) lane.Run.Force = value;
        }
    }

    /// <summary>
    /// How long a cell's claim may go without a heartbeat before another process takes the cell over.
    /// </summary>
    public TimeSpan ClaimStaleAfter
    {
        get => First.ClaimStaleAfter;
        init
        {
            foreach (var lane in lanes) lane.Run.ClaimStaleAfter = value;
        }
    }

    /// <summary>Cells this runner left alone because another process holds their claim (id → who).</summary>
    public IReadOnlyDictionary<string, string> ClaimedElsewhere =>
        lanes.SelectMany(l => l.Cells.ClaimedElsewhere).ToDictionary(p => p.Key, p => p.Value, StringComparer.Ordinal);

    /// <summary>The backbone weights every stage loads.</summary>
    public string BackbonePath => First.Layout.BackbonePath;

    /// <summary>Stage 1's exported PETuning modules (in a <c>variants:</c> recipe, the first variant's).</summary>
    public string PetuningPath => First.Layout.PetuningPath;

    /// <summary>
    /// Stage 1's exported PETuning modules of <paramref name="variant"/>, one of the recipe's
    /// (<see cref="PvpRecipe.Variants"/>): <c>stage1/{variant}/petuning.safetensors</c> in a <c>variants:</c> recipe.
    /// </summary>
    /// <exception cref="ArgumentException">The recipe runs no such variant.</exception>
    public string PetuningPathOf(string variant) => LaneOf(variant).Run.Layout.PetuningPath;

    /// <summary>Whether stage 1 has finished (of every variant): its modules are there and are the file it wrote.</summary>
    public bool StageOneDone => lanes.All(l => l.StageOne.Done);

    /// <summary>Whether stage 1 of <paramref name="variant"/> has finished.</summary>
    /// <exception cref="ArgumentException">The recipe runs no such variant.</exception>
    public bool StageOneDoneOf(string variant) => LaneOf(variant).StageOne.Done;

    /// <summary>
    /// Every stage-2 cell of the recipe, in a stable order: with a search, each cell's search cells come just before
    /// it; in a <c>variants:</c> recipe, variant by variant.
    /// </summary>
    public IReadOnlyList<GridCell> Cells() => lanes.SelectMany(l => l.Run.Layout.Cells()).ToList();

    /// <summary>The folder of <paramref name="cell"/> under the run folder.</summary>
    /// <exception cref="ArgumentException">The cell names no variant of the recipe (or one where it names none).</exception>
    public string CellFolder(GridCell cell) => LaneOf(cell).Run.Layout.CellFolder(cell);

    /// <summary>
    /// The images' normalisation, resize, crop and augmentation: the recipe's <c>preprocess:</c> over the defaults of
    /// the backbone checkpoint's family (its key layout: timm, torchvision, Google's JAX .npz, Hugging Face), or Pvp's
    /// own for a backbone Pvp pre-trains itself.
    /// </summary>
    public Preprocessing Preprocessing => First.Preprocessing;

    /// <summary>
    /// The lane of <paramref name="cell"/>'s variant: a <c>variants:</c> recipe's cell names one of its variants, a
    /// one-variant recipe's names none.
    /// </summary>
    private VariantLane LaneOf(GridCell cell)
    {
        if (!recipe.NamesVariants)
            return cell.Variant is null
                ? lanes[0]
                : throw new ArgumentException(
                    $"Cell {cell.Id} names a variant, but the recipe names its one variant with 'variant:', so its " +
                    $"cell ids do not: use {(cell with { Variant = null }).Id}.");
        if (cell.Variant is null)
            throw new ArgumentException(
                $"Cell {cell.Id} names no variant, and the recipe runs {string.Join(", ", recipe.Variants)}: start the " +
                $"id with one, e.g. {(cell with { Variant = recipe.Variants[0] }).Id}.");
        return LaneOf(cell.Variant);
    }

    private VariantLane LaneOf(string variant) =>
        lanes.FirstOrDefault(l => l.Variant == variant)
        ?? throw new ArgumentException(
            $"The recipe runs no variant '{variant}'; its variants are {string.Join(", ", recipe.Variants)}.");

    /// <summary>Runs everything and writes the report.</summary>
    public ResultsReport Run(CancellationToken cancellationToken = default)
    {
        Pretrain(cancellationToken);
        Tune(null, cancellationToken);
        return Report();
    }

    /// <summary>Stage 0 (when the recipe gives no weights) and stage 1.</summary>
    public void Pretrain(CancellationToken cancellationToken = default)
    {
        Validate();
        backbone.Run(cancellationToken);
        foreach (var lane in lanes) lane.StageOne.Run(cancellationToken);
    }

    /// <summary>
    /// Stage 2: runs the cells that <paramref name="filter"/> keeps (all when null) that have no result yet.
    /// </summary>
    public IReadOnlyList<CellResult> Tune(Func<GridCell, bool>? filter = null,
        CancellationToken cancellationToken = default)
    {
        var results = new List<CellResult>();
        foreach (var lane in lanes)
        {
            var chosen = lane.Run.Layout.Cells().Where(c => filter?.Invoke(c) ?? true).ToList();
            if (chosen.Count > 0 || lanes.Count == 1) results.AddRange(lane.Cells.Tune(chosen, cancellationToken));
        }
        return results;
    }

    /// <summary>
    /// Runs the cell at <paramref name="index"/> of <see cref="Cells"/> (what a job array's task index names).
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">No such index; the message gives the range.</exception>
    public CellResult? RunCell(int index, CancellationToken cancellationToken = default)
    {
        var all = Cells();
        if (index < 0 || index >= all.Count)
            throw new ArgumentOutOfRangeException(nameof(index),
                $"Cell index {index} is outside the recipe's {all.Count} cells (0 to {all.Count - 1}).");
        return RunCell(all[index], cancellationToken);
    }

    /// <summary>
    /// Runs one cell (or returns its result if it already finished), under a claim on its folder: returns null when
    /// another process holds the claim (see <see cref="ClaimedElsewhere"/>).
    /// </summary>
    /// <exception cref="OperationCanceledException">
    /// Cancelled: the cell's checkpoint is kept and a later run resumes it.
    /// </exception>
    /// <exception cref="StaleRunException">
    /// The cell's folder holds the result of another recipe (without <see cref="Force"/>).
    /// </exception>
    /// <exception cref="ArgumentException">The cell names no variant of the recipe (or one where it names none).</exception>
    public CellResult? RunCell(GridCell cell, CancellationToken cancellationToken = default) =>
        LaneOf(cell).Cells.Run(cell, cancellationToken);

    /// <summary>
    /// Null when the cell's folder records this recipe's fingerprint for it; otherwise what differs (or that it records
    /// none): a result there is another recipe's.
    /// </summary>
    public string? DifferencesFromRecipe(GridCell cell) =>
        LaneOf(cell).Fingerprints.CellDifferences(cell) is { Count: > 0 } differences ? string.Join("; ", differences) : null;

    /// <summary>
    /// Evaluates a finished cell's saved model on its task's test split (a search cell: on the images it was scored
    /// on).
    /// </summary>
    public EvaluationResult Evaluate(GridCell cell) => LaneOf(cell).Artifacts.Evaluate(cell);

    /// <summary>
    /// Writes a finished cell's model as ONNX (see <see cref="PetModel.ExportOnnx"/>) with what deployment needs in its
    /// metadata: the task's class names and the evaluation preprocessing (<see cref="Preprocessing"/>: statistics,
    /// resize, crop, filter).
    /// </summary>
    /// <param name="cell">A finished cell.</param>
    /// <param name="path">The .onnx file.</param>
    /// <param name="lora">LoRA merged into the weights (default) or kept as separate branches.</param>
    /// <param name="testImages">
    /// A folder to write the task's test images to as PNG files, one sub-folder per class; null writes none.
    /// </param>
    /// <returns>The metadata written.</returns>
    public IReadOnlyDictionary<string, string> ExportOnnx(GridCell cell, string path,
        Onnx.OnnxLoraMode lora = Onnx.OnnxLoraMode.Merged, string? testImages = null) =>
        LaneOf(cell).Onnx.Export(cell, path, lora, testImages);

    /// <summary>
    /// Collects the finished cells of this recipe's grid and writes results.csv, results.md and accuracy_vs_shots.png.
    /// Only the recipe's own cells count, and each must have been made by this recipe (its fingerprint matches).
    /// </summary>
    /// <exception cref="StaleRunException">
    /// A finished cell was made by another recipe; the message names what changed.
    /// </exception>
    public ResultsReport Report() => ReportBuilder.Report(recipe, lanes, () =>
        RunStatus.Cells(this).Where(c => c.State != CellState.Done && c.Cell.Search is null).Select(c => c.ToString()));

    /// <summary>
    /// Re-evaluates every finished cell of the report (not the search's) on its test images and compares with what its
    /// result records: a result that training did not produce, or a model that changed since, shows here as a
    /// difference. Top-1 may differ by at most one image (another device or thread count can round one borderline
    /// logit otherwise).
    /// </summary>
    /// <returns>One line per cell that differs (empty when all agree), and how many cells were checked.</returns>
    public (IReadOnlyList<string> Differences, int Checked) Verify(CancellationToken cancellationToken = default)
    {
        var differences = new List<string>();
        int count = 0;
        foreach (var lane in lanes)
        {
            var (some, checkedHere) = lane.Artifacts.Verify(cancellationToken);
            differences.AddRange(some);
            count += checkedHere;
        }
        return (differences, count);
    }

    /// <summary>
    /// Checks everything the recipe names before any training starts, so that nothing fails hours in: the device, the
    /// output folder's writability, the backbone weights file's header, and every dataset (folders, list files, images
    /// per class against the largest shot count). Runs once per runner; also prints the device.
    /// </summary>
    /// <param name="forThisMachine">
    /// Also resolve the device here (false when the jobs will run elsewhere, as when submitting to a cluster).
    /// </param>
    /// <param name="withSource">Also read the source data (stage 1 and the backbone need it; stage 2 does not).</param>
    /// <exception cref="DatasetException">
    /// A dataset is missing or too small; the message names the task, file or class.
    /// </exception>
    public void Validate(bool forThisMachine = true, bool withSource = true) =>
        lanes[0].Validation.Validate(forThisMachine, withSource);
}
