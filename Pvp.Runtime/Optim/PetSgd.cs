using TorchSharp;
using static TorchSharp.torch;

namespace Pvp.Optim;

/// <summary>
/// Stochastic gradient descent with momentum, PyTorch's <c>torch.optim.SGD</c> update (dampening 0): the decay is an L2
/// term added to the gradient (d = g + λ·p), the buffer b = μ·b + d (b = d on the first step), then p −= lr·b (or, with
/// Nesterov, p −= lr·(d + μ·b)). VPT trains prompts with it (momentum 0.9). State: <c>{param}.momentum_buffer</c>.
/// </summary>
public sealed class PetSgd : PetOptimizer
{
    private readonly Dictionary<string, Tensor> buffers = new(StringComparer.Ordinal);
    private readonly Scalar momentum;

    /// <summary>Creates it; build the groups after moving the model to its device.</summary>
    /// <param name="parameterGroups">The groups, each with its learning rate and decay.</param>
    /// <param name="momentum">μ in [0, 1). Default 0.9 (VPT's).</param>
    /// <param name="nesterov">Nesterov momentum. Default false (VPT's).</param>
    public PetSgd(IEnumerable<ParameterGroup> parameterGroups, double momentum = 0.9, bool nesterov = false)
        : base(parameterGroups)
    {
        if (!(momentum >= 0 && momentum < 1))
            throw new ArgumentOutOfRangeException(nameof(momentum), momentum, "Momentum must be in [0, 1).");
        if (nesterov && momentum == 0)
            throw new ArgumentException("Nesterov momentum needs a momentum above 0.", nameof(nesterov));
        Momentum = momentum;
        Nesterov = nesterov;
        this.momentum = momentum.ToScalar();
    }

    /// <summary>μ.</summary>
    public double Momentum { get; }

    /// <summary>Whether the update looks ahead (Nesterov).</summary>
    public bool Nesterov { get; }

    /// <inheritdoc />
    public override string Description => $"SGD (momentum {Momentum}{(Nesterov ? ", Nesterov" : "")})";

    /// <summary>One SGD update of every parameter that has a gradient.</summary>
    public override void Step()
    {
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        foreach (var group in Groups)
        {
            using var decay = group.WeightDecay.ToScalar();
            using var stepSize = (-group.LearningRate).ToScalar();
            foreach (var (name, parameter) in group.Parameters)
            {
                using var grad = parameter.grad;
                if (grad is null) continue;
                var direction = group.WeightDecay != 0 ? grad.add(parameter, decay) : grad;
                if (Momentum != 0)
                {
                    if (buffers.TryGetValue(name, out var buffer)) buffer.mul_(momentum).add_(direction, Scalars.One);
                    else buffers[name] = buffer = direction.clone().DetachFromDisposeScope();
                    direction = Nesterov ? direction.add(buffer, momentum) : buffer;
                }
                parameter.add_(direction, stepSize);
            }
        }
    }

    /// <inheritdoc />
    public override Dictionary<string, Tensor> StateDict() =>
        buffers.ToDictionary(p => p.Key + ".momentum_buffer", p => p.Value);

    /// <inheritdoc />
    public override void LoadStateDict(IReadOnlyDictionary<string, Tensor> saved)
    {
        var owner = Owners();
        foreach (string key in saved.Keys)
        {
            if (!key.EndsWith(".momentum_buffer", StringComparison.Ordinal))
                throw new InvalidDataException(
                    $"The optimizer state is not SGD's: '{key}' (SGD keeps momentum_buffer only).");
            string name = key[..^".momentum_buffer".Length];
            if (!owner.TryGetValue(name, out var entry))
                throw new InvalidDataException(
                    $"The optimizer state names a parameter this model does not train: {name}.");
            if (buffers.Remove(name, out var old)) old.Dispose();
            buffers[name] = Matching(saved, key, name, entry.Parameter);
        }
    }

    /// <inheritdoc />
    public override long StateBytes => buffers.Values.Sum(b => b.NumberOfElements * b.ElementSize);

    /// <inheritdoc />
    protected override void DisposeState()
    {
        foreach (var buffer in buffers.Values) buffer.Dispose();
        momentum.Dispose();
    }
}
