using Pvp.Models;
using Pvp.Tests.Numerics;
using Pvp.Training;
using TorchSharp;
using static TorchSharp.torch;
using Pvp.Optim;

namespace Pvp.Tests.Training;

/// <summary>Pvp's SGD against TorchSharp's (an implementation we did not write); VPT's decay rule; VPT's per-epoch schedule.</summary>
public class PetSgdTests
{
    private static readonly Tensor X = randn(4, 3, 32, 32, generator: new TorchSharp.torch.Generator(7));
    private static readonly Tensor Y = tensor(new long[] { 0, 1, 2, 0 });

    private static void Steps(PetModel model, Action zero, Action step, int count) => OptimizerSteps.Run(model, X, Y, zero, step, count);

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void MatchesTorchSharpsSgdWithMomentumDecayAndGroups(bool nesterov)
    {
        manual_seed(1);
        using var ours = new VptDeepMicro(numClasses: 3);
        TestTensors.Perturb(ours, 0.02);
        using var theirs = new VptDeepMicro(numClasses: 3);
        TestTensors.CopyShared(ours, theirs);

        using var sgd = ours.CreateSgd(learningRate: 0.05, weightDecay: 0.01, momentum: 0.9, rule: DecayRule.All, nesterov: nesterov);
        var groups = theirs.ParameterGroups(0.05, 0.01, DecayRule.All)
            .Select(g => new TorchSharp.Modules.SGD.ParamGroup(g.Parameters.Select(p => p.Parameter),
                new TorchSharp.Modules.SGD.Options { LearningRate = g.LearningRate, weight_decay = g.WeightDecay, momentum = 0.9, nesterov = nesterov }))
            .ToList();
        using var reference = optim.SGD(groups, 0.05, momentum: 0.9, weight_decay: 0.01, nesterov: nesterov);

        var start = TestTensors.Snapshot(ours);
        Steps(ours, sgd.ZeroGrad, sgd.Step, 5);
        Steps(theirs, () => reference.zero_grad(), () => reference.step(), 5);
        var expected = theirs.state_dict();
        foreach (var (key, value) in ours.state_dict())
            Assert.True(TestTensors.MaxDiff(value, expected[key]) <= 1e-6, $"{key}: {TestTensors.MaxDiff(value, expected[key]):E2}");
        Assert.True(TestTensors.MaxDiff(ours.state_dict()["prompt_embeddings"], start["prompt_embeddings"]) > 0, "the prompts did not train");
    }

    [Fact]
    public void VptsDecayRuleDecaysPromptsAndBiasesButNotTheClassifierBias()
    {
        using var model = new VptDeepMicro(numClasses: 3);
        var decayed = model.ParameterGroups(0.1, 0.01, DecayRule.All).Where(g => g.WeightDecay > 0).SelectMany(g => g.Parameters.Select(p => p.Name)).ToHashSet();
        Assert.Contains("prompt_embeddings", decayed);
        Assert.Contains("deep_prompt_embeddings", decayed);
        Assert.Contains("head.weight", decayed);
        Assert.DoesNotContain("head.bias", decayed);
        // Pvp's rule (timm's): weights only; prompts undecayed unless declared.
        var pvp = model.ParameterGroups(0.1, 0.01).Where(g => g.WeightDecay > 0).SelectMany(g => g.Parameters.Select(p => p.Name)).ToList();
        Assert.Equal(new[] { "head.weight" }, pvp);
    }

    [Fact]
    public void StateRoundTripsAndAnAdamWStateIsRefused()
    {
        manual_seed(2);
        using var model = new VptDeepMicro(numClasses: 3);
        using var sgd = model.CreateSgd(0.05, 0.0);
        Steps(model, sgd.ZeroGrad, sgd.Step, 2);
        var state = sgd.StateDict();
        Assert.Equal(new[] { "deep_prompt_embeddings", "head.bias", "head.weight", "prompt_embeddings" },
            state.Keys.Select(k => k[..^".momentum_buffer".Length]).OrderBy(k => k, StringComparer.Ordinal));
        using var copy = model.CreateSgd(0.05, 0.0);
        copy.LoadStateDict(state);
        Assert.All(copy.StateDict(), p => Assert.True(TestTensors.Same(p.Value, state[p.Key]), p.Key));
        using var adam = model.CreateAdamW(1e-3, 0.0);
        Steps(model, adam.ZeroGrad, adam.Step, 1);
        Assert.Contains("not SGD's", Assert.Throws<InvalidDataException>(() => copy.LoadStateDict(adam.StateDict())).Message);
        Assert.Contains("not AdamW's", Assert.Throws<InvalidDataException>(() => adam.LoadStateDict(state)).Message);
    }

    [Fact]
    public void VptsScheduleStepsPerEpochFromZero()
    {
        // VPT's WarmupCosineSchedule with WARMUP_EPOCH 10 and TOTAL_EPOCH 100, read once per epoch.
        Assert.Equal(0.0, LearningRateSchedule.EpochFactor(0, 100, 10));
        Assert.Equal(0.5, LearningRateSchedule.EpochFactor(5, 100, 10), 12);
        Assert.Equal(1.0, LearningRateSchedule.EpochFactor(10, 100, 10), 12);
        Assert.Equal(0.5, LearningRateSchedule.EpochFactor(55, 100, 10), 12);
        Assert.Equal(0.5 * (1 + Math.Cos(Math.PI * 89 / 90)), LearningRateSchedule.EpochFactor(99, 100, 10), 12);
    }
}
