using Pvp.Training;

namespace Pvp.Recipes.Runner;

/// <summary>
/// Runs stage-2 cells, each under a claim on its folder so that many processes can share a grid: a finished cell's
/// result is read back, a cell another process holds is left to it, and a cell that fails leaves an error file; a
/// finished cell's result is sealed with its model (<see cref="CellSeal"/>).
/// </summary>
internal sealed class CellRunner
{
    /// <summary>The file a cell that failed leaves in its folder.</summary>
    public const string ErrorFile = "error.txt";

    private readonly RunContext run;
    private readonly RunValidation validation;
    private readonly RunFingerprints fingerprints;
    private readonly FolderGuard guard;
    private readonly CellTrainer trainer;
    private readonly RunTraining training;
    private readonly CellSearch search;
    private readonly Dictionary<string, string> claimedElsewhere = new(StringComparer.Ordinal);

    /// <summary>A runner of <paramref name="run"/>'s cells.</summary>
    public CellRunner(RunContext run, RunData data, RunTraining training, RunValidation validation,
        RunFingerprints fingerprints, FolderGuard guard)
    {
        this.run = run;
        this.validation = validation;
        this.fingerprints = fingerprints;
        this.guard = guard;
        this.training = training;
        trainer = new CellTrainer(run, data, training);
        search = new CellSearch(run, data, training, this, trainer);
    }

    /// <summary>Cells this runner left alone because another process holds their claim (id → who).</summary>
    public IReadOnlyDictionary<string, string> ClaimedElsewhere => claimedElsewhere;

    private PvpRecipe Recipe => run.Recipe;
    private IRunReporter Reporter => run.Reporter;

    /// <summary>
    /// Runs the cells of <paramref name="cells"/> that have no result yet; returns the results there are.
    /// </summary>
    public IReadOnlyList<CellResult> Tune(IReadOnlyList<GridCell> cells, CancellationToken cancellationToken)
    {
        validation.Validate(forThisMachine: true, withSource: false);
        var stage2 = Recipe.Stage2;
        // What this call runs, not the whole grid: `tune --shots 8` says shots 8.
        var inits = cells.Select(c => c.Init).Distinct().ToList();
        Reporter.Stage($"Stage 2{(Recipe.NamesVariants ? $" of {Recipe.Variant}" : "")}: {cells.Count} few-shot runs " +
                       $"({string.Join(", ", cells.Select(c => c.Task).Distinct())}; " +
                       $"shots {string.Join("/", cells.Select(c => c.Shots).Distinct())}; " +
                       $"seeds {string.Join("/", cells.Select(c => c.Seed).Distinct())}" +
                       $"{(inits.Count == 2 ? "; PVP and random init" : inits.Count == 1 && stage2.Baseline ? $"; {inits[0]} init only" : "")})");
        // What the images go through while tuning, per task: a few-shot result depends on it, so the header says it.
        foreach (var task in cells.Select(c => c.Task).Distinct())
            Reporter.Info($"{task}: stage-2 training: {training.DescribeCellTraining(run.TaskOf(cells.First(c => c.Task == task)))}");
        var results = new List<CellResult>();
        foreach (var cell in cells)
            if (Run(cell, cancellationToken) is { } result) results.Add(result);
        if (claimedElsewhere.Count > 0)
            Reporter.Info($"{claimedElsewhere.Count} cell(s) left to other processes that hold their claims: " +
                          string.Join("; ", claimedElsewhere.Take(5).Select(p => $"{p.Key} by {p.Value}")) +
                          (claimedElsewhere.Count > 5 ? "; …" : ""));
        return results;
    }

    /// <summary>See <see cref="PvpRunner.RunCell(GridCell, CancellationToken)"/>.</summary>
    public CellResult? Run(GridCell cell, CancellationToken cancellationToken)
    {
        validation.Validate(forThisMachine: true, withSource: false);
        string folder = run.Layout.CellFolder(cell);
        string resultPath = run.Layout.ResultPath(cell);
        var task = run.TaskOf(cell);
        if (cell.PvpInit && !File.Exists(run.Layout.PetuningPath))
            throw new InvalidOperationException($"Cell {cell.Id} starts from stage 1's modules, but " +
                                                $"'{run.Layout.PetuningPath}' does not exist: run 'pretrain' first.");
        guard.CheckUpstream();
        var fingerprint = fingerprints.Cell(cell);
        if (File.Exists(resultPath))
        {
            guard.Guard(folder, fingerprint, $"cell {cell.Id}", broken: CellSeal.Broken(folder));
            if (File.Exists(resultPath))
            {
                claimedElsewhere.Remove(cell.Id);
                return CellResult.Load(resultPath);
            }
        }
        using var claim = CellClaim.TryTake(folder, run.ClaimStaleAfter, out string heldBy);
        if (claim is null)
        {
            claimedElsewhere[cell.Id] = heldBy;
            return null;
        }
        claimedElsewhere.Remove(cell.Id);
        guard.Guard(folder, fingerprint, $"cell {cell.Id}", keep: CellClaim.FileName,
            broken: File.Exists(resultPath) ? CellSeal.Broken(folder) : null);
        // Finished by another process just before the claim.
        if (File.Exists(resultPath)) return CellResult.Load(resultPath);
        var outcome = Attempt(cell, task, folder, claim, cancellationToken);
        if (outcome.Diverged is not null)
        {
            Reporter.Info($"{cell.Id,-32} diverged (passed over by the search): {outcome.Diverged}");
            return outcome;
        }
        string chosen = outcome.Chosen is { } setting && cell.Search is null ? $", chosen {setting}" : "";
        Reporter.Info($"{cell.Id,-32} {(cell.Search is null ? "top-1" : "val top-1")} {100 * outcome.Top1,6:F2}%  " +
                      $"({outcome.Seconds:F1} s, {outcome.Precision} backbone{chosen})");
        return outcome;
    }

    /// <summary>
    /// One attempt at a claimed cell: its training (or its search's end), sealed in its folder; a failure leaves the
    /// error file and is thrown on.
    /// </summary>
    private CellResult Attempt(GridCell cell, TaskSpec task, string folder, CellClaim claim,
        CancellationToken cancellationToken)
    {
        string errorPath = Path.Combine(folder, ErrorFile);
        File.Delete(errorPath); // a new attempt: an earlier failure no longer describes the cell
        try
        {
            CellResult outcome;
            try
            {
                outcome = cell.Search is null && Recipe.Stage2.Search is not null
                    ? search.Finish(cell, task, claim, cancellationToken)
                    : trainer.Train(cell, task, folder, claim, cancellationToken);
            }
            catch (TrainingDivergedException e) when (cell.Search is not null)
            {
                // One setting of a search that diverges is an outcome of the search, as in VPT's grid: recorded, and
                // passed over.
                outcome = new CellResult(cell.Task, cell.Shots, cell.Seed, cell.Init, 0, 0, 0, e.Step, 0, "n/a")
                {
                    Variant = cell.Variant,
                    Diverged = e.Message, LearningRate = e.LearningRate, WeightDecay = cell.Search.WeightDecay,
                    EvaluatedOn = "validation",
                };
            }
            CellSeal.Save(folder, outcome);
            return outcome;
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // Left in the cell's folder for `pvp status` and `pvp report` (and a cluster's log): what failed, where,
            // when.
            Checkpoints.AtomicFile.Write(errorPath, temp => File.WriteAllText(temp,
                $"{DateTime.UtcNow:O} {Environment.MachineName} process {Environment.ProcessId}{Environment.NewLine}" +
                $"{e.GetType().Name}: {e.Message}{Environment.NewLine}"));
            throw;
        }
    }
}
