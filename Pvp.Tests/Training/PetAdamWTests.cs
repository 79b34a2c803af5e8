using Pvp.Models;
using Pvp.Tests.Numerics;
using Pvp.Optim;
using Pvp.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Pvp.Tests.Training;

/// <summary>Pvp's AdamW against TorchSharp's (an implementation we did not write), and its state round trip.</summary>
public class PetAdamWTests
{
    private static readonly Tensor X = randn(4, 3, 32, 32, generator: new TorchSharp.torch.Generator(42));
    private static readonly Tensor Y = tensor(new long[] { 0, 1, 2, 0 });

    private static void Steps(PetModel model, Action zero, Action step, int count) => OptimizerSteps.Run(model, X, Y, zero, step, count);

    [Fact]
    public void MatchesTorchSharpsAdamWWithGroupsAndDecoupledDecay()
    {
        manual_seed(1);
        using var ours = new FullFineTuneMicro(numClasses: 3);
        TestTensors.Perturb(ours, 0.02);
        using var theirs = new FullFineTuneMicro(numClasses: 3);
        TestTensors.CopyShared(ours, theirs);

        using var petAdamW = ours.CreateAdamW(learningRate: 2e-3, weightDecay: 0.1);
        var groups = theirs.ParameterGroups(2e-3, 0.1)
            .Select(g => new TorchSharp.Modules.AdamW.ParamGroup(g.Parameters.Select(p => p.Parameter),
                new TorchSharp.Modules.AdamW.Options { LearningRate = g.LearningRate, weight_decay = g.WeightDecay }))
            .ToList();
        using var reference = optim.AdamW(groups, 2e-3, weight_decay: 0.1);

        Steps(ours, petAdamW.ZeroGrad, petAdamW.Step, 5);
        Steps(theirs, () => reference.zero_grad(), () => reference.step(), 5);
        var expected = theirs.state_dict();
        foreach (var (key, value) in ours.state_dict())
            Assert.True(TestTensors.MaxDiff(value, expected[key]) <= 1e-6, $"{key}: {TestTensors.MaxDiff(value, expected[key]):E2}");
        Assert.True(TestTensors.MaxDiff(ours.state_dict()["head.weight"], TestTensors.Snapshot(new FullFineTuneMicro(3))["head.weight"]) > 0);
    }

    [Fact]
    public void StateRoundTripsAndFrozenParametersHoldNone()
    {
        manual_seed(2);
        using var model = new VptDeepMicro(numClasses: 3);
        using var optimizer = model.CreateAdamW(1e-2, 0.0);
        Steps(model, optimizer.ZeroGrad, optimizer.Step, 2);
        var state = optimizer.StateDict();
        Assert.Equal(new[] { "deep_prompt_embeddings", "head.bias", "head.weight", "prompt_embeddings" },
            state.Keys.Where(k => k.EndsWith(".step", StringComparison.Ordinal)).Select(k => k[..^5]).OrderBy(k => k, StringComparer.Ordinal));
        Assert.Equal(2, state["head.weight.step"].item<long>());
        long trainable = model.TrainableParameterCount;
        Assert.Equal(trainable * 4 * 2, optimizer.StateBytes);

        using var copy = model.CreateAdamW(1e-2, 0.0);
        copy.LoadStateDict(state);
        Assert.All(copy.StateDict(), p => Assert.True(TestTensors.Same(p.Value, state[p.Key]), p.Key));
        var error = Assert.Throws<InvalidDataException>(() => copy.LoadStateDict(new Dictionary<string, Tensor> { ["blocks.0.attn.qkv.weight.step"] = tensor(new long[] { 1 }) }));
        Assert.Contains("blocks.0.attn.qkv.weight", error.Message);
    }
}
