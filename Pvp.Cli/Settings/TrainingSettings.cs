using System.ComponentModel;
using Pvp.MixedPrecision;
using Pvp.Recipes;
using Spectre.Console.Cli;

namespace Pvp.Cli.Settings;

/// <summary>
/// Settings of the commands that train: the backbone's precision and whether to redo another recipe's work.
/// </summary>
internal class TrainingSettings : DeviceSettings
{
    /// <summary>Redo stages and cells that another recipe made.</summary>
    [CommandOption("--force")]
    [Description("Redo the stages and cells whose recorded fingerprint (variant, data, settings, weights…) differs from the " +
                 "recipe's, or whose files changed since they finished; their old files are kept beside, renamed. Without it " +
                 "such a run folder is an error that names the differences.")]
    public bool Force { get; init; }

    /// <summary>Overrides the recipe's backbone precision.</summary>
    [CommandOption("-p|--precision <PRECISION>")]
    [Description("auto, float32 or bf16; overrides the recipe's 'precision' (bf16 only for variants declared with " +
                 "Precision = BackboneBf16).")]
    public string? Precision { get; init; }

    /// <summary>Writes TensorBoard event files to this folder.</summary>
    [CommandOption("--tensorboard <DIR>")]
    [Description("Write TensorBoard event files (training loss and lr per step, top-1/top-5/loss per evaluation, the " +
                 "settings as text) under DIR, one run folder per stage and per cell; as the recipe's 'tensorboard: true', " +
                 "which writes them under the run folder's tensorboard/.")]
    public string? TensorBoard { get; init; }

    /// <inheritdoc />
    public override Spectre.Console.ValidationResult Validate() =>
        Precision is not null && BackbonePrecisionNames.Parse(Precision) is null
            ? Spectre.Console.ValidationResult.Error($"--precision: expected {BackbonePrecisionNames.Expected}, " +
                                                     $"got '{Precision}'.")
            : base.Validate();

    /// <inheritdoc />
    public override PvpRecipe Load()
    {
        var recipe = base.Load();
        if (TensorBoard is not null) recipe = recipe with { TensorBoard = Path.GetFullPath(TensorBoard) };
        if (Precision is null) return recipe;
        var precision = BackbonePrecisionNames.Parse(Precision)!.Value;
        if (precision == BackbonePrecision.Bf16 &&
            recipe.Variants.FirstOrDefault(v => !VariantRegistry.Describe(v).AllowsBf16Backbone) is { } float32Only)
            throw new ArgumentException($"--precision bf16: {float32Only} allows float32 only " +
                                        "(declare it with Precision = PrecisionPlan.BackboneBf16).");
        return recipe with { Precision = precision };
    }
}
