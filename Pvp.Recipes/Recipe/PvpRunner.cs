using System.Diagnostics;
using System.Text.Json;
using Pvp.Data;
using Pvp.Training;
using Pvp.Weights;
using TorchSharp;
using static TorchSharp.torch;

namespace Pvp.Recipe;

/// <summary>
/// Runs a PVP recipe: (stage 0) a backbone pre-trained on the source classes when no weights are given; stage 1,
/// the PETuning modules pre-trained on the source data with the backbone frozen; stage 2, every task × shots × seeds
/// cell from the stage-1 modules and, as the baseline, from random ones; and the results report. Every finished piece
/// is kept in the run folder and skipped when run again, so an interrupted run continues where it stopped.
/// </summary>
public sealed class PvpRunner(PvpRecipe recipe, IRunReporter? reporter = null)
{
    private const string StageOneRun = "stage 1";

    /// <summary>The file a cell that failed leaves in its folder (time, host, process; the exception's type and message).</summary>
    public const string CellErrorFile = "error.txt";
    private readonly IRunReporter reporter = reporter ?? new ConsoleReporter();
    private readonly Dictionary<string, TaskImages> taskData = new();
    private readonly Dictionary<(string Task, int Shots, int Seed), IImageDataset> fixedTrain = new();
    private Preprocessing? preprocessing;
    private VariantInfo Variant => VariantRegistry.Describe(recipe.Variant);
    private int ImageSize => Variant.Backbone.ImageSize;

    /// <summary>The recipe.</summary>
    public PvpRecipe Recipe => recipe;

    /// <summary>
    /// Redo the stages and cells whose recorded fingerprint differs from what the recipe now asks for (their old folders are
    /// kept beside, renamed <c>*.replaced-TIME</c>). Without it such a difference stops the run with the differences named.
    /// </summary>
    public bool Force { get; init; }

    /// <summary>How long a cell's claim may go without a heartbeat before another process takes the cell over.</summary>
    public TimeSpan ClaimStaleAfter { get; init; } = TimeSpan.FromMinutes(10);

    /// <summary>Cells this runner left alone because another process holds their claim (id → who).</summary>
    public IReadOnlyDictionary<string, string> ClaimedElsewhere => claimedElsewhere;

    private readonly Dictionary<string, string> claimedElsewhere = new(StringComparer.Ordinal);
    private bool validated, sourceValidated;
    private IImageDataset? sourceTrain, sourceTest;

    /// <summary>The backbone weights every stage loads.</summary>
    public string BackbonePath => recipe.BackboneWeights ?? Path.Combine(recipe.Output, "backbone", "backbone.safetensors");

    /// <summary>Stage 1's exported PETuning modules.</summary>
    public string PetuningPath => Path.Combine(recipe.Output, "stage1", "petuning.safetensors");

    /// <summary>Every stage-2 cell of the recipe, in a stable order: with a search, each cell's search cells come just before it.</summary>
    public IReadOnlyList<GridCell> Cells() =>
        (from task in recipe.Stage2.Tasks
         from shots in recipe.Stage2.Shots
         from seed in recipe.Stage2.Seeds
         from pvp in recipe.Stage2.Baseline ? new[] { true, false } : new[] { true }
         from search in SearchSettings().Append(null)
         select new GridCell(task.Name, shots, seed, pvp, search)).ToList();

    private IEnumerable<SearchSetting?> SearchSettings() => recipe.Stage2.Search?.Settings() ?? (IEnumerable<SearchSetting?>)Array.Empty<SearchSetting?>();

    /// <summary>
    /// The images' normalisation, resize, crop and augmentation: the recipe's <c>preprocess:</c> over the defaults of the
    /// backbone checkpoint's family (its key layout: timm, torchvision, Google's JAX .npz, Hugging Face), or Pvp's own for a
    /// backbone Pvp pre-trains itself.
    /// </summary>
    public Preprocessing Preprocessing => preprocessing ??= recipe.Preprocess.Resolve(Preprocessing.ForFamily(CheckpointFamily()));

    /// <summary>
    /// The backbone checkpoint's family by its key layout; null (Pvp's own) when there are no weights or when the file is one
    /// Pvp's backbone pre-training wrote (timm's layout, but trained with Pvp's preprocessing).
    /// </summary>
    private KeyLayout? CheckpointFamily()
    {
        if (recipe.BackboneWeights is not { } weights || !File.Exists(weights)) return null;
        if (weights.EndsWith(".safetensors", StringComparison.OrdinalIgnoreCase) &&
            SafeTensors.ReadMetadata(weights).TryGetValue("made_by", out string? madeBy) && madeBy.StartsWith("pvp backbone pre-training", StringComparison.Ordinal))
            return null;
        return KeyLayouts.DetectFile(weights);
    }

    /// <summary>Trainer options of a stage on <paramref name="data"/> (the built-in images, rendered at the model's size, are not augmented unless the stage says so).</summary>
    private TrainerOptions OptionsFor(StageSettings settings, int seed, DatasetSpec data) =>
        settings.ToOptions(recipe.Device, seed, recipe.Workers, Preprocessing, augmentByDefault: data is not BuiltinDatasetSpec);

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
        EnsureBackbone(cancellationToken);
        string sidecar = Path.ChangeExtension(PetuningPath, ".json");
        Guard(Path.Combine(recipe.Output, "stage1"), StageOneFingerprint(), "stage 1");
        using var claim = ClaimStage(Path.Combine(recipe.Output, "stage1"), () => StageDone(sidecar, PetuningPath, "stage 1"), "stage 1", cancellationToken);
        if (claim is null)
        {
            reporter.Info($"stage 1: done earlier ({PetuningPath})");
            return;
        }
        var (sourceTrain, sourceTest) = SourceData();
        reporter.Stage($"Stage 1: pre-train the PETuning modules of {recipe.Variant} on {recipe.Source.Describe()}, backbone frozen");
        manual_seed(recipe.Seed);
        using var model = CreateModel(sourceTrain.Classes.Count);
        reporter.Info($"precision: {model.Precision}");
        reporter.Info($"preprocessing: {Preprocessing.Describe(ImageSize)}");
        reporter.Info(model.LoadBackbone(BackbonePath).ToString());
        if (model.PetuningStateDict().Count == 0)
            reporter.Info($"note: {recipe.Variant} has no PETuning modules besides its head; stage 1 leaves nothing to transfer.");
        var options = OptionsFor(recipe.Stage1, recipe.Seed, recipe.Source);
        var result = Fit(model, sourceTrain, sourceTest, options, Path.Combine(recipe.Output, "stage1"), StageOneRun, cancellationToken);
        model.ExportPetuning(PetuningPath, metadata: new Dictionary<string, string> { ["source_dataset"] = recipe.Source.Describe() });
        var record = new Dictionary<string, object?>
        {
            ["variant"] = recipe.Variant,
            ["backbone"] = model.Backbone.ToString(),
            ["backbone_weights"] = BackbonePath,
            ["shapes"] = model.PetuningStateDict().ToDictionary(p => p.Key, p => p.Value.shape),
            ["source_dataset"] = recipe.Source.Describe(),
            ["source_classes"] = sourceTrain.Classes.Count,
            ["precision"] = model.Precision.Name,
            ["preprocessing"] = options.Preprocessing.Describe(ImageSize),
            ["augment"] = options.Augment,
            ["optimizer"] = recipe.Stage1.Optimizer.ToString(),
            ["lr"] = options.LearningRate,
            ["epochs"] = recipe.Stage1.Epochs,
            ["steps"] = result.Steps,
            ["final_top1"] = result.Evaluation?.Top1,
            ["final_top5"] = result.Evaluation?.Top5,
            [OutputHashKey] = Fingerprint.HashFile(PetuningPath),
        };
        WriteJson(sidecar, record);
        reporter.Info($"stage 1: source test {result.Evaluation}; PETuning modules saved to {PetuningPath}");
    }

    /// <summary>Stage 2: runs the cells that <paramref name="filter"/> keeps (all when null) that have no result yet.</summary>
    public IReadOnlyList<CellResult> Tune(Func<GridCell, bool>? filter = null, CancellationToken cancellationToken = default)
    {
        var cells = Cells().Where(c => filter?.Invoke(c) ?? true).ToList();
        Validate(withSource: false);
        reporter.Stage($"Stage 2: {cells.Count} few-shot runs ({string.Join(", ", recipe.Stage2.Tasks.Select(t => t.Name))}; " +
                       $"shots {string.Join("/", recipe.Stage2.Shots)}; seeds {string.Join("/", recipe.Stage2.Seeds)}" +
                       $"{(recipe.Stage2.Baseline ? "; PVP and random init" : "")})");
        var results = new List<CellResult>();
        foreach (var cell in cells)
            if (RunCell(cell, cancellationToken) is { } result) results.Add(result);
        if (claimedElsewhere.Count > 0)
            reporter.Info($"{claimedElsewhere.Count} cell(s) left to other processes that hold their claims: " +
                          string.Join("; ", claimedElsewhere.Take(5).Select(p => $"{p.Key} by {p.Value}")) + (claimedElsewhere.Count > 5 ? "; …" : ""));
        return results;
    }

    /// <summary>Runs the cell at <paramref name="index"/> of <see cref="Cells"/> (what a job array's task index names).</summary>
    /// <exception cref="ArgumentOutOfRangeException">No such index; the message gives the range.</exception>
    public CellResult? RunCell(int index, CancellationToken cancellationToken = default)
    {
        var cells = Cells();
        if (index < 0 || index >= cells.Count)
            throw new ArgumentOutOfRangeException(nameof(index), $"Cell index {index} is outside the recipe's {cells.Count} cells (0 to {cells.Count - 1}).");
        return RunCell(cells[index], cancellationToken);
    }

    /// <summary>
    /// Runs one cell (or returns its result if it already finished), under a claim on its folder: returns null when another
    /// process holds the claim (see <see cref="ClaimedElsewhere"/>).
    /// </summary>
    /// <exception cref="OperationCanceledException">Cancelled: the cell's checkpoint is kept and a later run resumes it.</exception>
    /// <exception cref="StaleRunException">The cell's folder holds the result of another recipe (without <see cref="Force"/>).</exception>
    public CellResult? RunCell(GridCell cell, CancellationToken cancellationToken = default)
    {
        Validate(withSource: false);
        string folder = CellFolder(cell);
        string resultPath = Path.Combine(folder, "result.json");
        var task = recipe.Stage2.Tasks.FirstOrDefault(t => t.Name == cell.Task)
                   ?? throw new ArgumentException($"The recipe has no task '{cell.Task}'; its tasks are {string.Join(", ", recipe.Stage2.Tasks.Select(t => t.Name))}.");
        if (cell.PvpInit && !File.Exists(PetuningPath))
            throw new InvalidOperationException($"Cell {cell.Id} starts from stage 1's modules, but '{PetuningPath}' does not exist: run 'pretrain' first.");
        CheckUpstream();
        var fingerprint = CellFingerprint(cell);
        if (File.Exists(resultPath))
        {
            Guard(folder, fingerprint, $"cell {cell.Id}", broken: CellSeal.Broken(folder));
            if (File.Exists(resultPath))
            {
                claimedElsewhere.Remove(cell.Id);
                return CellResult.Load(resultPath);
            }
        }
        using var claim = CellClaim.TryTake(folder, ClaimStaleAfter, out string heldBy);
        if (claim is null)
        {
            claimedElsewhere[cell.Id] = heldBy;
            return null;
        }
        claimedElsewhere.Remove(cell.Id);
        Guard(folder, fingerprint, $"cell {cell.Id}", keep: CellClaim.FileName, broken: File.Exists(resultPath) ? CellSeal.Broken(folder) : null);
        if (File.Exists(resultPath)) return CellResult.Load(resultPath); // finished by another process just before the claim
        string errorPath = Path.Combine(folder, CellErrorFile);
        File.Delete(errorPath); // a new attempt: an earlier failure no longer describes the cell
        CellResult outcome;
        try
        {
            try
            {
                outcome = cell.Search is null && recipe.Stage2.Search is not null
                    ? FinishSearch(cell, task, claim, cancellationToken)
                    : Train(cell, task, folder, claim, cancellationToken);
            }
            catch (TrainingDivergedException e) when (cell.Search is not null)
            {
                // One setting of a search that diverges is an outcome of the search, as in VPT's grid: recorded, and passed over.
                outcome = new CellResult(cell.Task, cell.Shots, cell.Seed, cell.Init, 0, 0, 0, e.Step, 0, "n/a")
                {
                    Diverged = e.Message, LearningRate = e.LearningRate, WeightDecay = cell.Search.WeightDecay, EvaluatedOn = "validation",
                };
            }
            CellSeal.Save(folder, outcome);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // Left in the cell's folder for `pvp status` and `pvp report` (and a cluster's log): what failed, where, when.
            Checkpoints.AtomicFile.Write(errorPath, temp => File.WriteAllText(temp,
                $"{DateTime.UtcNow:O} {Environment.MachineName} process {Environment.ProcessId}{Environment.NewLine}{e.GetType().Name}: {e.Message}{Environment.NewLine}"));
            throw;
        }
        if (outcome.Diverged is not null)
        {
            reporter.Info($"{cell.Id,-32} diverged (passed over by the search): {outcome.Diverged}");
            return outcome;
        }
        reporter.Info($"{cell.Id,-32} {(cell.Search is null ? "top-1" : "val top-1")} {100 * outcome.Top1,6:F2}%  ({outcome.Seconds:F1} s, {outcome.Precision} backbone" +
                      $"{(outcome.Chosen is { } chosen && cell.Search is null ? $", chosen {chosen}" : "")})");
        return outcome;
    }

    /// <summary>
    /// Trains one cell (a plain cell, or one setting of a search) on its training images: PVP and random-init cells of the
    /// same task, shots and seed share the head's initialisation, the split and the data order, and differ only in where
    /// the PETuning modules start; a search cell differs from its siblings only in lr and weight decay, and is scored on
    /// the validation images.
    /// </summary>
    private CellResult Train(GridCell cell, TaskSpec task, string folder, CellClaim claim, CancellationToken cancellationToken)
    {
        var (train, indices, test) = CellImages(task, cell);
        var clock = Stopwatch.StartNew();
        manual_seed(Seeds.Mix(cell.Seed, cell.Shots, recipe.Stage2.Tasks.ToList().IndexOf(task)));
        using var model = CreateModel(train.Classes.Count);
        model.LoadBackbone(BackbonePath);
        if (cell.PvpInit) model.ImportPetuning(PetuningPath);

        Directory.CreateDirectory(folder);
        string how = task.Data.HasFixedSplits
            ? $"{cell.Shots}-shot split as listed in {((ListFileSpec)task.Data).TrainListFor(cell.Shots, cell.Seed)}"
            : $"{cell.Shots}-shot split of {task.Data.Describe()}, seed {cell.Seed}";
        KShotSampler.Write(train, Enumerable.Range(0, train.Count).ToList(), Path.Combine(folder, "split.txt"), how);
        var settings = CellSettings(cell);
        int batch = Math.Min(settings.Batch, train.Count);
        // VPT scales lr by its configured batch (tune_fgvc.py), whatever a small k-shot set makes of the actual batch.
        var options = OptionsFor(settings, cell.Seed, task.Data) with { BatchSize = batch };
        var evaluation = cell.Search is null ? test : SearchValidation(task, cell, indices);
        var result = Fit(model, train, evaluation, options, folder, cell.Id, cancellationToken);
        ThrowIfLost(cell, claim);
        model.ExportPetuning(Path.Combine(folder, "tuned.safetensors"), includeHead: true);
        return new CellResult(cell.Task, cell.Shots, cell.Seed, cell.Init, result.Evaluation!.Top1, result.Evaluation.Top5,
            result.Evaluation.Loss, result.Steps, clock.Elapsed.TotalSeconds, model.Precision.Name)
        {
            Preprocessing = options.Preprocessing.Describe(ImageSize) + (options.Augment ? "" : " (training augmentation off)"),
            Optimizer = settings.Optimizer == OptimizerKind.Sgd ? $"SGD (momentum {settings.Momentum})" : "AdamW",
            LearningRate = options.LearningRate, WeightDecay = options.WeightDecay,
            EvaluatedOn = cell.Search is null ? "test" : "validation",
        };
    }

    /// <summary>Stops a cell whose claim another process took over while it ran: the result is that process's to write.</summary>
    private void ThrowIfLost(GridCell cell, CellClaim claim)
    {
        if (claim.Lost)
            throw new InvalidOperationException($"Cell {cell.Id}: another process took its claim over while it ran (no heartbeat for {ClaimStaleAfter}); its result is left to that process.");
    }

    /// <summary>The stage-2 settings a cell trains with: a search cell's lr and weight decay in place of the recipe's.</summary>
    private StageSettings CellSettings(GridCell cell) => cell.Search is { } s
        ? recipe.Stage2.Settings with { LearningRate = s.LearningRate, WeightDecay = s.WeightDecay }
        : recipe.Stage2.Settings;

    /// <summary>
    /// A cell whose recipe searches: makes sure every search cell has finished (running those no one holds, waiting for
    /// those another process runs), picks the best validation top-1 (ties: the smaller lr, then the smaller decay, as VPT's
    /// <c>find_best_lrwd</c>), and reports that run's model on the test images. Training again with the same setting, seed
    /// and images would repeat that very run, so the chosen run's model is the one evaluated.
    /// </summary>
    private CellResult FinishSearch(GridCell cell, TaskSpec task, CellClaim claim, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        var searchCells = SearchSettings().Select(setting => cell with { Search = setting }).ToList();
        var results = new Dictionary<GridCell, CellResult>();
        bool said = false;
        while (true)
        {
            foreach (var searchCell in searchCells.Where(c => !results.ContainsKey(c)))
                if (RunCell(searchCell, cancellationToken) is { } r) results[searchCell] = r;
            if (results.Count == searchCells.Count) break;
            if (!said) reporter.Info($"{cell.Id}: waiting for {searchCells.Count - results.Count} search cell(s) that other processes run");
            said = true;
            cancellationToken.WaitHandle.WaitOne(TimeSpan.FromSeconds(2));
            cancellationToken.ThrowIfCancellationRequested();
        }
        var finished = searchCells.Where(c => results[c].Diverged is null).ToList();
        if (finished.Count == 0)
            throw new InvalidOperationException($"Cell {cell.Id}: every setting of its search diverged ({string.Join(", ", searchCells.Select(c => c.Search!.Id))}); " +
                                                "lower the learning rates searched, raise the warm-up, or turn on clip_grad.");
        var best = finished
            .OrderByDescending(c => results[c].Top1).ThenBy(c => c.Search!.LearningRate).ThenBy(c => c.Search!.WeightDecay)
            .First();
        var chosen = results[best];
        ThrowIfLost(cell, claim);
        string chosenModel = Path.Combine(CellFolder(best), "tuned.safetensors");
        string folder = CellFolder(cell);
        Directory.CreateDirectory(folder);
        Checkpoints.AtomicFile.Write(Path.Combine(folder, "tuned.safetensors"), temp => File.Copy(chosenModel, temp, overwrite: true));
        var (train, _, test) = CellImages(task, cell);
        using var model = VariantRegistry.Create(recipe.Variant, train.Classes.Count, Devices.Resolve(recipe.Device), precision: PrecisionOf(chosen));
        model.LoadBackbone(BackbonePath);
        model.ImportPetuning(chosenModel, includeHead: true);
        var evaluation = Trainer.Evaluate(model, test, recipe.Stage2.Settings.Batch, recipe.Workers, Preprocessing);
        return new CellResult(cell.Task, cell.Shots, cell.Seed, cell.Init, evaluation.Top1, evaluation.Top5, evaluation.Loss,
            chosen.Steps, chosen.Seconds + clock.Elapsed.TotalSeconds, chosen.Precision)
        {
            Preprocessing = chosen.Preprocessing, Optimizer = chosen.Optimizer, LearningRate = chosen.LearningRate, WeightDecay = chosen.WeightDecay,
            Chosen = best.Search!.Id,
            SearchScores = finished.ToDictionary(c => c.Search!.Id, c => results[c].Top1),
            SearchDiverged = searchCells.Where(c => results[c].Diverged is not null).Select(c => c.Search!.Id).ToList() is { Count: > 0 } diverged ? diverged : null,
        };
    }

    /// <summary>The precision a finished cell was trained in (its result records it), whatever this host would choose now.</summary>
    private Pvp.Precision.BackbonePrecision PrecisionOf(CellResult result) =>
        Variant.AllowsBf16Backbone ? (result.Precision == "bf16" ? Pvp.Precision.BackbonePrecision.Bf16 : Pvp.Precision.BackbonePrecision.Float32) : recipe.Precision;

    /// <summary>
    /// The images a search cell is scored on: the task's validation split, or — when it has none — <c>val_per_class</c>
    /// images per class drawn (seeded by the cell's seed and shots) from the training pool minus the cell's training images.
    /// </summary>
    private IImageDataset SearchValidation(TaskSpec task, GridCell cell, IReadOnlyList<int>? trainIndices)
    {
        var images = TaskData(task);
        if (images.Validation is { } given) return given;
        var pool = images.Pool ?? throw new DatasetException(
            $"stage2 task '{task.Name}': the search needs validation images, and its training lists are fixed, so none can be carved from them; give the task a val list.");
        int perClass = recipe.Stage2.Search!.ValPerClass;
        // Disjoint by image, not by position: a list that names an image twice must not put its other copy in validation.
        var taken = new HashSet<string>((trainIndices ?? Array.Empty<int>()).Select(pool.NameOf), StringComparer.Ordinal);
        var chosen = KShotSampler.Draw(pool, perClass, c => Seeds.Mix(cell.Seed, cell.Shots, 1_000_003 + c), taken,
            (c, available) => new DatasetException($"stage2 task '{task.Name}': class '{pool.Classes[c]}' has {available} training image(s) besides the {cell.Shots}-shot split, " +
                                                   $"fewer than the search's val_per_class ({perClass}); lower it, or give the task a val split."));
        return pool.Subset(chosen);
    }

    /// <summary>A cell's training images (with their indices in the pool when sampled) and the task's test images.</summary>
    private (IImageDataset Train, IReadOnlyList<int>? Indices, IImageDataset Test) CellImages(TaskSpec task, GridCell cell)
    {
        var images = TaskData(task);
        if (task.Data.HasFixedSplits)
        {
            var key = (task.Name, cell.Shots, cell.Seed);
            if (!fixedTrain.TryGetValue(key, out var list)) fixedTrain[key] = list = task.Data.FixedTrain(cell.Shots, cell.Seed, ImageSize);
            return (list, null, images.Test);
        }
        var indices = KShotSampler.Sample(images.Pool!, cell.Shots, cell.Seed);
        return (images.Pool!.Subset(indices), indices, images.Test);
    }

    /// <summary>
    /// Null when the cell's folder records this recipe's fingerprint for it; otherwise what differs (or that it records
    /// none): a result there is another recipe's.
    /// </summary>
    public string? DifferencesFromRecipe(GridCell cell)
    {
        var recorded = Fingerprint.Load(CellFolder(cell));
        if (recorded is null) return "it records no fingerprint";
        var differences = CellFingerprint(cell).DifferencesFrom(recorded);
        return differences.Count == 0 ? null : string.Join("; ", differences);
    }

    /// <summary>Evaluates a finished cell's saved model on its task's test split (a search cell: on the images it was scored on).</summary>
    public EvaluationResult Evaluate(GridCell cell)
    {
        var (model, _, test) = LoadCell(cell);
        using (model)
            return Trainer.Evaluate(model, test, recipe.Stage2.Settings.Batch, recipe.Workers, Preprocessing);
    }

    /// <summary>
    /// Writes a finished cell's model as ONNX (see <see cref="PetModel.ExportOnnx"/>) with what deployment needs in its
    /// metadata: the task's class names and the evaluation preprocessing (<see cref="Preprocessing"/>: statistics, resize, crop, filter).
    /// </summary>
    /// <param name="cell">A finished cell.</param>
    /// <param name="path">The .onnx file.</param>
    /// <param name="lora">LoRA merged into the weights (default) or kept as separate branches.</param>
    /// <param name="testImages">A folder to write the task's test images to as PNG files, one sub-folder per class; null writes none.</param>
    /// <returns>The metadata written.</returns>
    public IReadOnlyDictionary<string, string> ExportOnnx(GridCell cell, string path, Onnx.OnnxLoraMode lora = Onnx.OnnxLoraMode.Merged, string? testImages = null)
    {
        // Every output is checked before the first is written: a failure must not leave one of them behind.
        EnsureWritable(Path.GetDirectoryName(Path.GetFullPath(path))!, "The folder of the ONNX file", "choose another --onnx path");
        if (testImages is not null) EnsureWritable(testImages, "The test-images folder", "choose another --test-images folder");
        var (model, train, test) = LoadCell(cell);
        using (model)
        {
            var metadata = model.ExportOnnx(path, new Onnx.OnnxExportOptions
            {
                Lora = lora,
                Preprocessing = new Onnx.OnnxPreprocessing(new[] { Preprocessing.Mean.R, Preprocessing.Mean.G, Preprocessing.Mean.B },
                    new[] { Preprocessing.Std.R, Preprocessing.Std.G, Preprocessing.Std.B }, Preprocessing.CropFraction)
                {
                    Resize = Preprocessing.Resize == ResizeMode.Squash ? "square" : "short_side",
                    Interpolation = Preprocessing.Interpolation == Interpolation.Bilinear ? "bilinear" : "bicubic",
                    Description = Preprocessing.Describe(ImageSize),
                },
                ClassNames = train.Classes,
                Metadata = new Dictionary<string, string>
                {
                    ["pvp.cell"] = cell.Id,
                    ["pvp.task"] = cell.Task,
                    ["pvp.dataset"] = recipe.Stage2.Tasks.First(t => t.Name == cell.Task).Data.Describe(),
                },
            });
            if (testImages is not null) WriteImages(test, testImages);
            return metadata;
        }
    }

    /// <summary>Each image of <paramref name="data"/> as <c>folder/class/NNNNN.png</c> (lossless: the pixels the loader decodes).</summary>
    private static void WriteImages(IImageDataset data, string folder)
    {
        for (int i = 0; i < data.Count; i++)
        {
            string file = Path.Combine(folder, data.Classes[data.LabelOf(i)], $"{i:D5}.png");
            Directory.CreateDirectory(Path.GetDirectoryName(file)!);
            using var bitmap = data.Read(i);
            using var encoded = bitmap.Encode(SkiaSharp.SKEncodedImageFormat.Png, 100);
            using var stream = File.Create(file);
            encoded.SaveTo(stream);
        }
    }

    /// <summary>A finished cell's model (backbone and tuned modules loaded, in the precision it trained in), its training images and the images it is measured on (test; a search cell's validation images).</summary>
    private (PetModel Model, IImageDataset Train, IImageDataset Test) LoadCell(GridCell cell)
    {
        string tuned = Path.Combine(CellFolder(cell), "tuned.safetensors");
        var task = recipe.Stage2.Tasks.FirstOrDefault(t => t.Name == cell.Task)
                   ?? throw new ArgumentException($"The recipe has no task '{cell.Task}'; its tasks are {string.Join(", ", recipe.Stage2.Tasks.Select(t => t.Name))}.");
        if (!File.Exists(tuned) || !File.Exists(Path.Combine(CellFolder(cell), "result.json")))
            throw new InvalidOperationException($"Cell {cell.Id} has not finished: '{CellFolder(cell)}' has no result.");
        CheckUpstream();
        var differences = Fingerprint.Load(CellFolder(cell)) is { } recorded ? CellFingerprint(cell).DifferencesFrom(recorded) : new[] { "it records no fingerprint" };
        if (differences.Count > 0)
            throw new StaleRunException($"Cell {cell.Id} in '{CellFolder(cell)}' was made by a different recipe — {string.Join("; ", differences)}; using it would not measure this recipe.");
        if (CellSeal.Broken(CellFolder(cell)) is { } broken)
            throw new StaleRunException($"Cell {cell.Id} in '{CellFolder(cell)}': {broken}, so it no longer matches what training wrote. " +
                                        "Run 'pvp tune' with --force and --cell to redo it.");
        var (train, indices, test) = CellImages(task, cell);
        var evaluated = cell.Search is null ? test : SearchValidation(task, cell, indices);
        var device = Devices.Resolve(recipe.Device);
        var precision = PrecisionOf(CellResult.Load(Path.Combine(CellFolder(cell), "result.json")));
        var model = VariantRegistry.Create(recipe.Variant, train.Classes.Count, device, precision: precision);
        try
        {
            model.LoadBackbone(BackbonePath);
            model.ImportPetuning(tuned, includeHead: true);
            return (model, train, evaluated);
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Collects the finished cells of this recipe's grid and writes results.csv, results.md and accuracy_vs_shots.png.
    /// Only the recipe's own cells count, and each must have been made by this recipe (its fingerprint matches).
    /// </summary>
    /// <exception cref="StaleRunException">A finished cell was made by another recipe; the message names what changed.</exception>
    public ResultsReport Report()
    {
        if (!Directory.Exists(recipe.Output))
            throw new DirectoryNotFoundException($"The run folder '{recipe.Output}' does not exist: nothing has run there yet (check 'output:' or --output).");
        CheckUpstream();
        var results = new List<CellResult>();
        var stale = new List<string>();
        foreach (var cell in Cells().Where(c => c.Search is null))
        {
            string folder = CellFolder(cell), resultPath = Path.Combine(folder, "result.json");
            if (!File.Exists(resultPath)) continue;
            var recorded = Fingerprint.Load(folder);
            var differences = recorded is null ? new[] { "it records no fingerprint" } : CellFingerprint(cell).DifferencesFrom(recorded);
            var result = differences.Count == 0 ? CellResult.Load(resultPath) : null; // an impossible value is named by key first
            if (result is not null && CellSeal.Broken(folder) is { } broken) (differences, result) = (new[] { broken }, null);
            if (result is not null && (result.Task, result.Shots, result.Seed, result.Init) != (cell.Task, cell.Shots, cell.Seed, cell.Init))
                differences = new[] { $"its result.json is cell {result.Task}/{result.Shots}shot-seed{result.Seed}-{result.Init}'s" };
            if (differences.Count > 0) stale.Add($"{cell.Id} ({string.Join("; ", differences)})");
            else results.Add(result!);
        }
        if (stale.Count > 0)
            throw new StaleRunException($"'{recipe.Output}' holds results that this recipe did not produce: {string.Join(", ", stale.Take(5))}" +
                                        $"{(stale.Count > 5 ? $" and {stale.Count - 5} more" : "")}. Use a new output folder, or run 'tune' with --force to redo them.");
        var unfinished = RunStatus.Cells(this).Where(c => c.State != CellState.Done && c.Cell.Search is null).Select(c => c.ToString()).ToList();
        var report = new ResultsReport(results, unfinished);
        report.Write(recipe.Output, $"{recipe.Variant}: PVP vs random init");
        return report;
    }

    /// <summary>
    /// Re-evaluates every finished cell of the report (not the search's) on its test images and compares with what its
    /// result records: a result that training did not produce, or a model that changed since, shows here as a difference.
    /// Top-1 may differ by at most one image (another device or thread count can round one borderline logit otherwise).
    /// </summary>
    /// <returns>One line per cell that differs (empty when all agree), and how many cells were checked.</returns>
    public (IReadOnlyList<string> Differences, int Checked) Verify(CancellationToken cancellationToken = default)
    {
        var differences = new List<string>();
        int count = 0;
        foreach (var cell in Cells().Where(c => c.Search is null))
        {
            cancellationToken.ThrowIfCancellationRequested();
            string resultPath = Path.Combine(CellFolder(cell), CellSeal.ResultFile);
            if (!File.Exists(resultPath)) continue;
            var recorded = CellResult.Load(resultPath);
            var (model, _, test) = LoadCell(cell);
            EvaluationResult now;
            using (model)
                now = Trainer.Evaluate(model, test, recipe.Stage2.Settings.Batch, recipe.Workers, Preprocessing);
            count++;
            double oneImage = 1.0 / Math.Max(1, test.Count);
            if (Math.Abs(now.Top1 - recorded.Top1) > oneImage + 1e-9)
                differences.Add($"{cell.Id}: result.json records top-1 {100 * recorded.Top1:F2}%, its model scores {100 * now.Top1:F2}% on {test.Count} test images");
            reporter.Info($"{cell.Id,-32} recorded top-1 {100 * recorded.Top1,6:F2}%, re-evaluated {100 * now.Top1,6:F2}%");
        }
        return (differences, count);
    }

    /// <summary>The recipe's variant, built for the recipe's device in the recipe's precision (auto: the device decides).</summary>
    private PetModel CreateModel(int classes) =>
        VariantRegistry.Create(recipe.Variant, classes, Devices.Resolve(recipe.Device), precision: recipe.Precision);

    /// <summary>
    /// Checks everything the recipe names before any training starts, so that nothing fails hours in: the device, the
    /// output folder's writability, the backbone weights file's header, and every dataset (folders, list files, images
    /// per class against the largest shot count). Runs once per runner; also prints the device.
    /// </summary>
    /// <param name="forThisMachine">Also resolve the device here (false when the jobs will run elsewhere, as when submitting to a cluster).</param>
    /// <exception cref="DatasetException">A dataset is missing or too small; the message names the task, file or class.</exception>
    /// <param name="withSource">Also read the source data (stage 1 and the backbone need it; stage 2 does not).</param>
    public void Validate(bool forThisMachine = true, bool withSource = true)
    {
        if (validated && (!withSource || sourceValidated)) return;
        ImageCodec.MaxPixels = recipe.MaxImagePixels;
        ImageCodec.PixelBudget = Math.Max(ImageCodec.PixelBudget, recipe.MaxImagePixels);
        if (forThisMachine)
        {
            var device = Devices.Resolve(recipe.Device);
            Devices.ApplySchedulerThreadLimit();
            reporter.Info($"device: {Devices.Describe(device)} (recipe device: {recipe.Device})");
            if (recipe.Device.Trim().Equals("auto", StringComparison.OrdinalIgnoreCase) && Devices.VisibleGpuWithoutCuda() is { } warning)
                reporter.Info($"WARNING: {warning}");
        }

        EnsureWritable(recipe.Output, "The output folder", "choose another with 'output:' or --output");

        if (recipe.BackboneWeights is { } weights)
        {
            if (Directory.Exists(weights))
                throw new InvalidDataException($"Backbone weights '{weights}' (recipe key backbone.weights) is a folder; name the weights file inside it.");
            if (!File.Exists(weights))
                throw new FileNotFoundException($"Backbone weights '{weights}' (recipe key backbone.weights) do not exist.", weights);
            if (weights.EndsWith(".safetensors", StringComparison.OrdinalIgnoreCase)) SafeTensors.ReadMetadata(weights); // the header parses
        }

        if (withSource)
        {
            SourceData();
            sourceValidated = true;
        }
        int mostShots = recipe.Stage2.Shots.Max();
        _ = Preprocessing; // resolves (and checks) the preprocessing now, not hours in
        foreach (var task in recipe.Stage2.Tasks)
        {
            TaskImages images;
            try
            {
                images = TaskData(task);
                if (task.Data.HasFixedSplits)
                {
                    if (task.Data is ListFileSpec { TrainList: var pattern } && !pattern.Contains("{seed}", StringComparison.Ordinal) && recipe.Stage2.Seeds.Count > 1)
                        reporter.Info($"stage2 task '{task.Name}': its training lists name no {{seed}}, so its seeds share each split and differ only in initialisation and order.");
                    CheckListPerShotCount(task);
                    // Every (shots, seed) list must exist, parse, hold the shots its cells claim and name existing images of the test split's classes.
                    foreach (int shots in recipe.Stage2.Shots)
                        foreach (int seed in recipe.Stage2.Seeds)
                        {
                            var (list, _, test) = CellImages(task, new GridCell(task.Name, shots, seed, true));
                            CheckListedShots(task, list, shots, seed);
                            CheckSameClasses(task, list, test, "test", $"the training list for {shots} shots, seed {seed}");
                            if (images.Validation is { } listValidation) CheckSameClasses(task, list, listValidation, "validation", $"the training list for {shots} shots, seed {seed}");
                        }
                    if (recipe.Stage2.Search is not null && images.Validation is null)
                        throw new DatasetException("the search needs validation images, and its training lists are fixed, so none can be carved from them; give the task a val list.");
                    continue;
                }
            }
            catch (Exception e) when (e is DatasetException or IOException)
            {
                throw new DatasetException($"stage2 task '{task.Name}': {e.Message}");
            }
            var train = images.Pool!;
            CheckSameClasses(task, train, images.Test, "test");
            if (images.Validation is { } validation) CheckSameClasses(task, train, validation, "validation");
            var counts = train.ClassCounts();
            var short_ = Enumerable.Range(0, counts.Length).Where(c => counts[c] < mostShots).ToList();
            if (short_.Count > 0)
                throw new DatasetException($"stage2 task '{task.Name}': the recipe asks for {mostShots} shots, but class " +
                                           string.Join(", ", short_.Take(5).Select(c => $"'{train.Classes[c]}' has {counts[c]} training image{(counts[c] == 1 ? "" : "s")}")) +
                                           $"{(short_.Count > 5 ? $" (and {short_.Count - 5} more classes)" : "")}. Lower stage2.shots or add images.");
            if (recipe.Stage2.Search is { } search && images.Validation is null && counts.Min() < mostShots + search.ValPerClass)
            {
                int c = Array.IndexOf(counts, counts.Min());
                throw new DatasetException($"stage2 task '{task.Name}': the search carves {search.ValPerClass} validation image(s) per class from the training images besides " +
                                           $"the {mostShots}-shot split, but class '{train.Classes[c]}' has {counts[c]}. Lower search.val_per_class, or give the task a val split.");
            }
        }
        CheckStageTwoImages();
        validated = forThisMachine;
    }

    /// <summary>
    /// Every stage-2 image's header (test, validation, the training pool or each listed split), before stage 1 trains: a
    /// damaged file would otherwise be found when its cell reads it, after hours of stage 1.
    /// </summary>
    private void CheckStageTwoImages()
    {
        foreach (var task in recipe.Stage2.Tasks)
        {
            var images = TaskData(task);
            try
            {
                images.Test.CheckHeaders();
                images.Validation?.CheckHeaders();
                if (images.Pool is { } pool) pool.CheckHeaders();
                else
                    foreach (int shots in recipe.Stage2.Shots)
                        foreach (int seed in recipe.Stage2.Seeds)
                            CellImages(task, new GridCell(task.Name, shots, seed, true)).Train.CheckHeaders();
            }
            catch (ImageReadException e)
            {
                throw new DatasetException($"stage2 task '{task.Name}': {e.Message} (found before training; fix or remove the image).");
            }
        }
    }

    /// <summary>
    /// Cells of different shot counts must not share one training list: a pattern without <c>{shots}</c> would train every
    /// shot count on the same file, and the table would show rows that all measured one split.
    /// </summary>
    private void CheckListPerShotCount(TaskSpec task)
    {
        if (task.Data is not ListFileSpec list) return;
        foreach (int seed in recipe.Stage2.Seeds)
        {
            var shared = recipe.Stage2.Shots.GroupBy(shots => list.TrainListFor(shots, seed)).FirstOrDefault(g => g.Count() > 1);
            if (shared is not null)
                throw new DatasetException($"its training list '{list.TrainList}' names no {{shots}}, so the {string.Join("/", shared)}-shot cells of seed {seed} " +
                                           $"would all train on '{shared.Key}'. Put {{shots}} in the pattern (NOAH's: train_meta.list.num_shot_{{shots}}.seed_{{seed}}), " +
                                           "or list only the shot count that file holds under stage2.shots.");
        }
    }

    /// <summary>
    /// A listed split must hold the shot count its cells claim, counted in distinct images per class (NOAH's lists may
    /// repeat lines): no class with more than <paramref name="shots"/>, and at least one with exactly that many (a class
    /// with fewer images than k may be short; a 4-shot file is not a 1-shot split, nor the reverse).
    /// </summary>
    private static void CheckListedShots(TaskSpec task, IImageDataset list, int shots, int seed)
    {
        string file = task.Data is ListFileSpec spec ? spec.TrainListFor(shots, seed) : $"the {shots}-shot list of seed {seed}";
        var distinct = Enumerable.Range(0, list.Count).GroupBy(list.LabelOf)
            .Select(g => (Class: g.Key, Images: g.Select(list.NameOf).Distinct(StringComparer.Ordinal).Count())).ToList();
        if (distinct.Count == 0) return;
        var over = distinct.FirstOrDefault(c => c.Images > shots);
        if (over.Images > 0)
            throw new DatasetException($"the training list '{file}' names {over.Images} images of class '{list.Classes[over.Class]}', but its cells are {shots}-shot: " +
                                       "it is the split of another shot count. Check the list's name against stage2.shots.");
        int most = distinct.Max(c => c.Images);
        if (most < shots)
            throw new DatasetException($"the training list '{file}' names at most {most} image(s) per class, but its cells are {shots}-shot: " +
                                       "it is the split of another shot count. Check the list's name against stage2.shots.");
    }

    /// <summary>Creates <paramref name="folder"/> if needed and proves it writable with a probe file, before any work goes there.</summary>
    /// <exception cref="IOException">It is a file, cannot be created, or cannot be written; the message names it and <paramref name="fix"/>.</exception>
    private static void EnsureWritable(string folder, string what, string fix)
    {
        if (File.Exists(folder)) throw new IOException($"{what} '{folder}' is a file; {fix}.");
        try
        {
            Directory.CreateDirectory(folder);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new IOException($"{what} '{folder}' cannot be created ({e.Message}); {fix}.", e);
        }
        string probe = Path.Combine(folder, $".write-test-{Environment.ProcessId}");
        try
        {
            File.WriteAllText(probe, "pvp");
            File.Delete(probe);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new IOException($"{what} '{folder}' is not writable ({e.Message}); {fix}.", e);
        }
    }

    /// <summary>
    /// The test (or validation) images must use the training images' classes, label for label: a list whose largest label
    /// exceeds the training one, or an ImageFolder with other class folders, would otherwise train and then fail (or,
    /// worse, score against other classes).
    /// </summary>
    private static void CheckSameClasses(TaskSpec task, IImageDataset train, IImageDataset other, string what, string trainWhat = "its training images")
    {
        if (other.Classes.SequenceEqual(train.Classes)) return;
        var extra = other.Classes.Except(train.Classes).Take(5).ToList();
        var missing = train.Classes.Except(other.Classes).Take(5).ToList();
        string detail = extra.Count > 0 ? $"its {what} images have class(es) {string.Join(", ", extra.Select(c => $"'{c}'"))} that {trainWhat} lack"
            : missing.Count > 0 ? $"its {what} images lack class(es) {string.Join(", ", missing.Select(c => $"'{c}'"))} of {trainWhat}"
            : $"its {what} images order their {other.Classes.Count} classes differently from {trainWhat}";
        throw new DatasetException($"stage2 task '{task.Name}': {detail} (labels must mean the same classes in every split); " +
                                   "for list files give 'classes:' so that all count the same, for ImageFolder trees use the same class folders.");
    }

    private (IImageDataset Train, IImageDataset Test) SourceData()
    {
        try
        {
            sourceTrain ??= recipe.Source.Train(ImageSize);
            sourceTest ??= recipe.Source.Test(ImageSize);
        }
        catch (Exception e) when (e is DatasetException or IOException)
        {
            throw new DatasetException($"source: {e.Message}");
        }
        return (sourceTrain, sourceTest);
    }

    private static string PvpVersion => typeof(PetModel).Assembly.GetName().Version?.ToString() ?? "unknown";

    private Dictionary<string, string> Declaration() => new()
    {
        ["pvp"] = PvpVersion,
        ["variant"] = recipe.Variant,
        ["variant.declaration"] = $"{Variant.Backbone}; {string.Join("; ", Variant.Attachments)}",
        ["precision"] = recipe.Precision.ToString(),
        ["preprocessing"] = Preprocessing.Describe(ImageSize),
    };

    /// <summary>A stage's settings, one component per field that changes results (not how often checkpoints are written).</summary>
    private static void AddSettings(Dictionary<string, string> components, string prefix, StageSettings s)
    {
        var invariant = System.Globalization.CultureInfo.InvariantCulture;
        components[$"{prefix}.epochs"] = s.Epochs.ToString(invariant);
        components[$"{prefix}.lr"] = s.LearningRate.ToString("R", invariant);
        components[$"{prefix}.batch"] = s.Batch.ToString(invariant);
        components[$"{prefix}.warmup"] = s.WarmupEpochs.ToString("R", invariant);
        components[$"{prefix}.weight_decay"] = s.WeightDecay.ToString("R", invariant);
        components[$"{prefix}.label_smoothing"] = s.LabelSmoothing.ToString("R", invariant);
        components[$"{prefix}.clip_grad"] = s.ClipGrad.ToString("R", invariant);
        components[$"{prefix}.augment"] = s.Augment switch { true => "true", false => "false", null => "default" };
        components[$"{prefix}.optimizer"] = s.Optimizer == OptimizerKind.Sgd ? $"sgd, momentum {s.Momentum.ToString("R", invariant)}" : "adamw";
        components[$"{prefix}.lr_scaling"] = s.ScaleLrByBatch ? "batch/256" : "none";
        components[$"{prefix}.decay"] = s.Decay.ToString();
        components[$"{prefix}.schedule"] = s.ScheduleByEpoch ? "per epoch" : "per step";
    }

    /// <summary>What a dataset holds, not where it is mounted: its kind, classes and images (see <see cref="Fingerprint.HashDataset"/>).</summary>
    private static string DataComponent(DatasetSpec spec, IImageDataset train, IImageDataset test) =>
        $"{spec.GetType().Name.Replace("Spec", "", StringComparison.Ordinal)}, {train.Classes.Count} classes, {train.Count} train / {test.Count} test images, " +
        $"contents {Fingerprint.HashDataset(train)} / {Fingerprint.HashDataset(test)}";

    /// <summary>The component stage 2 does not recompute: reading the source data (ImageNet, say) in every cell would cost minutes.</summary>
    private const string SourceDataComponent = "source.data";

    private string SourceComponent()
    {
        var (train, test) = SourceData();
        return DataComponent(recipe.Source, train, test);
    }

    private Fingerprint BackboneFingerprint() => BackboneFingerprint(withSourceData: true);

    private Fingerprint BackboneFingerprint(bool withSourceData)
    {
        var components = new Dictionary<string, string>
        {
            ["pvp"] = PvpVersion,
            ["backbone"] = Variant.Backbone.ToString(),
            ["seed"] = recipe.Seed.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["source"] = recipe.Source.Describe(), // what stage 2 compares, cheaply, in place of the contents
            ["preprocessing"] = Preprocessing.Describe(ImageSize),
        };
        if (withSourceData) components[SourceDataComponent] = SourceComponent();
        AddSettings(components, "backbone.pretrain", recipe.BackbonePretrain);
        return new Fingerprint(components);
    }

    private Fingerprint StageOneFingerprint() => StageOneFingerprint(withSourceData: true);

    private Fingerprint StageOneFingerprint(bool withSourceData)
    {
        var components = Declaration();
        components["backbone.weights"] = Fingerprint.HashFile(BackbonePath);
        components["source"] = recipe.Source.Describe(); // what stage 2 compares, cheaply, in place of the contents
        if (withSourceData) components[SourceDataComponent] = SourceComponent();
        AddSettings(components, "stage1", recipe.Stage1);
        components["seed"] = recipe.Seed.ToString(System.Globalization.CultureInfo.InvariantCulture);
        return new Fingerprint(components);
    }

    private readonly Dictionary<string, string> dataComponents = new(StringComparer.Ordinal);

    /// <summary>A dataset's fingerprint component, computed once per runner (the datasets it describes are read once too).</summary>
    private string Once(string key, Func<string> make) =>
        dataComponents.TryGetValue(key, out string? value) ? value : dataComponents[key] = make();

    private Fingerprint CellFingerprint(GridCell cell)
    {
        var task = recipe.Stage2.Tasks.First(t => t.Name == cell.Task);
        var images = TaskData(task);
        var components = Declaration();
        components["backbone.weights"] = File.Exists(BackbonePath) ? Fingerprint.HashFile(BackbonePath) : "(absent)";
        if (cell.PvpInit) components["stage1.modules"] = File.Exists(PetuningPath) ? Fingerprint.HashFile(PetuningPath) : "(absent)";
        // The pool a sampled split is drawn (and a validation set carved) from, or the cell's own listed file; hashed once
        // per runner, since status and report fingerprint every cell of a grid.
        components["task.data"] = images.Pool is { } pool
            ? Once($"data:{task.Name}", () => DataComponent(task.Data, pool, images.Test))
            : Once($"data:{task.Name}:{cell.Shots}:{cell.Seed}", () => DataComponent(task.Data, CellImages(task, cell).Train, images.Test));
        components["task.position"] = recipe.Stage2.Tasks.ToList().IndexOf(task).ToString(System.Globalization.CultureInfo.InvariantCulture); // it seeds the cell
        AddSettings(components, "stage2", CellSettings(cell));
        if (recipe.Stage2.Search is { } search)
        {
            var invariant = System.Globalization.CultureInfo.InvariantCulture;
            components["search.validation"] = images.Validation is { } validation
                ? Once($"validation:{task.Name}", () => $"the task's, {validation.Count} images, contents {Fingerprint.HashDataset(validation)}")
                : $"{search.ValPerClass.ToString(invariant)} per class carved from the training pool";
            if (cell.Search is null)
                components["search.grid"] = string.Join(", ", search.Settings().Select(x => x.Id));
        }
        components["cell"] = cell.Id;
        return new Fingerprint(components);
    }

    /// <summary>
    /// Stage 2 starts from the backbone and stage 1 in the run folder: they must be what this recipe would make (their
    /// recorded fingerprints match), or every cell would silently start from another recipe's work.
    /// </summary>
    /// <exception cref="StaleRunException">The backbone pre-training or stage 1 was made by a different recipe.</exception>
    private void CheckUpstream()
    {
        if (upstreamChecked) return;
        var stages = new List<(string Folder, Func<Fingerprint> Current, string What)>();
        if (recipe.BackboneWeights is null) stages.Add((Path.GetDirectoryName(BackbonePath)!, () => BackboneFingerprint(withSourceData: false), "the backbone pre-training"));
        stages.Add((Path.Combine(recipe.Output, "stage1"), () => StageOneFingerprint(withSourceData: false), "stage 1"));
        foreach (var (folder, current, what) in stages)
        {
            if (Fingerprint.Load(folder) is not { } recorded) continue; // not run yet: the cells that need it say so
            if (what == "stage 1" && !File.Exists(BackbonePath)) continue;
            // Everything but the source's contents (checked when the stage ran), whose description is compared instead.
            var comparable = new Fingerprint(recorded.Components.Where(c => c.Key != SourceDataComponent));
            var differences = current().DifferencesFrom(comparable);
            if (differences.Count > 0)
                throw new StaleRunException($"Stage 2 starts from {what} in '{folder}', which a different recipe made — {string.Join("; ", differences)}. " +
                                            "Use a new output folder, or run 'pvp pretrain --force' (or 'pvp run --force') to redo it and what depends on it.");
        }
        upstreamChecked = true;
    }

    private bool upstreamChecked;

    /// <summary>
    /// Claims a stage's folder so that one process trains it; returns null when it is done (here or by another process).
    /// Another process holding the claim is waited for, since everything after the stage needs it.
    /// </summary>
    private CellClaim? ClaimStage(string folder, Func<bool> done, string what, CancellationToken cancellationToken)
    {
        bool said = false;
        while (true)
        {
            if (done()) return null;
            var claim = CellClaim.TryTake(folder, ClaimStaleAfter, out string heldBy);
            if (claim is not null)
            {
                if (!done()) return claim;
                claim.Dispose();
                return null;
            }
            if (!said) reporter.Info($"{what}: {heldBy} is running it; waiting for it to finish");
            said = true;
            cancellationToken.WaitHandle.WaitOne(TimeSpan.FromSeconds(2));
            cancellationToken.ThrowIfCancellationRequested();
        }
    }

    /// <summary>The key of a stage's sidecar that records the SHA-256 of the file the stage wrote.</summary>
    private const string OutputHashKey = "sha256";

    /// <summary>Whether stage 1 has finished: its modules are there and are the file it wrote.</summary>
    public bool StageOneDone => StageDone(Path.ChangeExtension(PetuningPath, ".json"), PetuningPath, what: null);

    /// <summary>
    /// A stage is done when its sidecar says so and the file it wrote is there with the bytes it wrote (sidecars of an
    /// older Pvp record no hash: then the file's presence counts). Otherwise it runs again, and says why.
    /// </summary>
    private bool StageDone(string sidecar, string file, string? what)
    {
        if (!File.Exists(sidecar)) return false;
        if (!File.Exists(file))
        {
            if (what is not null) reporter.Info($"{what}: '{file}' is missing although '{sidecar}' records the stage as done; running it again");
            return false;
        }
        string? recorded = null;
        try
        {
            using var document = JsonDocument.Parse(File.ReadAllText(sidecar));
            if (document.RootElement.ValueKind == JsonValueKind.Object && document.RootElement.TryGetProperty(OutputHashKey, out var hash)) recorded = hash.GetString();
        }
        catch (JsonException)
        {
            if (what is not null) reporter.Info($"{what}: its record '{sidecar}' is unreadable; running it again");
            return false;
        }
        if (recorded is null || recorded == Fingerprint.HashFile(file)) return true;
        if (what is not null) reporter.Info($"{what}: '{file}' is not the file the stage wrote (its SHA-256 differs from '{sidecar}'); running it again");
        return false;
    }

    /// <summary>
    /// Makes sure <paramref name="folder"/> holds only what <paramref name="current"/> describes: records it when the folder
    /// is new; when it holds another recipe's work, stops (naming each difference), or with <see cref="Force"/> moves that
    /// work aside and starts the folder again.
    /// </summary>
    /// <param name="folder">The stage's or cell's folder.</param>
    /// <param name="current">What the recipe would record there now.</param>
    /// <param name="what">How messages name it.</param>
    /// <param name="keep">A file left in place when the folder is moved aside (the claim being held).</param>
    /// <param name="broken">Why the folder's outputs no longer match what its training wrote (see <see cref="CellSeal"/>), or null.</param>
    private void Guard(string folder, Fingerprint current, string what, string? keep = null, string? broken = null)
    {
        var recorded = Fingerprint.Load(folder);
        bool hasWork = Directory.Exists(folder) && Directory.EnumerateFileSystemEntries(folder).Any(e => Path.GetFileName(e) != keep);
        if (recorded is null && !hasWork)
        {
            current.Save(folder);
            return;
        }
        var differences = recorded is null ? new[] { "the folder holds work with no fingerprint (an older Pvp, or copied from elsewhere)" } : current.DifferencesFrom(recorded);
        if (differences.Count == 0 && broken is null) return;
        if (!Force)
            throw differences.Count == 0
                ? new StaleRunException($"{char.ToUpperInvariant(what[0])}{what[1..]} in '{folder}': {broken}, so it no longer matches what training wrote. " +
                                        "Run again with --force to redo it (the old folder is kept beside it, renamed).")
                : new StaleRunException($"{char.ToUpperInvariant(what[0])}{what[1..]} in '{folder}' was made by a different recipe — {string.Join("; ", differences)}. " +
                                        "Use a new output folder, or run again with --force to redo it (the old folder is kept beside it, renamed).");
        if (broken is not null) differences = differences.Append(broken).ToList();
        string aside = $"{folder}.replaced-{DateTime.UtcNow:yyyyMMdd-HHmmss-fff}";
        Directory.CreateDirectory(aside);
        foreach (string entry in Directory.EnumerateFileSystemEntries(folder).Where(e => Path.GetFileName(e) != keep).ToList())
        {
            string target = Path.Combine(aside, Path.GetFileName(entry));
            if (Directory.Exists(entry)) Directory.Move(entry, target);
            else File.Move(entry, target);
        }
        reporter.Info($"--force: {what} changed ({string.Join("; ", differences)}); its old files moved to '{aside}'");
        current.Save(folder);
    }

    /// <summary>The folder of <paramref name="cell"/> under the run folder.</summary>
    public string CellFolder(GridCell cell) => cell.Search is { } search
        ? Path.Combine(recipe.Output, "stage2", cell.Task, $"{cell.Shots}shot-seed{cell.Seed}-{cell.Init}-search", search.Id)
        : Path.Combine(recipe.Output, "stage2", cell.Task, $"{cell.Shots}shot-seed{cell.Seed}-{cell.Init}");

    /// <summary>A task's images: the pool k-shot cells sample from (null when the task lists a training file per cell), its test and validation images.</summary>
    private sealed record TaskImages(IImageDataset? Pool, IImageDataset Test, IImageDataset? Validation);

    private TaskImages TaskData(TaskSpec task)
    {
        if (!taskData.TryGetValue(task.Name, out var data))
            taskData[task.Name] = data = new TaskImages(task.Data.HasFixedSplits ? null : task.Data.Train(ImageSize), task.Data.Test(ImageSize), task.Data.Validation(ImageSize));
        return data;
    }

    private void EnsureBackbone(CancellationToken cancellationToken)
    {
        if (recipe.BackboneWeights is not null)
        {
            return; // checked by Validate
        }
        string sidecar = Path.ChangeExtension(BackbonePath, ".json");
        Guard(Path.GetDirectoryName(BackbonePath)!, BackboneFingerprint(), "the backbone pre-training");
        using var claim = ClaimStage(Path.GetDirectoryName(BackbonePath)!, () => StageDone(sidecar, BackbonePath, "the backbone pre-training"), "the backbone pre-training", cancellationToken);
        if (claim is null)
        {
            reporter.Info($"backbone: pre-trained earlier on the source classes ({BackbonePath})");
            return;
        }
        var plain = VariantRegistry.FindPlainBackbone(Variant.Backbone)
            ?? throw new InvalidOperationException(
                $"The recipe gives no backbone weights, and no plain backbone with {Variant.Backbone} is declared to pre-train one. " +
                "Set backbone.weights to a pre-trained checkpoint, or declare [VisionTransformer(...)] with the same sizes and no PETuning attributes.");
        var (sourceTrain, sourceTest) = SourceData();
        reporter.Stage($"Backbone: no weights given, so a {Variant.Backbone} backbone ({plain.Name}) is first trained on the source classes " +
                       $"({recipe.Source.Describe()}); it stands in for ImageNet-21k pre-training and sees no target class");
        manual_seed(recipe.Seed);
        using var model = plain.Factory(sourceTrain.Classes.Count, null, ScalarType.Float32);
        var options = OptionsFor(recipe.BackbonePretrain, recipe.Seed, recipe.Source);
        var result = Fit(model, sourceTrain, sourceTest, options, Path.Combine(recipe.Output, "backbone"), "backbone", cancellationToken);
        var weights = model.state_dict().Where(p => model.KindOf(p.Key) != KindNames.Head).ToDictionary(p => p.Key, p => p.Value);
        SafeTensors.Save(BackbonePath, weights, new Dictionary<string, string> { ["made_by"] = "pvp backbone pre-training on the source classes" });
        WriteJson(sidecar, new Dictionary<string, object?>
        {
            ["note"] = "backbone trained by Pvp on the recipe's source classes because no pre-trained weights were given",
            ["declared_by"] = plain.Name, ["source_dataset"] = recipe.Source.Describe(), ["epochs"] = recipe.BackbonePretrain.Epochs,
            ["final_top1"] = result.Evaluation?.Top1,
            [OutputHashKey] = Fingerprint.HashFile(BackbonePath),
        });
        reporter.Info($"backbone: source test {result.Evaluation}; saved to {BackbonePath}");
    }

    private TrainingResult Fit(PetModel model, IImageDataset train, IImageDataset test, TrainerOptions options, string folder, string run, CancellationToken cancellationToken)
    {
        var result = Trainer.Fit(model, train, test, options, folder, reporter.Observer(run, gridCell: run != "backbone" && run != StageOneRun), cancellationToken);
        if (result.Outcome == TrainingOutcome.Interrupted)
            throw new OperationCanceledException($"Interrupted during {run} at step {result.Steps}; its checkpoint is in '{folder}'. Run the same command again to continue.");
        return result;
    }

    private static void WriteJson(string path, object value) =>
        Checkpoints.AtomicFile.Write(path, temp => File.WriteAllText(temp, JsonSerializer.Serialize(value, new JsonSerializerOptions { WriteIndented = true })));
}
