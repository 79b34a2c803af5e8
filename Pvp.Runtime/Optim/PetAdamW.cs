using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Pvp.Optim;

/// <summary>
/// AdamW (Loshchilov and Hutter; PyTorch's update rule with decoupled weight decay) over a model's
/// <see cref="ParameterGroup"/>s, written for Pvp rather than taken from TorchSharp because TorchSharp's optimizers pass
/// temporary scalars whose native memory the garbage collector may free mid-call (see <see cref="Scalars"/>): every
/// scalar here is held for the duration of its call. Its state is a plain tensor dictionary, so checkpoints store it
/// in safetensors beside the weights.
/// </summary>
public sealed class PetAdamW : IDisposable
{
    private readonly List<Group> groups;
    private readonly Scalar beta1, beta2, oneMinusBeta1, oneMinusBeta2;
    private readonly double beta1Value, beta2Value, epsilon;

    /// <summary>One group: its parameters and its (mutable) learning rate.</summary>
    public sealed class Group
    {
        internal Group(string name, double learningRate, double weightDecay, IReadOnlyList<(string Name, Parameter Parameter)> parameters)
        {
            Name = name;
            PeakLearningRate = learningRate;
            LearningRate = learningRate;
            WeightDecay = weightDecay;
            Parameters = parameters;
        }

        /// <summary>The group's name (e.g. <c>prompts (no decay)</c>).</summary>
        public string Name { get; }

        /// <summary>The learning rate the group was created with; schedules scale it.</summary>
        public double PeakLearningRate { get; }

        /// <summary>The learning rate of the next step.</summary>
        public double LearningRate { get; set; }

        /// <summary>Decoupled weight decay.</summary>
        public double WeightDecay { get; }

        /// <summary>The parameters, by state-dict name.</summary>
        public IReadOnlyList<(string Name, Parameter Parameter)> Parameters { get; }

        internal readonly Dictionary<string, (Tensor ExpAvg, Tensor ExpAvgSq, long Step)> State = new();
    }

    /// <summary>Creates the optimizer; build the groups after moving the model to its device.</summary>
    public PetAdamW(IEnumerable<ParameterGroup> parameterGroups, double beta1 = 0.9, double beta2 = 0.999, double epsilon = 1e-8)
    {
        groups = parameterGroups.Select(g => new Group(g.Name, g.LearningRate, g.WeightDecay, g.Parameters)).ToList();
        if (groups.Count == 0 || groups.All(g => g.Parameters.Count == 0)) throw new ArgumentException("There are no parameters to optimize.");
        beta1Value = beta1;
        beta2Value = beta2;
        this.epsilon = epsilon;
        this.beta1 = beta1.ToScalar();
        this.beta2 = beta2.ToScalar();
        oneMinusBeta1 = (1 - beta1).ToScalar();
        oneMinusBeta2 = (1 - beta2).ToScalar();
    }

    /// <summary>The groups, in order.</summary>
    public IReadOnlyList<Group> Groups => groups;

    /// <summary>Clears every parameter's gradient.</summary>
    public void ZeroGrad()
    {
        foreach (var group in groups)
            foreach (var (_, parameter) in group.Parameters)
                parameter.grad = null;
    }

    /// <summary>One AdamW update of every parameter that has a gradient.</summary>
    public void Step()
    {
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        foreach (var group in groups)
        {
            using var decay = (1 - group.LearningRate * group.WeightDecay).ToScalar();
            foreach (var (name, parameter) in group.Parameters)
            {
                using var grad = parameter.grad;
                if (grad is null) continue;
                if (!group.State.TryGetValue(name, out var state))
                    state = (zeros_like(parameter).DetachFromDisposeScope(), zeros_like(parameter).DetachFromDisposeScope(), 0);
                long step = state.Step + 1;
                group.State[name] = (state.ExpAvg, state.ExpAvgSq, step);

                if (group.WeightDecay != 0) parameter.mul_(decay);
                state.ExpAvg.mul_(beta1).add_(grad, oneMinusBeta1);
                state.ExpAvgSq.mul_(beta2).addcmul_(grad, grad, oneMinusBeta2);
                double correction1 = 1 - Math.Pow(beta1Value, step), correction2 = 1 - Math.Pow(beta2Value, step);
                using var sqrtCorrection2 = Math.Sqrt(correction2).ToScalar();
                using var eps = epsilon.ToScalar();
                using var stepSize = (-group.LearningRate / correction1).ToScalar();
                var denominator = state.ExpAvgSq.sqrt().div_(sqrtCorrection2).add_(eps);
                parameter.addcdiv_(state.ExpAvg, denominator, stepSize);
            }
        }
    }

    /// <summary>The state as tensors: <c>{param}.exp_avg</c>, <c>{param}.exp_avg_sq</c>, <c>{param}.step</c> (int64).</summary>
    public Dictionary<string, Tensor> StateDict()
    {
        var result = new Dictionary<string, Tensor>();
        foreach (var group in groups)
            foreach (var (name, (expAvg, expAvgSq, step)) in group.State)
            {
                result[name + ".exp_avg"] = expAvg;
                result[name + ".exp_avg_sq"] = expAvgSq;
                result[name + ".step"] = tensor(new[] { step });
            }
        return result;
    }

    /// <summary>Restores a state written by <see cref="StateDict"/> (values are copied to the parameters' devices).</summary>
    /// <exception cref="InvalidDataException">The state names a parameter this optimizer does not have, or a shape differs.</exception>
    public void LoadStateDict(IReadOnlyDictionary<string, Tensor> state)
    {
        var owner = groups.SelectMany(g => g.Parameters.Select(p => (g, p.Name, p.Parameter))).ToDictionary(x => x.Name);
        var names = state.Keys.Where(k => k.EndsWith(".step", StringComparison.Ordinal)).Select(k => k[..^".step".Length]).ToList();
        var unknown = names.Where(n => !owner.ContainsKey(n)).ToList();
        if (unknown.Count > 0) throw new InvalidDataException($"The optimizer state names parameters this model does not train: {string.Join(", ", unknown)}.");
        foreach (string name in names)
        {
            var (group, _, parameter) = owner[name];
            var expAvg = state[name + ".exp_avg"];
            if (!expAvg.shape.SequenceEqual(parameter.shape))
                throw new InvalidDataException($"Optimizer state of '{name}' has shape [{string.Join(", ", expAvg.shape)}], the parameter [{string.Join(", ", parameter.shape)}].");
            group.State[name] = (expAvg.to(parameter.dtype, parameter.device).DetachFromDisposeScope(),
                state[name + ".exp_avg_sq"].to(parameter.dtype, parameter.device).DetachFromDisposeScope(),
                state[name + ".step"].item<long>());
        }
    }

    /// <summary>Bytes of optimizer state held (two moments per trained parameter; frozen ones hold none).</summary>
    public long StateBytes => groups.SelectMany(g => g.State.Values).Sum(s => s.ExpAvg.NumberOfElements * s.ExpAvg.ElementSize * 2);

    /// <inheritdoc />
    public void Dispose()
    {
        foreach (var group in groups)
            foreach (var (expAvg, expAvgSq, _) in group.State.Values)
            {
                expAvg.Dispose();
                expAvgSq.Dispose();
            }
        beta1.Dispose();
        beta2.Dispose();
        oneMinusBeta1.Dispose();
        oneMinusBeta2.Dispose();
    }
}
