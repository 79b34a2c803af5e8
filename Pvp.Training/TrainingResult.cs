namespace Pvp.Training;

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
/// <param name="Evaluation">
/// Accuracy on the evaluation set at the end, when one was given and the run completed.
/// </param>
/// <param name="ResumedFromStep">The step a resume started at, or null.</param>
public sealed record TrainingResult(
    TrainingOutcome Outcome, long Steps, double FinalLoss, EvaluationResult? Evaluation, long? ResumedFromStep);
