namespace Pvp.Recipes.Runner;

/// <summary>
/// One variant's share of a run: its own context and layout (its stage-1 folder, its cells' folders), fingerprints,
/// folder guard, stage 1, cell runner, artifacts and ONNX export. A one-variant recipe has one lane; a
/// <c>variants:</c> recipe one per variant, all sharing the backbone, the data (read once) and the validation.
/// </summary>
internal sealed class VariantLane
{
    /// <summary>The lane of <paramref name="recipe"/> (the run's recipe for one of its variants).</summary>
    /// <param name="recipe">The recipe as this variant runs it (<see cref="PvpRecipe.ForVariant"/>).</param>
    /// <param name="reporter">Where messages go.</param>
    /// <param name="data">The run's images, shared by every lane; null: this lane reads them (the first lane).</param>
    /// <param name="validation">The run's validation, shared; null: this lane's own (the first lane).</param>
    /// <param name="dataComponents">The datasets' fingerprint components, computed once for every lane.</param>
    public VariantLane(PvpRecipe recipe, IRunReporter reporter, RunData? data, RunValidation? validation,
        Dictionary<string, string> dataComponents)
    {
        Run = new RunContext(recipe, reporter);
        Data = data ?? new RunData(Run);
        var training = new RunTraining(Run);
        Fingerprints = new RunFingerprints(Run, Data, training, dataComponents);
        Guard = new FolderGuard(Run, Fingerprints);
        Claims = new StageClaims(Run);
        Validation = validation ?? new RunValidation(Run, Data);
        Training = training;
        StageOne = new StageOne(Run, Data, training, Fingerprints, Guard, Claims);
        Cells = new CellRunner(Run, Data, training, Validation, Fingerprints, Guard);
        Artifacts = new CellArtifacts(Run, Data, training, Fingerprints, Guard);
        Onnx = new OnnxExport(Run, Artifacts);
        Report = new ReportBuilder(Run, Fingerprints, Guard);
    }

    /// <summary>The variant's context: its recipe view, layout and the caller's switches.</summary>
    public RunContext Run { get; }

    /// <summary>The variant's name.</summary>
    public string Variant => Run.Recipe.Variant;

    /// <summary>The run's images.</summary>
    public RunData Data { get; }

    /// <summary>How the lane builds and trains its models.</summary>
    public RunTraining Training { get; }

    /// <summary>The lane's fingerprints.</summary>
    public RunFingerprints Fingerprints { get; }

    /// <summary>The lane's folder guard.</summary>
    public FolderGuard Guard { get; }

    /// <summary>The lane's stage claims.</summary>
    public StageClaims Claims { get; }

    /// <summary>The run's validation.</summary>
    public RunValidation Validation { get; }

    /// <summary>The variant's stage 1.</summary>
    public StageOne StageOne { get; }

    /// <summary>The variant's cells.</summary>
    public CellRunner Cells { get; }

    /// <summary>The variant's finished cells' models.</summary>
    public CellArtifacts Artifacts { get; }

    /// <summary>The variant's ONNX export.</summary>
    public OnnxExport Onnx { get; }

    /// <summary>The variant's share of the report.</summary>
    public ReportBuilder Report { get; }
}
