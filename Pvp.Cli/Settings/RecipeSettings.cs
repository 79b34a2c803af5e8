using System.ComponentModel;
using Pvp.Recipes;
using Spectre.Console.Cli;

namespace Pvp.Cli.Settings;

/// <summary>Settings of the commands that take a recipe file: the recipe and the run folder.</summary>
internal class RecipeSettings : VariantSettings
{
    /// <summary>The recipe.</summary>
    [CommandArgument(0, "<recipe>")]
    [Description("The YAML recipe file (see recipes/).")]
    public string Recipe { get; init; } = "";

    /// <summary>Overrides the recipe's output folder.</summary>
    [CommandOption("-o|--output <DIR>")]
    [Description("Run folder; overrides the recipe's 'output'.")]
    public string? Output { get; init; }

    /// <summary>The recipe with command-line overrides applied.</summary>
    public virtual PvpRecipe Load()
    {
        LoadAssemblies();
        var recipe = RecipeParser.Load(Recipe);
        VariantSources.Load(recipe,
            line => Spectre.Console.AnsiConsole.WriteLine(line)); // "building …": the user's project may take seconds
        if (Output is null) return recipe;
        string output = Path.GetFullPath(Output);
        // tensorboard: true writes under the run folder, wherever --output puts it.
        string? tensorBoard = recipe.TensorBoard == Path.Combine(recipe.Output, "tensorboard")
            ? Path.Combine(output, "tensorboard")
            : recipe.TensorBoard;
        return recipe with { Output = output, TensorBoard = tensorBoard };
    }
}
