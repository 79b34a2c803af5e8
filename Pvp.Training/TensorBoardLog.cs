using static TorchSharp.torch;

namespace Pvp.Training;

/// <summary>
/// Writes one training run's curves as TensorBoard event files with TorchSharp's own
/// <c>torch.utils.tensorboard.SummaryWriter</c>: <c>train/loss</c> and <c>train/lr</c> per step,
/// <c>train/epoch_loss</c> per epoch, <c>eval/top1</c>, <c>eval/top5</c> (in %) and <c>eval/loss</c> per evaluation,
/// and the run's settings as a text summary (<c>settings</c>). One folder is one run in TensorBoard, so give each
/// stage and cell its own folder and point TensorBoard at their parent to overlay them.
/// </summary>
public sealed class TensorBoardLog : ITrainingObserver
{
    private readonly TorchSharp.Modules.SummaryWriter writer;
    private long lastStep;

    /// <summary>A writer of a new event file in <paramref name="folder"/> (created when missing).</summary>
    public TensorBoardLog(string folder)
    {
        Directory.CreateDirectory(folder);
        writer = utils.tensorboard.SummaryWriter(folder);
    }

    /// <summary>The run folder the event file is in.</summary>
    public string Folder => writer.LogDir;

    /// <summary>Records the run's settings (markdown: TensorBoard's text tab renders it) at step 0.</summary>
    public void Settings(IEnumerable<KeyValuePair<string, string>> settings)
    {
        var lines = new List<string> { "| setting | value |", "| --- | --- |" };
        lines.AddRange(settings.Select(s => $"| {Cell(s.Key)} | {Cell(s.Value)} |"));
        writer.add_text("settings", string.Join("\n", lines), 0);
    }

    /// <inheritdoc />
    public void Started(string run, long firstStep, long totalSteps) => lastStep = firstStep;

    /// <inheritdoc />
    public void Step(long step, double loss, double learningRate)
    {
        lastStep = step;
        writer.add_scalar("train/loss", (float)loss, Steps(step));
        writer.add_scalar("train/lr", (float)learningRate, Steps(step));
    }

    /// <inheritdoc />
    public void Epoch(int epoch, double meanLoss, EvaluationResult? evaluation)
    {
        writer.add_scalar("train/epoch_loss", (float)meanLoss, Steps(lastStep));
        if (evaluation is not null) Evaluation(evaluation, lastStep);
    }

    /// <summary>An evaluation at <paramref name="step"/>: top-1 and top-5 in percent, the mean loss.</summary>
    public void Evaluation(EvaluationResult result, long step, string prefix = "eval")
    {
        writer.add_scalar($"{prefix}/top1", (float)(100 * result.Top1), Steps(step));
        writer.add_scalar($"{prefix}/top5", (float)(100 * result.Top5), Steps(step));
        writer.add_scalar($"{prefix}/loss", (float)result.Loss, Steps(step));
    }

    /// <summary>The last step seen.</summary>
    public long LastStep => lastStep;

    // TorchSharp's writer takes an int step; a run of more than 2^31 steps is not one to draw.
    private static int Steps(long step) => (int)Math.Min(step, int.MaxValue);

    private static string Cell(string text)
        => text.Replace("|", "\\|", StringComparison.Ordinal).Replace("\n", " ", StringComparison.Ordinal);
}
