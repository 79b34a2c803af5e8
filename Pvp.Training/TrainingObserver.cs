namespace Pvp.Training;

/// <summary>Receives a run's progress (a console printer, a progress bar, a test).</summary>
public interface ITrainingObserver
{
    /// <summary>
    /// Training starts (or resumes at <paramref name="firstStep"/>) and will take <paramref name="totalSteps"/> steps.
    /// </summary>
    void Started(string run, long firstStep, long totalSteps) { }

    /// <summary>A step finished.</summary>
    void Step(long step, double loss, double learningRate) { }

    /// <summary>An epoch finished, with its evaluation when one ran.</summary>
    void Epoch(int epoch, double meanLoss, EvaluationResult? evaluation) { }

    /// <summary>Something worth a line (checkpoint written, resumed, …).</summary>
    void Message(string text) { }
}

/// <summary>Prints a line per epoch and each message to the console.</summary>
public sealed class ConsoleObserver(string prefix = "") : ITrainingObserver
{
    /// <inheritdoc />
    public void Started(string run, long firstStep, long totalSteps) =>
        Console.WriteLine($"{prefix}{run}: {(firstStep > 0 ? $"resuming at step {firstStep} of" : "training for")} " +
                          $"{totalSteps} steps");

    /// <inheritdoc />
    public void Epoch(int epoch, double meanLoss, EvaluationResult? evaluation) =>
        Console.WriteLine($"{prefix}  epoch {epoch + 1}: " +
                          $"loss {meanLoss:F4}{(evaluation is null ? "" : $", eval {evaluation}")}");

    /// <inheritdoc />
    public void Message(string text) => Console.WriteLine($"{prefix}  {text}");
}

/// <summary>Observes nothing.</summary>
public sealed class SilentObserver : ITrainingObserver
{
    /// <summary>The shared instance.</summary>
    public static SilentObserver Instance { get; } = new();
}
