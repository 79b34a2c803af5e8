namespace Pvp.Training;

/// <summary>Accuracy of a model on a labelled set.</summary>
/// <param name="Top1">Share of images whose highest logit is the label.</param>
/// <param name="Top5">Share whose label is among the five highest logits (1 when there are at most five classes).</param>
/// <param name="Loss">Mean cross-entropy.</param>
/// <param name="Count">Images evaluated.</param>
public sealed record EvaluationResult(double Top1, double Top5, double Loss, int Count)
{
    /// <inheritdoc />
    public override string ToString() => $"top-1 {100 * Top1:F2}%, top-5 {100 * Top5:F2}%, loss {Loss:F4} ({Count} images)";
}

/// <summary>How a training run ended.</summary>
public enum TrainingOutcome
{
    /// <summary>All epochs ran.</summary>
    Completed,
    /// <summary>Stopped on request (Ctrl+C); a checkpoint was written and <c>Resume</c> continues from it.</summary>
    Interrupted,
}

/// <summary>What a training run did.</summary>
/// <param name="Outcome">Completed or interrupted.</param>
/// <param name="Steps">Optimizer steps taken in total (including before a resume).</param>
/// <param name="FinalLoss">The last step's training loss.</param>
/// <param name="Evaluation">Accuracy on the evaluation set at the end, when one was given and the run completed.</param>
/// <param name="ResumedFromStep">The step a resume started at, or null.</param>
public sealed record TrainingResult(TrainingOutcome Outcome, long Steps, double FinalLoss, EvaluationResult? Evaluation, long? ResumedFromStep);

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
