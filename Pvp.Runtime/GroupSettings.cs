using Pvp.Optim;

namespace Pvp;

/// <summary>Learning-rate scales and decay exemptions that a declaration sets for its parameter groups, by kind name.</summary>
/// <param name="LearningRateScales">Multiplier of the base learning rate per kind; kinds not listed use 1.</param>
/// <param name="UndecayedKinds">Kinds whose parameters take no weight decay under <see cref="DecayRule.Pvp"/> whatever their shape (VPT's prompts, unless declared).</param>
public sealed record GroupSettings(IReadOnlyDictionary<string, double> LearningRateScales, IReadOnlyCollection<string> UndecayedKinds)
{
    /// <summary>Scale 1 everywhere, no kind exempt from decay.</summary>
    public static GroupSettings Default { get; } = new(new Dictionary<string, double>(), Array.Empty<string>());

    /// <summary>The multiplier for <paramref name="kind"/>.</summary>
    public double ScaleOf(string kind) => LearningRateScales.TryGetValue(kind, out double s) ? s : 1.0;
}
