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
    private readonly IRunReporter reporter = reporter ?? new ConsoleReporter();
    private bool deviceReported;
    private readonly Dictionary<string, (IImageDataset Train, IImageDataset Test)> taskData = new();
    private VariantInfo Variant => VariantRegistry.Describe(recipe.Variant);
    private int ImageSize => Variant.Backbone.ImageSize;

    /// <summary>The recipe.</summary>
    public PvpRecipe Recipe => recipe;

    /// <summary>The backbone weights every stage loads.</summary>
    public string BackbonePath => recipe.BackboneWeights ?? Path.Combine(recipe.Output, "backbone", "backbone.safetensors");

    /// <summary>Stage 1's exported PETuning modules.</summary>
    public string PetuningPath => Path.Combine(recipe.Output, "stage1", "petuning.safetensors");

    /// <summary>Every stage-2 cell of the recipe, in a stable order.</summary>
    public IReadOnlyList<GridCell> Cells() =>
        (from task in recipe.Stage2.Tasks
         from shots in recipe.Stage2.Shots
         from seed in recipe.Stage2.Seeds
         from pvp in recipe.Stage2.Baseline ? new[] { true, false } : new[] { true }
         select new GridCell(task.Name, shots, seed, pvp)).ToList();

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
        ReportDevice();
        Directory.CreateDirectory(recipe.Output);
        EnsureBackbone(cancellationToken);
        string sidecar = Path.ChangeExtension(PetuningPath, ".json");
        if (File.Exists(sidecar))
        {
            reporter.Info($"stage 1: done earlier ({PetuningPath})");
            return;
        }
        var sourceTrain = recipe.Source.Train(ImageSize);
        var sourceTest = recipe.Source.Test(ImageSize);
        reporter.Stage($"Stage 1: pre-train the PETuning modules of {recipe.Variant} on {recipe.Source.Describe()}, backbone frozen");
        manual_seed(recipe.Seed);
        using var model = CreateModel(sourceTrain.Classes.Count);
        reporter.Info($"precision: {model.Precision}");
        reporter.Info(model.LoadBackbone(BackbonePath).ToString());
        if (model.PetuningStateDict().Count == 0)
            reporter.Info($"note: {recipe.Variant} has no PETuning modules besides its head; stage 1 leaves nothing to transfer.");
        var options = recipe.Stage1.ToOptions(recipe.Device, recipe.Seed, recipe.Workers);
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
            ["epochs"] = recipe.Stage1.Epochs,
            ["steps"] = result.Steps,
            ["final_top1"] = result.Evaluation?.Top1,
            ["final_top5"] = result.Evaluation?.Top5,
        };
        WriteJson(sidecar, record);
        reporter.Info($"stage 1: source test {result.Evaluation}; PETuning modules saved to {PetuningPath}");
    }

    /// <summary>Stage 2: runs the cells that <paramref name="filter"/> keeps (all when null) that have no result yet.</summary>
    public IReadOnlyList<CellResult> Tune(Func<GridCell, bool>? filter = null, CancellationToken cancellationToken = default)
    {
        var cells = Cells().Where(c => filter?.Invoke(c) ?? true).ToList();
        ReportDevice();
        reporter.Stage($"Stage 2: {cells.Count} few-shot runs ({string.Join(", ", recipe.Stage2.Tasks.Select(t => t.Name))}; " +
                       $"shots {string.Join("/", recipe.Stage2.Shots)}; seeds {string.Join("/", recipe.Stage2.Seeds)}" +
                       $"{(recipe.Stage2.Baseline ? "; PVP and random init" : "")})");
        return cells.Select(c => RunCell(c, cancellationToken)).ToList();
    }

    /// <summary>Runs one cell (or returns its result if it already finished).</summary>
    /// <exception cref="OperationCanceledException">Cancelled: the cell's checkpoint is kept and a later run resumes it.</exception>
    public CellResult RunCell(GridCell cell, CancellationToken cancellationToken = default)
    {
        string folder = CellFolder(cell);
        string resultPath = Path.Combine(folder, "result.json");
        if (File.Exists(resultPath)) return CellResult.Load(resultPath);
        var task = recipe.Stage2.Tasks.FirstOrDefault(t => t.Name == cell.Task)
                   ?? throw new ArgumentException($"The recipe has no task '{cell.Task}'; its tasks are {string.Join(", ", recipe.Stage2.Tasks.Select(t => t.Name))}.");
        if (cell.PvpInit && !File.Exists(PetuningPath))
            throw new InvalidOperationException($"Cell {cell.Id} starts from stage 1's modules, but '{PetuningPath}' does not exist: run 'pretrain' first.");
        var (train, test) = TaskData(task);
        var clock = Stopwatch.StartNew();

        // PVP and random-init cells of the same task, shots and seed share the head's initialisation, the split and
        // the data order: they differ only in where the PETuning modules start.
        manual_seed(Seeds.Mix(cell.Seed, cell.Shots, recipe.Stage2.Tasks.ToList().IndexOf(task)));
        using var model = CreateModel(train.Classes.Count);
        model.LoadBackbone(BackbonePath);
        if (cell.PvpInit) model.ImportPetuning(PetuningPath);

        var split = KShotSampler.Sample(train, cell.Shots, cell.Seed);
        Directory.CreateDirectory(folder);
        KShotSampler.Write(train, split, Path.Combine(folder, "split.txt"), $"{cell.Shots}-shot split of {task.Data.Describe()}, seed {cell.Seed}");
        var options = recipe.Stage2.Settings.ToOptions(recipe.Device, cell.Seed, recipe.Workers) with
        {
            BatchSize = Math.Min(recipe.Stage2.Settings.Batch, split.Count),
        };
        var result = Fit(model, train.Subset(split), test, options, folder, cell.Id, cancellationToken);
        model.ExportPetuning(Path.Combine(folder, "tuned.safetensors"), includeHead: true);
        var outcome = new CellResult(cell.Task, cell.Shots, cell.Seed, cell.Init, result.Evaluation!.Top1, result.Evaluation.Top5,
            result.Evaluation.Loss, result.Steps, clock.Elapsed.TotalSeconds, model.Precision.Name);
        outcome.Save(resultPath);
        reporter.Info($"{cell.Id,-32} top-1 {100 * outcome.Top1,6:F2}%  ({outcome.Seconds:F1} s, {outcome.Precision} backbone)");
        return outcome;
    }

    /// <summary>Evaluates a finished cell's saved model on its task's test split.</summary>
    public EvaluationResult Evaluate(GridCell cell)
    {
        string tuned = Path.Combine(CellFolder(cell), "tuned.safetensors");
        if (!File.Exists(tuned)) throw new InvalidOperationException($"Cell {cell.Id} has not finished: '{tuned}' does not exist.");
        var task = recipe.Stage2.Tasks.First(t => t.Name == cell.Task);
        var (train, test) = TaskData(task);
        var device = Devices.Resolve(recipe.Device);
        // The precision the cell was trained in (its result records it), whatever this host would choose now.
        string trained = CellResult.Load(Path.Combine(CellFolder(cell), "result.json")).Precision;
        var precision = Variant.AllowsBf16Backbone ? (trained == "bf16" ? Pvp.Precision.BackbonePrecision.Bf16 : Pvp.Precision.BackbonePrecision.Float32) : recipe.Precision;
        using var model = VariantRegistry.Create(recipe.Variant, train.Classes.Count, device, precision: precision);
        model.LoadBackbone(BackbonePath);
        model.ImportPetuning(tuned, includeHead: true);
        return Trainer.Evaluate(model, test, recipe.Stage2.Settings.Batch, recipe.Workers, recipe.Stage2.Settings.EvalCrop);
    }

    /// <summary>Collects every finished cell under the run folder and writes results.csv, results.md and accuracy_vs_shots.png.</summary>
    public ResultsReport Report()
    {
        string stage2 = Path.Combine(recipe.Output, "stage2");
        var results = Directory.Exists(stage2)
            ? Directory.GetFiles(stage2, "result.json", SearchOption.AllDirectories).Select(CellResult.Load).ToList()
            : new List<CellResult>();
        var report = new ResultsReport(results);
        report.Write(recipe.Output, $"{recipe.Variant}: PVP vs random init");
        return report;
    }

    /// <summary>The recipe's variant, built for the recipe's device in the recipe's precision (auto: the device decides).</summary>
    private PetModel CreateModel(int classes) =>
        VariantRegistry.Create(recipe.Variant, classes, Devices.Resolve(recipe.Device), precision: recipe.Precision);

    private void ReportDevice()
    {
        if (deviceReported) return;
        deviceReported = true;
        ImageCodec.MaxPixels = recipe.MaxImagePixels;
        ImageCodec.PixelBudget = Math.Max(ImageCodec.PixelBudget, recipe.MaxImagePixels);
        reporter.Info($"device: {Devices.Describe(Devices.Resolve(recipe.Device))} (recipe device: {recipe.Device})");
    }

    private string CellFolder(GridCell cell) => Path.Combine(recipe.Output, "stage2", cell.Task, $"{cell.Shots}shot-seed{cell.Seed}-{cell.Init}");

    private (IImageDataset Train, IImageDataset Test) TaskData(TaskSpec task)
    {
        if (!taskData.TryGetValue(task.Name, out var data))
            taskData[task.Name] = data = (task.Data.Train(ImageSize), task.Data.Test(ImageSize));
        return data;
    }

    private void EnsureBackbone(CancellationToken cancellationToken)
    {
        if (recipe.BackboneWeights is not null)
        {
            if (Directory.Exists(recipe.BackboneWeights))
                throw new InvalidDataException($"Backbone weights '{recipe.BackboneWeights}' (recipe key backbone.weights) is a folder; name the weights file inside it.");
            if (!File.Exists(recipe.BackboneWeights)) throw new FileNotFoundException($"Backbone weights '{recipe.BackboneWeights}' (recipe key backbone.weights) do not exist.", recipe.BackboneWeights);
            return;
        }
        string sidecar = Path.ChangeExtension(BackbonePath, ".json");
        if (File.Exists(sidecar))
        {
            reporter.Info($"backbone: pre-trained earlier on the source classes ({BackbonePath})");
            return;
        }
        var plain = VariantRegistry.FindPlainBackbone(Variant.Backbone)
            ?? throw new InvalidOperationException(
                $"The recipe gives no backbone weights, and no plain backbone with {Variant.Backbone} is declared to pre-train one. " +
                "Set backbone.weights to a pre-trained checkpoint, or declare [VisionTransformer(...)] with the same sizes and no PETuning attributes.");
        var sourceTrain = recipe.Source.Train(ImageSize);
        reporter.Stage($"Backbone: no weights given, so a {Variant.Backbone} backbone ({plain.Name}) is first trained on the source classes " +
                       $"({recipe.Source.Describe()}); it stands in for ImageNet-21k pre-training and sees no target class");
        manual_seed(recipe.Seed);
        using var model = plain.Factory(sourceTrain.Classes.Count, null, ScalarType.Float32);
        var options = recipe.BackbonePretrain.ToOptions(recipe.Device, recipe.Seed, recipe.Workers);
        var result = Fit(model, sourceTrain, recipe.Source.Test(ImageSize), options, Path.Combine(recipe.Output, "backbone"), "backbone", cancellationToken);
        var weights = model.state_dict().Where(p => !model.KindOf(p.Key).HasFlag(ParameterKinds.Head)).ToDictionary(p => p.Key, p => p.Value);
        SafeTensors.Save(BackbonePath, weights, new Dictionary<string, string> { ["made_by"] = "pvp backbone pre-training on the source classes" });
        WriteJson(sidecar, new Dictionary<string, object?>
        {
            ["note"] = "backbone trained by Pvp on the recipe's source classes because no pre-trained weights were given",
            ["declared_by"] = plain.Name, ["source_dataset"] = recipe.Source.Describe(), ["epochs"] = recipe.BackbonePretrain.Epochs,
            ["final_top1"] = result.Evaluation?.Top1,
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
