using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Pvp.Optim;

/// <summary>
/// AdamW (Loshchilov and Hutter; PyTorch's update rule with decoupled weight
/// decay) over a model's <see cref="ParameterGroup"/>s. State:
/// <c>{param}.exp_avg</c>, <c>{param}.exp_avg_sq</c>, <c>{param}.step</c> (int64).
/// </summary>
public sealed class PetAdamW : PetOptimizer
{
    private readonly Dictionary<string, (Tensor ExpAvg, Tensor ExpAvgSq, long Step)> state =
        new(StringComparer.Ordinal);
    private readonly Scalar beta1, beta2, oneMinusBeta1, oneMinusBeta2;
    private readonly double beta1Value, beta2Value, epsilon;

    /// <summary>Creates the optimizer; build the groups after moving the model to its device.</summary>
    public PetAdamW(
        IEnumerable<ParameterGroup> parameterGroups, double beta1 = 0.9, double beta2 = 0.999, double epsilon = 1e-8)
        : base(parameterGroups)
    {
        beta1Value = beta1;
        beta2Value = beta2;
        this.epsilon = epsilon;
        this.beta1 = beta1.ToScalar();
        this.beta2 = beta2.ToScalar();
        oneMinusBeta1 = (1 - beta1).ToScalar();
        oneMinusBeta2 = (1 - beta2).ToScalar();
    }

    /// <inheritdoc />
    public override string Description => "AdamW";

    /// <summary>One AdamW update of every parameter that has a gradient.</summary>
    public override void Step()
    {
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        foreach (var group in Groups)
        {
            using var decay = (1 - group.LearningRate * group.WeightDecay).ToScalar();
            foreach (var (name, parameter) in group.Parameters)
            {
                using var grad = parameter.grad;
                if (grad is null) continue;
                if (!state.TryGetValue(name, out var slot))
                    slot = (
                        zeros_like(parameter).DetachFromDisposeScope(),
                        zeros_like(parameter).DetachFromDisposeScope(),
                        0);
                long step = slot.Step + 1;
                state[name] = (slot.ExpAvg, slot.ExpAvgSq, step);

                if (group.WeightDecay != 0) parameter.mul_(decay);
                slot.ExpAvg.mul_(beta1).add_(grad, oneMinusBeta1);
                slot.ExpAvgSq.mul_(beta2).addcmul_(grad, grad, oneMinusBeta2);
                double correction1 = 1 - Math.Pow(beta1Value, step), correction2 = 1 - Math.Pow(beta2Value, step);
                using var sqrtCorrection2 = Math.Sqrt(correction2).ToScalar();
                using var eps = epsilon.ToScalar();
                using var stepSize = (-group.LearningRate / correction1).ToScalar();
                var denominator = slot.ExpAvgSq.sqrt().div_(sqrtCorrection2).add_(eps);
                parameter.addcdiv_(slot.ExpAvg, denominator, stepSize);
            }
        }
    }

    /// <inheritdoc />
    public override Dictionary<string, Tensor> StateDict()
    {
        var result = new Dictionary<string, Tensor>();
        foreach (var (name, (expAvg, expAvgSq, step)) in state)
        {
            result[name + ".exp_avg"] = expAvg;
            result[name + ".exp_avg_sq"] = expAvgSq;
            result[name + ".step"] = tensor(new[] { step });
        }
        return result;
    }

    /// <inheritdoc />
    public override void LoadStateDict(IReadOnlyDictionary<string, Tensor> saved)
    {
        var owner = Owners();
        var names = saved.Keys
            .Where(k => k.EndsWith(".step", StringComparison.Ordinal))
            .Select(k => k[..^".step".Length])
            .ToList();
        var unknown = names.Where(n => !owner.ContainsKey(n)).ToList();
        if (unknown.Count > 0)
            throw new InvalidDataException(
                $"The optimizer state names parameters this model does not train: {string.Join(", ", unknown)}.");
        if (names.Count == 0 && saved.Count > 0)
            throw new InvalidDataException(
                $"The optimizer state is not AdamW's (it has {string.Join(", ", saved.Keys.Take(3))}; " +
                "AdamW keeps exp_avg, exp_avg_sq and step).");
        foreach (string name in names)
        {
            var parameter = owner[name].Parameter;
            state[name] = (
                Matching(saved, name + ".exp_avg", name, parameter),
                Matching(saved, name + ".exp_avg_sq", name, parameter),
                saved[name + ".step"].item<long>());
        }
    }

    /// <summary>Bytes of optimizer state held (two moments per trained parameter; frozen ones hold none).</summary>
    public override long StateBytes => state.Values.Sum(s => s.ExpAvg.NumberOfElements * s.ExpAvg.ElementSize * 2);

    /// <inheritdoc />
    protected override void DisposeState()
    {
        foreach (var (expAvg, expAvgSq, _) in state.Values)
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
