using System.ComponentModel;
using Pvp.Cli.Settings;
using Pvp.Onnx;
using Pvp.Recipes;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Pvp.Cli.Commands;

/// <summary><c>pvp export</c>: a finished cell's model as ONNX.</summary>
internal sealed class ExportCommand : RecipeCommand<ExportCommand.Settings>
{
    /// <summary>The cell, the file and how LoRA is written.</summary>
    internal sealed class Settings : CellSettings
    {
        /// <summary>The ONNX file to write.</summary>
        [CommandOption("--onnx <FILE>")]
        [Description("The .onnx file to write " +
                     "(opset 17, dynamic batch, float32; class names and preprocessing in its metadata).")]
        public string Onnx { get; init; } = "";

        /// <summary>LoRA merged (default) or separate.</summary>
        [CommandOption("--lora <MODE>")]
        [Description("merged (default: folded into the weights) or separate " +
                     "(low-rank branches kept as their own nodes).")]
        public string Lora { get; init; } = "merged";

        /// <summary>A folder for the task's test images.</summary>
        [CommandOption("--test-images <DIR>")]
        [Description("Also write the task's test images there as PNG files, one folder per class (to check a deployment, " +
                     "e.g. with examples/OnnxClassify).")]
        public string? TestImages { get; init; }

        /// <summary>The LoRA mode, parsed.</summary>
        public OnnxLoraMode LoraMode
            => Lora.ToLowerInvariant() == "separate" ? OnnxLoraMode.Separate : OnnxLoraMode.Merged;

        /// <inheritdoc />
        public override ValidationResult Validate()
        {
            if (Onnx.Length == 0)
                return ValidationResult.Error("Give the file to write with --onnx, e.g. --onnx model.onnx.");
            if (Lora.ToLowerInvariant() is not ("merged" or "separate"))
                return ValidationResult.Error($"--lora: expected merged or separate, got '{Lora}'.");
            return base.Validate();
        }
    }

    /// <inheritdoc />
    protected override int Run(PvpRecipe recipe, Settings settings, CancellationToken cancellationToken)
    {
        var metadata = new PvpRunner(recipe).ExportOnnx(settings.ParsedCell, settings.Onnx, settings.LoraMode,
            settings.TestImages);
        double kib = new FileInfo(settings.Onnx).Length / 1024.0;
        string variant = metadata["pvp.variant"], classes = metadata["pvp.num_classes"], lora = metadata["pvp.lora"];
        AnsiConsole.MarkupLineInterpolated(
            $"{settings.Cell}: wrote [bold]{settings.Onnx}[/] ({kib:F0} KiB; {variant}, {classes} classes, LoRA {lora})");
        if (settings.TestImages is not null)
            AnsiConsole.MarkupLineInterpolated($"test images in [bold]{settings.TestImages}[/]");
        return 0;
    }
}
