using System.ComponentModel;
using Pvp.Recipes;
using Spectre.Console.Cli;

namespace Pvp.Cli.Settings;

/// <summary>Settings of the commands that run a model: where it runs.</summary>
internal class DeviceSettings : RecipeSettings
{
    /// <summary>Overrides the recipe's device.</summary>
    [CommandOption("-d|--device <DEVICE>")]
    [Description("auto, cpu, cuda or cuda:N; overrides the recipe's 'device'.")]
    public string? Device { get; init; }

    /// <inheritdoc />
    public override PvpRecipe Load()
    {
        var recipe = base.Load();
        return Device is null ? recipe : recipe with { Device = Device };
    }
}
