using System.ComponentModel;
using Pvp.Recipes;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Pvp.Cli.Settings;

/// <summary>Settings of the commands on one finished cell (eval, export).</summary>
internal class CellSettings : DeviceSettings
{
    /// <summary>The cell.</summary>
    [CommandOption("--cell <ID>")]
    [Description("A finished cell, e.g. shapes/4shot-seed1-pvp ('pvp tune RECIPE --list' shows them).")]
    public string Cell { get; init; } = "";

    /// <summary>The cell, parsed.</summary>
    public GridCell ParsedCell => GridCell.Parse(Cell);

    /// <inheritdoc />
    public override ValidationResult Validate()
    {
        if (Cell.Length == 0)
            return ValidationResult.Error("Give the cell with --cell, e.g. --cell shapes/4shot-seed1-pvp.");
        try
        {
            GridCell.Parse(Cell);
        }
        catch (FormatException e)
        {
            return ValidationResult.Error($"--cell: {e.Message}");
        }
        return base.Validate();
    }
}
