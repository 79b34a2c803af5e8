namespace Pvp.Recipes.Runner;

/// <summary>
/// What a run holds and where it keeps it: the stage-2 grid in its stable order, the backbone and stage-1 files, and
/// every cell's folder under the run folder. Paths only: nothing here reads or writes a file.
/// </summary>
internal sealed class RunLayout(PvpRecipe recipe)
{
    /// <summary>
    /// The backbone weights every stage loads: the recipe's (a <c>hf-hub:</c> id's file
    /// in the Hugging Face cache, fetched on first use), or those Pvp pre-trains here.
    /// </summary>
    public string BackbonePath => backbonePath ??=
        recipe.BackboneWeights is { } weights
            ? Pvp.Weights.Hub.HubWeights.LocalPath(weights)
            : Path.Combine(recipe.Output, "backbone", "backbone.safetensors");

    private string? backbonePath;

    /// <summary>The folder of the backbone pre-training: its fingerprint and claim.</summary>
    public string BackboneFolder => Path.GetDirectoryName(BackbonePath)!;

    /// <summary>The record the backbone pre-training writes beside the weights when it ends.</summary>
    public string BackboneSidecar => Path.ChangeExtension(BackbonePath, ".json");

    /// <summary>
    /// Stage 1's folder: its fingerprint, claim, checkpoints and modules; in a <c>variants:</c> recipe each variant's
    /// own, <c>stage1/{variant}</c> (<see cref="PvpRecipe.Variant"/>: the runner gives each variant a layout of its own).
    /// </summary>
    public string StageOneFolder => recipe.NamesVariants
        ? Path.Combine(recipe.Output, "stage1", recipe.Variant)
        : Path.Combine(recipe.Output, "stage1");

    /// <summary>Stage 1's exported PETuning modules.</summary>
    public string PetuningPath => Path.Combine(StageOneFolder, "petuning.safetensors");

    /// <summary>The record stage 1 writes beside its modules when it ends.</summary>
    public string PetuningSidecar => Path.ChangeExtension(PetuningPath, ".json");

    /// <summary>
    /// Every stage-2 cell of the recipe, in a stable order (a job array's task index names one): with a search, each
    /// cell's search cells come just before it. A task that trains on its whole list (VTAB-1k) has one cell per seed and
    /// init, shot count 0. A <c>variants:</c> recipe's cells name their variant, variant by variant in the recipe's order.
    /// </summary>
    public IReadOnlyList<GridCell> Cells() =>
        (from variant in recipe.NamesVariants ? recipe.Variants.Select(v => (string?)v) : new string?[] { null }
         from task in recipe.Stage2.Tasks
         from shots in task.Data.TrainsOnWholeSplit ? new[] { 0 } : recipe.Stage2.Shots
         from seed in recipe.Stage2.Seeds
         from pvp in recipe.Stage2.Baseline ? new[] { true, false } : new[] { true }
         from search in SearchSettings().Append(null)
         select new GridCell(task.Name, shots, seed, pvp, search) { Variant = variant }).ToList();

    /// <summary>
    /// The settings the recipe's search trains first (none without a search): every one, at the first round's budget
    /// (the full grid's only round). Later halving rounds depend on these results, so the cell that chooses runs them.
    /// </summary>
    public IEnumerable<SearchSetting?> SearchSettings() =>
        recipe.Stage2.Search is { } search
            ? search.Settings().Select(s => (SearchSetting?)AtRound(s, search.Rounds(recipe.Stage2.Settings.Epochs)[0]))
            : Array.Empty<SearchSetting?>();

    /// <summary><paramref name="setting"/> as round <paramref name="round"/> trains it (no budget at the stage's epochs).</summary>
    public SearchSetting AtRound(SearchSetting setting, SearchRound round) =>
        setting with { Epochs = round.Epochs == recipe.Stage2.Settings.Epochs ? null : round.Epochs };

    /// <summary>The folder of <paramref name="cell"/> under the run folder.</summary>
    public string CellFolder(GridCell cell)
    {
        string name = cell.Name;
        string stage2 = cell.Variant is { } variant
            ? Path.Combine(recipe.Output, "stage2", variant)
            : Path.Combine(recipe.Output, "stage2");
        return cell.Search is { } search
            ? Path.Combine(stage2, cell.Task, $"{name}-search", search.Id)
            : Path.Combine(stage2, cell.Task, name);
    }

    /// <summary>A cell's result, there once the cell has finished.</summary>
    public string ResultPath(GridCell cell) => Path.Combine(CellFolder(cell), CellSeal.ResultFile);

    /// <summary>A cell's tuned model: its PETuning modules and head.</summary>
    public string TunedPath(GridCell cell) => Path.Combine(CellFolder(cell), CellSeal.TunedFile);
}
