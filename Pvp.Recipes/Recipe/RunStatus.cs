using System.Globalization;
using System.Text.Json;

namespace Pvp.Recipe;

/// <summary>Where a stage-2 cell stands, read from its folder alone (the shared filesystem is the only channel).</summary>
public enum CellState
{
    /// <summary>It has a result.</summary>
    Done,

    /// <summary>A process holds its claim and its heartbeat is fresh.</summary>
    Running,

    /// <summary>Its last attempt failed and left an error file.</summary>
    Failed,

    /// <summary>It stopped part-way with a checkpoint (a signal, a kill, a preemption); running it again continues.</summary>
    Interrupted,

    /// <summary>Nothing has run it yet.</summary>
    Missing,
}

/// <summary>One cell's state, with a short detail (its top-1, who runs it, the error, the step reached).</summary>
public sealed record CellStatus(GridCell Cell, CellState State, string Detail)
{
    /// <inheritdoc />
    public override string ToString() => $"{Cell.Id} {State.ToString().ToLowerInvariant()}{(Detail.Length > 0 ? $": {Detail}" : "")}";
}

/// <summary>Reads a run folder: which of a recipe's cells are done, running, failed, interrupted or missing.</summary>
public static class RunStatus
{
    /// <summary>The state of every cell of <paramref name="runner"/>'s recipe, in the grid's order.</summary>
    public static IReadOnlyList<CellStatus> Cells(PvpRunner runner) => runner.Cells().Select(cell => Of(runner, cell)).ToList();

    /// <summary>The state of one cell.</summary>
    public static CellStatus Of(PvpRunner runner, GridCell cell)
    {
        string folder = runner.CellFolder(cell);
        string result = Path.Combine(folder, "result.json");
        if (File.Exists(result))
        {
            try { return new(cell, CellState.Done, $"top-1 {100 * CellResult.Load(result).Top1:F2}%"); }
            catch (InvalidDataException e) { return new(cell, CellState.Failed, e.Message); }
        }
        string claim = Path.Combine(folder, CellClaim.FileName);
        if (File.Exists(claim) && DateTime.UtcNow - File.GetLastWriteTimeUtc(claim) <= runner.ClaimStaleAfter)
            return new(cell, CellState.Running, Owner(claim));
        string error = Path.Combine(folder, PvpRunner.CellErrorFile);
        if (File.Exists(error))
            return new(cell, CellState.Failed, string.Join(" ", File.ReadAllLines(error).Where(l => l.Length > 0)));
        string pointer = Path.Combine(folder, "checkpoints", "latest.json");
        if (File.Exists(pointer))
            return new(cell, CellState.Interrupted, $"checkpoint at step {Step(pointer)}");
        return new(cell, CellState.Missing, "");
    }

    private static string Owner(string claim)
    {
        try
        {
            using var document = JsonDocument.Parse(File.ReadAllText(claim));
            return $"process {document.RootElement.GetProperty("pid").GetInt32()} on {document.RootElement.GetProperty("host").GetString()}";
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException or IOException)
        {
            return "claimed";
        }
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
