using System.ComponentModel;
using Pvp.Cli.Settings;
using Pvp.Recipes;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Pvp.Cli.Commands;

/// <summary><c>pvp tune</c>: stage 2, all cells, a filter of them, one by id or one by index.</summary>
internal sealed class TuneCommand : RecipeCommand<TuneCommand.Settings>
{
    /// <summary>Which cells to run.</summary>
    internal sealed class Settings : TrainingSettings
    {
        /// <summary>One cell by id.</summary>
        [CommandOption("--cell <ID>")]
        [Description("Run only this cell, e.g. shapes/4shot-seed1-pvp (ids are deterministic: spread cells over machines, " +
                     "then merge their folders).")]
        public string? Cell { get; init; }

        /// <summary>Only this variant (of a recipe with <c>variants:</c>).</summary>
        [CommandOption("--variant <NAME>")]
        [Description("Run only the cells of this variant (one of the recipe's variants: list).")]
        public string? Variant { get; init; }

        /// <summary>Only this task.</summary>
        [CommandOption("--task <NAME>")]
        [Description("Run only the cells of this stage-2 task (its name in the recipe).")]
        public string? Task { get; init; }

        /// <summary>Only this shot count.</summary>
        [CommandOption("--shots <K>")]
        [Description("Run only the cells of this shot count (one of the recipe's stage2.shots).")]
        public int? Shots { get; init; }

        /// <summary>Only this seed.</summary>
        [CommandOption("--seed <S>")]
        [Description("Run only the cells of this seed (one of the recipe's stage2.seeds).")]
        public int? Seed { get; init; }

        /// <summary>Only PVP or only random init.</summary>
        [CommandOption("--init <INIT>")]
        [Description("pvp (from stage 1's modules) or random (the baseline): run only those cells.")]
        public string? Init { get; init; }

        /// <summary>One cell by its index in the recipe's order (what a job array's task index names).</summary>
        [CommandOption("--index <I>")]
        [Description("Run only the cell at this index of the recipe's deterministic cell order (0-based; " +
                     "SLURM_ARRAY_TASK_ID, JOB_COMPLETION_INDEX).")]
        public int? Index { get; init; }

        /// <summary>List the cells instead of running them.</summary>
        [CommandOption("--list")]
        [Description("Print the cell ids (and whether each has finished) instead of running them.")]
        public bool List { get; init; }

        /// <inheritdoc />
        public override ValidationResult Validate()
        {
            if (Init is not (null or "pvp" or "random"))
                return ValidationResult.Error($"--init: expected pvp or random, got '{Init}'.");
            if (Index is < 0) return ValidationResult.Error($"--index {Index}: expected a cell index of at least 0.");
            if (Index is not null && (Cell ?? Task ?? Init ?? Variant) is not null
                || Index is not null && (Shots ?? Seed) is not null)
                return ValidationResult.Error("--index names one cell: give it alone, without --cell, --variant, " +
                                              "--task, --shots, --seed or --init.");
            if (Cell is not null)
            {
                try
                {
                    GridCell.Parse(Cell);
                }
                catch (FormatException e)
                {
                    return ValidationResult.Error($"--cell: {e.Message}");
                }
            }
            return base.Validate();
        }
    }

    /// <inheritdoc />
    protected override int Run(PvpRecipe recipe, Settings s, CancellationToken cancellationToken)
    {
        if (s.Index is { } index)
        {
            // A cell another process holds is left to it (the runner says so): not a failure.
            WithProgress(reporter =>
                new PvpRunner(recipe, reporter) { Force = s.Force }.RunCell(index, cancellationToken));
            return 0;
        }
        var only = s.Cell is null ? null : GridCell.Parse(s.Cell);
        if (s.Variant is { } variant && !recipe.Variants.Contains(variant, StringComparer.Ordinal))
            throw new ArgumentException($"--variant {variant}: the recipe runs {string.Join(", ", recipe.Variants)}.");
        if (only is not null) CheckNamesVariant(recipe, only);
        bool Keep(GridCell c) => (only is null || c == only) && (s.Task is null || c.Task == s.Task)
                                 && (s.Variant is null || (c.Variant ?? recipe.Variant) == s.Variant)
                                 && (s.Shots is null || c.Shots == s.Shots)
                                 && (s.Seed is null || c.Seed == s.Seed) && (s.Init is null || c.Init == s.Init);
        if (s.List)
        {
            var runner = new PvpRunner(recipe) { Force = s.Force };
            var all = runner.Cells();
            var listed = all.Where(Keep).ToList();
            if (listed.Count == 0)
                throw new ArgumentException("No cell of the recipe matches the filter; " +
                                            "'pvp tune RECIPE --list' shows them.");
            foreach (var cell in listed)
            {
                // What status says of it: done only when the result is this recipe's (its fingerprint and seal match).
                var state = RunStatus.Of(runner, cell).State;
                string mark = state == CellState.Missing ? "" : $"  ({state.ToString().ToLowerInvariant()})";
                AnsiConsole.WriteLine($"{all.ToList().IndexOf(cell),4}  {cell.Id}{mark}");
            }
            return 0;
        }
        // Cells that other processes hold are theirs to finish: the runner names them; not an error.
        WithProgress(reporter =>
        {
            var runner = new PvpRunner(recipe, reporter) { Force = s.Force };
            if (!runner.Cells().Any(Keep))
                throw new ArgumentException("No cell of the recipe matches the filter; " +
                                            "'pvp tune RECIPE --list' shows them.");
            return runner.Tune(Keep, cancellationToken);
        });
        return 0;
    }

    /// <summary>
    /// A cell id names its variant exactly when the recipe names its variants with <c>variants:</c>: say which form
    /// the recipe's ids take rather than match nothing.
    /// </summary>
    internal static void CheckNamesVariant(PvpRecipe recipe, GridCell cell)
    {
        if (recipe.NamesVariants && cell.Variant is null)
            throw new ArgumentException(
                $"--cell {cell.Id}: the recipe runs its variants side by side ({string.Join(", ", recipe.Variants)}), " +
                $"so its cell ids start with one, e.g. {(cell with { Variant = recipe.Variants[0] }).Id}.");
        if (!recipe.NamesVariants && cell.Variant is not null)
            throw new ArgumentException(
                $"--cell {cell.Id}: the recipe names one variant with 'variant:', so its cell ids name none: " +
                $"{(cell with { Variant = null }).Id}.");
        if (cell.Variant is { } v && !recipe.Variants.Contains(v, StringComparer.Ordinal))
            throw new ArgumentException(
                $"--cell {cell.Id}: the recipe runs no variant '{v}'; its variants are {string.Join(", ", recipe.Variants)}.");
    }
}
