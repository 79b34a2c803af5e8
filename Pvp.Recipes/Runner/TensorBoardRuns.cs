using System.Globalization;
using Pvp.Training;

namespace Pvp.Recipes.Runner;

/// <summary>
/// The recipe's TensorBoard output (<c>tensorboard: true</c> or <c>--tensorboard DIR</c>): one run folder per stage and
/// per cell, laid out as the run folder is (<c>backbone/</c>, <c>stage1/</c>,
/// <c>stage2/{task}/{k}shot-seed{s}-{init}/</c>), so pointing TensorBoard at the root overlays a cell's PVP and random
/// initialisations.
/// </summary>
internal sealed class TensorBoardRuns(RunContext run)
{
    /// <summary>
    /// A log for the training in <paramref name="folder"/> (a stage's or cell's
    /// folder), with its settings written; null when the recipe asks for none.
    /// </summary>
    public TensorBoardLog? For(string folder, string name, TrainerOptions options)
    {
        if (run.Recipe.TensorBoard is not { } root) return null;
        string relative = Path.GetRelativePath(run.Recipe.Output, folder);
        if (relative.StartsWith("..", StringComparison.Ordinal) || Path.IsPathRooted(relative))
            relative = string.Concat(name.Select(c => char.IsLetterOrDigit(c) ? c : '-'));
        var log = new TensorBoardLog(Path.Combine(root, relative));
        log.Settings(Settings(name, options));
        return log;
    }

    private IEnumerable<KeyValuePair<string, string>> Settings(string name, TrainerOptions options)
    {
        string Invariant(object? value) => value switch
        {
            null => "(none)",
            double d => d.ToString("R", CultureInfo.InvariantCulture),
            IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
            _ => value.ToString() ?? "",
        };
        yield return new("run", name);
        yield return new("variant", run.Recipe.Variant);
        yield return new("backbone.weights", run.Recipe.BackboneWeights ?? "(pre-trained by Pvp)");
        yield return new("precision", run.Recipe.Precision.ToString());
        foreach (var property in typeof(TrainerOptions).GetProperties().OrderBy(p => p.Name, StringComparer.Ordinal))
        {
            if (property.Name == nameof(TrainerOptions.Preprocessing)) continue;
            yield return new(property.Name, Invariant(property.GetValue(options)));
        }
        yield return new("preprocessing", options.Preprocessing.Describe(run.ImageSize));
    }
}

/// <summary>Passes each event to every observer in turn.</summary>
internal sealed class FanOutObserver(params ITrainingObserver[] observers) : ITrainingObserver
{
    public void Started(string run, long firstStep, long totalSteps)
    {
        foreach (var o in observers) o.Started(run, firstStep, totalSteps);
    }

    public void Step(long step, double loss, double learningRate)
    {
        foreach (var o in observers) o.Step(step, loss, learningRate);
    }

    public void Epoch(int epoch, double meanLoss, EvaluationResult? evaluation)
    {
        foreach (var o in observers) o.Epoch(epoch, meanLoss, evaluation);
    }

    public void Message(string text)
    {
        foreach (var o in observers) o.Message(text);
    }
}
