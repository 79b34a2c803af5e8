namespace Pvp.Training;

/// <summary>Accuracy of a model on a labelled set.</summary>
/// <param name="Top1">Share of images whose highest logit is the label.</param>
/// <param name="Top5">
/// Share whose label is among the five highest logits (1 when there are at most five classes).
/// </param>
/// <param name="Loss">Mean cross-entropy.</param>
/// <param name="Count">Images evaluated.</param>
public sealed record EvaluationResult(double Top1, double Top5, double Loss, int Count)
{
    /// <inheritdoc />
    public override string ToString()
        => $"top-1 {100 * Top1:F2}%, top-5 {100 * Top5:F2}%, loss {Loss:F4} ({Count} images)";
}
