using Pvp.Recipes;

namespace Pvp.Tests.Recipe;

/// <summary>
/// Turning NOAH's augmentations on changes what a cell is: a cell trained without RandAugment or mixup reads as stale
/// (made by a different recipe, naming the setting) once the recipe turns either on, and a cell trained with mixup
/// records it in its <c>result.json</c>.
/// </summary>
public sealed class AugmentationFingerprintTests : IDisposable
{
    private readonly string folder = Directory.CreateTempSubdirectory("pvp-augment-").FullName;

    static AugmentationFingerprintTests() => VariantRegistry.Load(typeof(Pvp.Models.VptDeepMicro).Assembly);

    public void Dispose() => Directory.Delete(folder, recursive: true);

    private PvpRecipe Recipe(string preprocess = "", string stage2 = "") => RecipeParser.Parse($"""
        variant: VptDeepMicro
        output: run
        workers: 1
        {preprocess}
        backbone: {"{"} pretrain: {"{"} epochs: 1, batch: 16 {"}"} {"}"}
        source:
          builtin: {"{"} classes: 4, train_per_class: 6, test_per_class: 2 {"}"}
        stage1: {"{"} epochs: 1, lr: 0.01, batch: 16 {"}"}
        stage2:
          tasks:
            - name: shapes
              builtin: {"{"} classes: 3, train_per_class: 4, test_per_class: 3 {"}"}
          shots: [2]
          seeds: [0]
          epochs: 1
          {stage2}
        """, Path.Combine(folder, "recipe.yaml"));

    [Fact]
    public void TurningRandAugmentOrMixupOnMakesEarlierCellsStale()
    {
        var cell = GridCell.Parse("shapes/2shot-seed0-pvp");
        new PvpRunner(Recipe(), new Quiet()).Run();
        Assert.Equal(CellState.Done, RunStatus.Of(new PvpRunner(Recipe(), new Quiet()), cell).State);

        var mixed = RunStatus.Of(new PvpRunner(Recipe(stage2: "mixup: {}"), new Quiet()), cell);
        Assert.Equal(CellState.Stale, mixed.State);
        Assert.Contains("stage2.mixup: was (absent), now mixup 0.8 / cutmix 1, prob 1, switch 0.5, smoothing 0.1", mixed.Detail);

        // drop_path changes results too (it was missing from the fingerprint: a cell trained without it read as done).
        var dropped = RunStatus.Of(new PvpRunner(Recipe(stage2: "drop_path: 0.1"), new Quiet()), cell);
        Assert.Equal(CellState.Stale, dropped.State);
        Assert.Contains("stage2.drop_path: was (absent), now 0.1", dropped.Detail);

        var augmented = RunStatus.Of(new PvpRunner(Recipe(preprocess: "preprocess: { rand_augment: rand-m9-mstd0.5-inc1 }"), new Quiet()), cell);
        Assert.Equal(CellState.Stale, augmented.State);
        Assert.Contains("preprocessing: was", augmented.Detail); // the line (shortened in the detail) now names RandAugment
        Assert.DoesNotContain("stage2.mixup", augmented.Detail);

        // Trained with mixup (2 shots × 3 classes: one batch of 6), the cell's result.json says so.
        new PvpRunner(Recipe(stage2: "mixup: {}"), new Quiet()) { Force = true }.Run();
        string result = File.ReadAllText(Path.Combine(folder, "run", "stage2", "shapes", "2shot-seed0-pvp", "result.json"));
        Assert.Contains("batches: mixup 0.8 / cutmix 1, prob 1, switch 0.5, smoothing 0.1 (timm batch mode)", result);
    }
}
