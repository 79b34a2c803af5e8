using System.Globalization;
using System.Text.Json;

namespace Pvp.Recipes;

/// <summary>
/// Where a stage-2 cell stands, read from its folder alone (the shared filesystem is the only channel).
/// </summary>
public enum CellState
{
    /// <summary>It has a result.</summary>
    Done,

    /// <summary>A process holds its claim and its heartbeat is fresh.</summary>
    Running,

    /// <summary>
    /// It has a result that a different recipe made (its fingerprint differs): running it again with --force redoes it.
    /// </summary>
    Stale,

    /// <summary>Its last attempt failed and left an error file.</summary>
    Failed,

    /// <summary>
    /// It stopped part-way with a checkpoint (a signal, a kill, a preemption); running it again continues.
    /// </summary>
    Interrupted,

    /// <summary>Nothing has run it yet.</summary>
    Missing,
}

/// <summary>One cell's state, with a short detail (its top-1, who runs it, the error, the step reached).</summary>
public sealed record CellStatus(GridCell Cell, CellState State, string Detail)
{
    /// <inheritdoc />
    public override string ToString()
        => $"{Cell.Id} {State.ToString().ToLowerInvariant()}{(Detail.Length > 0 ? $": {Detail}" : "")}";
}

/// <summary>Reads a run folder: which of a recipe's cells are done, running, failed, interrupted or missing.</summary>
public static class RunStatus
{
    /// <summary>The state of every cell of <paramref name="runner"/>'s recipe, in the grid's order.</summary>
    public static IReadOnlyList<CellStatus> Cells(PvpRunner runner)
        => runner.Cells().Select(cell => Of(runner, cell)).ToList();

    /// <summary>The state of one cell.</summary>
    public static CellStatus Of(PvpRunner runner, GridCell cell)
    {
        string folder = runner.CellFolder(cell);
        string result = Path.Combine(folder, "result.json");
        if (File.Exists(result))
        {
            CellResult done;
            try { done = CellResult.Load(result); }
            catch (InvalidDataException e) { return new(cell, CellState.Failed, e.Message); }
            if (runner.DifferencesFromRecipe(cell) is { } differences)
                return new(cell, CellState.Stale, $"made by a different recipe — {differences}");
            if (CellSeal.Broken(folder) is { } broken)
                return new(cell, CellState.Stale,
                    $"{broken}: it no longer matches what training wrote (--force redoes it)");
            if (done.Diverged is not null) return new(cell, CellState.Done, "diverged, passed over by the search");
            string what = done.EvaluatedOn == "validation" ? "val top-1" : "top-1";
            return new(cell, CellState.Done,
                $"{what} {100 * done.Top1:F2}%{(done.Chosen is { } chosen && cell.Search is null ? $", chose {chosen}" : "")}");
        }
        if (CellClaim.IsHeld(folder, runner.ClaimStaleAfter, out string heldBy))
            return new(cell, CellState.Running, heldBy);
        string error = Path.Combine(folder, PvpRunner.CellErrorFile);
        if (File.Exists(error))
            return new(cell, CellState.Failed, string.Join(" ", File.ReadAllLines(error).Where(l => l.Length > 0)));
        string pointer = Path.Combine(folder, "checkpoints", "latest.json");
        if (File.Exists(pointer))
            return new(cell, CellState.Interrupted, $"checkpoint at step {Step(pointer)}");
        return new(cell, CellState.Missing, "");
    }

    private static string Step(string pointer)
    {
        try
        {
            using var document = JsonDocument.Parse(File.ReadAllText(pointer));
            return document.RootElement.GetProperty("step").GetInt64().ToString(CultureInfo.InvariantCulture);
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException or IOException)
        {
            return "?";
        }
    }
}
