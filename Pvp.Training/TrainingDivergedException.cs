namespace Pvp.Training;

/// <summary>The loss became NaN or infinite: the run stops instead of training on garbage.</summary>
public sealed class TrainingDivergedException(long step, double learningRate, double loss)
    : Exception($"Training diverged at step {step}: the loss is {loss} with learning rate {learningRate:G4}. " +
                "Lower the learning rate, raise the warm-up, or turn on gradient clipping; the last good checkpoint is kept.")
{
    /// <summary>The step (0-based) whose loss was not finite.</summary>
    public long Step { get; } = step;

    /// <summary>The learning rate (base, after the schedule) at that step.</summary>
    public double LearningRate { get; } = learningRate;
}
