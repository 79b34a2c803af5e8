using static TorchSharp.torch;

namespace Pvp.Optim;

/// <summary>One optimizer group: its parameters, its decay and its (mutable) learning rate.</summary>
public sealed class OptimizerGroup
{
    internal OptimizerGroup(ParameterGroup group)
    {
        Name = group.Name;
        PeakLearningRate = group.LearningRate;
        LearningRate = group.LearningRate;
        WeightDecay = group.WeightDecay;
        Parameters = group.Parameters;
    }

    /// <summary>The group's name (e.g. <c>prompts (no decay)</c>).</summary>
    public string Name { get; }

    /// <summary>The learning rate the group was created with; schedules scale it.</summary>
    public double PeakLearningRate { get; }

    /// <summary>The learning rate of the next step.</summary>
    public double LearningRate { get; set; }

    /// <summary>Weight decay (decoupled for AdamW, an L2 term in the gradient for SGD, as PyTorch's).</summary>
    public double WeightDecay { get; }

    /// <summary>The parameters, by state-dict name.</summary>
    public IReadOnlyList<(string Name, TorchSharp.Modules.Parameter Parameter)> Parameters { get; }
}

/// <summary>
/// An optimizer over a model's <see cref="ParameterGroup"/>s, written for Pvp rather than
/// taken from TorchSharp because TorchSharp's optimizers pass temporary scalars whose native
/// memory the garbage collector may free mid-call (see <see cref="Scalars"/>). Its state is
/// a plain tensor dictionary, so checkpoints store it in safetensors beside the weights.
/// </summary>
public abstract class PetOptimizer : IDisposable
{
    private readonly List<OptimizerGroup> groups;

    /// <summary>Creates the groups; build them after moving the model to its device.</summary>
    /// <exception cref="ArgumentException">No group has a parameter.</exception>
    protected PetOptimizer(IEnumerable<ParameterGroup> parameterGroups)
    {
        groups = parameterGroups.Select(g => new OptimizerGroup(g)).ToList();
        if (groups.Count == 0 || groups.All(g => g.Parameters.Count == 0))
            throw new ArgumentException("There are no parameters to optimize.");
    }

    /// <summary>The groups, in order.</summary>
    public IReadOnlyList<OptimizerGroup> Groups => groups;

    /// <summary>A short name for logs ("AdamW", "SGD (momentum 0.9)").</summary>
    public abstract string Description { get; }

    /// <summary>Clears every parameter's gradient.</summary>
    public void ZeroGrad()
    {
        foreach (var group in groups)
            foreach (var (_, parameter) in group.Parameters)
                parameter.grad = null;
    }

    /// <summary>One update of every parameter that has a gradient.</summary>
    public abstract void Step();

    /// <summary>The state as tensors, keyed <c>{parameter}.{slot}</c>.</summary>
    public abstract Dictionary<string, Tensor> StateDict();

    /// <summary>
    /// Restores a state written by <see cref="StateDict"/> (values are copied to the parameters' devices).
    /// </summary>
    /// <exception cref="InvalidDataException">
    /// The state names a parameter this optimizer does not train, a slot it does not keep, or a shape differs.
    /// </exception>
    public abstract void LoadStateDict(IReadOnlyDictionary<string, Tensor> state);

    /// <summary>Bytes of optimizer state held.</summary>
    public abstract long StateBytes { get; }

    /// <summary>The group and parameter of every trained name.</summary>
    protected Dictionary<string, (OptimizerGroup Group, TorchSharp.Modules.Parameter Parameter)> Owners() =>
        groups.SelectMany(g => g.Parameters.Select(p => (g, p.Name, p.Parameter)))
            .ToDictionary(x => x.Name, x => (x.g, x.Parameter));

    /// <summary>
    /// Checks that <paramref name="state"/>'s tensor for <paramref name="name"/> has the parameter's shape; returns it
    /// on the parameter's device and type.
    /// </summary>
    protected static Tensor Matching(
        IReadOnlyDictionary<string, Tensor> state, string key, string name, TorchSharp.Modules.Parameter parameter)
    {
        if (!state.TryGetValue(key, out var value))
            throw new InvalidDataException(
                $"The optimizer state has no '{key}' for parameter '{name}' (a checkpoint of another optimizer?).");
        if (!value.shape.SequenceEqual(parameter.shape))
            throw new InvalidDataException(
                $"Optimizer state '{key}' has shape [{string.Join(", ", value.shape)}], " +
                $"the parameter [{string.Join(", ", parameter.shape)}].");
        return value.to(parameter.dtype, parameter.device).DetachFromDisposeScope();
    }

    /// <summary>Frees the state.</summary>
    protected abstract void DisposeState();

    /// <inheritdoc />
    public void Dispose()
    {
        DisposeState();
        GC.SuppressFinalize(this);
    }
}
