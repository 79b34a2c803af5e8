using Pvp.Training;

namespace Pvp.Recipe;

/// <summary>Where a recipe run reports: stage headers, lines, and each training run's progress.</summary>
public interface IRunReporter
{
    /// <summary>A stage begins.</summary>
    void Stage(string title);

    /// <summary>A line of information.</summary>
    void Info(string line);

    /// <summary>The observer for one training run (<paramref name="run"/> names it).</summary>
    ITrainingObserver Observer(string run);
}

/// <summary>Plain console output: stage headers, lines, a line per epoch.</summary>
public sealed class ConsoleReporter(bool epochs = true) : IRunReporter
{
    /// <inheritdoc />
    public void Stage(string title) => Console.WriteLine($"== {title}");

    /// <inheritdoc />
    public void Info(string line) => Console.WriteLine(line);

    /// <inheritdoc />
    public ITrainingObserver Observer(string run) => epochs ? new ConsoleObserver("  ") : SilentObserver.Instance;
}
