using System.ComponentModel;
using Pvp.Recipes;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Pvp.Cli.Settings;

/// <summary>
/// Settings of every command that looks variants up: the user's assemblies or projects that declare more.
/// </summary>
internal class VariantSettings : CommandSettings
{
    /// <summary>Assemblies or projects whose variants are loaded besides the catalog's.</summary>
    [CommandOption("-a|--assembly <PATH>")]
    [Description("An assembly (.dll), project (.csproj) or project folder that declares your own variants; repeat for more. " +
                 "A recipe can name them under 'assemblies:'.")]
    public string[] Assemblies { get; init; } = Array.Empty<string>();

    /// <summary>Loads <see cref="Assemblies"/> (building projects), telling the console what was found.</summary>
    public void LoadAssemblies()
    {
        foreach (var path in Assemblies) VariantSources.Load(path, line => AnsiConsole.WriteLine(line));
    }
}
