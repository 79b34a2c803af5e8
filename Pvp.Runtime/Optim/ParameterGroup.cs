using TorchSharp.Modules;

namespace Pvp.Optim;

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
