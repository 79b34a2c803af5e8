namespace Pvp.Training;

/// <summary>
/// Linear warm-up from 0 to the peak, then cosine decay to 0 at the last step (per step, as timm's cosine scheduler).
/// </summary>
public static class LearningRateSchedule
{
    /// <summary>
    /// The multiplier of the peak learning rate at <paramref name="step"/> (0-based) of <paramref name="totalSteps"/>.
    /// </summary>
    public static double Factor(long step, long totalSteps, long warmupSteps)
    {
        if (totalSteps <= 0) return 1;
        if (step < warmupSteps) return (step + 1.0) / warmupSteps;
        long decaySteps = Math.Max(1, totalSteps - warmupSteps);
        double progress = Math.Min(1.0, (double)(step - warmupSteps) / decaySteps);
        return 0.5 * (1 + Math.Cos(Math.PI * progress));
    }

    /// <summary>
    /// VPT's <c>WarmupCosineSchedule</c>, stepped once per epoch (its trainer calls <c>scheduler.step()</c> after
    /// each epoch): e / w during the w warm-up epochs (so 0 in the first), then 0.5·(1 + cos(π·(e − w) / (E − w))).
    /// </summary>
    public static double EpochFactor(int epoch, int epochs, double warmupEpochs)
    {
        if (epoch < warmupEpochs) return epoch / Math.Max(1.0, warmupEpochs);
        double progress = (epoch - warmupEpochs) / Math.Max(1.0, epochs - warmupEpochs);
        return 0.5 * (1 + Math.Cos(Math.PI * Math.Min(1.0, progress)));
    }
}
