using TorchSharp.Modules;

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

/// <summary>One optimizer parameter group: trainable parameters of one kind that share learning rate and decay.</summary>
/// <param name="Name">The kind name, with " (no decay)" for the part without decay: <c>lora</c>, <c>head</c>, <c>head (no decay)</c>.</param>
/// <param name="Kind">The kind name the parameters train as.</param>
/// <param name="LearningRate">Base learning rate × the kind's scale.</param>
/// <param name="WeightDecay">The decay applied (0 for biases, norms, prompts, tokens).</param>
/// <param name="Parameters">The parameters, by state-dict name.</param>
public sealed record ParameterGroup(
    string Name, string Kind, double LearningRate, double WeightDecay,
    IReadOnlyList<(string Name, Parameter Parameter)> Parameters)
{
    /// <summary>Total elements.</summary>
    public long ElementCount => Parameters.Sum(p => p.Parameter.numel());
}

/// <summary>Which trainable parameters take weight decay.</summary>
public enum DecayRule
{
    /// <summary>Weights of two or more dimensions only; biases, norms, tokens and (unless the declaration says otherwise) prompts do not, as timm's AdamW recipes.</summary>
    Pvp,
    /// <summary>Every trainable parameter, prompts, biases and norms included, except the classifier's bias: VPT's SGD (its <c>optimizer.py</c> gives every parameter the decay and <c>last_layer.bias</c> none).</summary>
    All,
}
