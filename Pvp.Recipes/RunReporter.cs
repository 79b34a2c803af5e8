using Pvp.Training;

namespace Pvp.Recipes;

/// <summary>Where a recipe run reports: stage headers, lines, and each training run's progress.</summary>
public interface IRunReporter
{
    /// <summary>A stage begins.</summary>
    void Stage(string title);

    /// <summary>A line of information.</summary>
    void Info(string line);

    /// <summary>The observer for one training run (<paramref name="run"/> names it).</summary>
    /// <param name="run">"backbone", "stage 1", or a stage-2 cell's id.</param>
    /// <param name="gridCell">
    /// True for a stage-2 cell (short and many), false for the backbone and stage 1 (long, one each).
    /// </param>
    ITrainingObserver Observer(string run, bool gridCell);
}

/// <summary>Plain console output: stage headers, lines, a line per epoch of the backbone and stage 1, and of each
/// stage-2 cell when <paramref name="cellEpochs"/> (otherwise a cell shows one line when it finishes).</summary>
public sealed class ConsoleReporter(bool cellEpochs = true) : IRunReporter
{
    /// <inheritdoc />
    public void Stage(string title) => Console.WriteLine($"== {title}");

    /// <inheritdoc />
    public void Info(string line) => Console.WriteLine(line);

    /// <inheritdoc />
    public ITrainingObserver Observer(string run, bool gridCell)
        => cellEpochs || !gridCell ? new ConsoleObserver("  ") : SilentObserver.Instance;
}
