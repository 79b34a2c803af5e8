using System.ComponentModel;
using Pvp.Cli.Settings;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Pvp.Cli.Commands;

/// <summary><c>pvp inspect</c>: a variant's model card and optimizer groups.</summary>
internal sealed class InspectCommand : Command<InspectCommand.Settings>
{
    /// <summary>
    /// The most head classes inspect builds (ImageNet-21k has 21,843; a head of more would not fit in memory at ViT-L).
    /// </summary>
    private const int MaxClasses = 1_000_000;

    /// <summary>The variant and class count.</summary>
    internal sealed class Settings : VariantSettings
    {
        /// <summary>A registered variant.</summary>
        [CommandArgument(0, "<variant>")]
        [Description("A registered variant ('pvp variants' lists them), e.g. VptDeepB16.")]
        public string Variant { get; init; } = "";

        /// <summary>Head classes.</summary>
        [CommandOption("-c|--classes <N>")]
        [Description("The head's class count (0: no head, pooled features).")]
        [DefaultValue(1000)]
        public int Classes { get; init; } = 1000;

        /// <summary>Backbone weights to load and report on.</summary>
        [CommandOption("-w|--weights <PATH|ID>")]
        [Description("Load these backbone weights and report what loaded: a file (.safetensors, .npz, .pth, .bin) or a " +
                     "Hugging Face Hub id, hf-hub:org/name[@revision], from the Hugging Face cache or downloaded into it.")]
        public string? Weights { get; init; }

        /// <inheritdoc />
        public override ValidationResult Validate() =>
            Classes is < 0 or > MaxClasses
                ? ValidationResult.Error($"--classes {Classes}: expected 0 (no head) to {MaxClasses:N0} classes.")
                : base.Validate();
    }

    /// <inheritdoc />
    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        settings.LoadAssemblies();
        using var model = VariantRegistry.Create(settings.Variant, settings.Classes);
        AnsiConsole.Write(model.ModelCard());
        if (settings.Weights is { } weights) AnsiConsole.WriteLine(model.LoadBackbone(weights).ToString());
        var table = new Table().AddColumns("optimizer group", "parameters", "elements", "lr scale", "decay");
        foreach (var g in model.ParameterGroups(1.0, 1.0))
            table.AddRow(Markup.Escape(g.Name), g.Parameters.Count.ToString(), g.ElementCount.ToString("N0"),
                g.LearningRate.ToString("G3"),
                g.WeightDecay > 0 ? "yes" : "no");
        AnsiConsole.Write(table);
        return 0;
    }
}
