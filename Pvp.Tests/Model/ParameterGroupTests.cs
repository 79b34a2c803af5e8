using Pvp.Models;
using Pvp.Tests.Numerics;
using Pvp.Optim;

namespace Pvp.Tests.Model;

/// <summary>Optimizer groups: one per kind, learning-rate scales from the declaration, no decay where it does not belong.</summary>
public class ParameterGroupTests
{
    private static Dictionary<string, (double Lr, double Decay, string[] Names)> Groups(PetModel model, double lr = 0.1, double decay = 0.05) =>
        model.ParameterGroups(lr, decay).ToDictionary(g => g.Name, g => (g.LearningRate, g.WeightDecay, g.Parameters.Select(p => p.Name).ToArray()));

    private static void AssertGroup((double Lr, double Decay, string[] Names) group, double lr, double decay, params string[] names)
    {
        Assert.Equal(lr, group.Lr, 12);
        Assert.Equal(decay, group.Decay, 12);
        Assert.Equal(names, group.Names);
    }

    [Fact]
    public void VptGroupsPromptsWithoutDecayAndSplitsTheHead()
    {
        using var model = new VptDeepMicro(numClasses: 5);
        var groups = Groups(model);
        Assert.Equal(new[] { "prompts (no decay)", "head", "head (no decay)" }, groups.Keys);
        AssertGroup(groups["prompts (no decay)"], 0.1, 0.0, "prompt_embeddings", "deep_prompt_embeddings");
        AssertGroup(groups["head"], 0.1, 0.05, "head.weight");
        AssertGroup(groups["head (no decay)"], 0.1, 0.0, "head.bias");
    }

    [Fact]
    public void DeclaredLearningRateScaleReachesTheGroup()
    {
        using var model = new TinyLoraEverywhere(numClasses: 5);
        var groups = Groups(model);
        Assert.Equal(new[] { "lora", "head", "head (no decay)" }, groups.Keys);
        Assert.Equal(1.0, groups["lora"].Lr, 12); // 0.1 × LearningRateScale 10
        Assert.Equal(0.05, groups["lora"].Decay);
        Assert.Equal(2 * (3 * 2 + 2) + 3 * 4, groups["lora"].Names.Length); // blocks 0–1: q, k, v, proj pairs; fc1 and fc2 pairs in all 3 blocks
    }

    [Fact]
    public void BitFitAndFullFineTuneNeverDecayBiasesNormsOrTokens()
    {
        using var bitfit = new BitFitMicro(numClasses: 5);
        var groups = Groups(bitfit);
        Assert.Equal(new[] { "head", "head (no decay)", "biases (no decay)" }, groups.Keys);
        Assert.Contains("blocks.0.norm1.bias", groups["biases (no decay)"].Names);

        using var full = new FullFineTuneMicro(numClasses: 5);
        groups = Groups(full);
        Assert.Equal(new[] { "head", "head (no decay)", "norms (no decay)", "biases (no decay)", "backbone", "backbone (no decay)" }, groups.Keys);
        Assert.Equal(new[] { "cls_token", "pos_embed" }, groups["backbone (no decay)"].Names.OrderBy(n => n));
        Assert.All(groups["norms (no decay)"].Names, n => Assert.Contains("norm", n));
        Assert.Contains("blocks.0.attn.qkv.weight", groups["backbone"].Names);
        Assert.Equal(full.ParameterCount, full.ParameterGroups(0.1, 0.05).Sum(g => g.ElementCount));
    }

    [Fact]
    public void AdamWGetsOneGroupPerParameterGroup()
    {
        using var model = new AdaptFormerMicro(numClasses: 5);
        using var optimizer = model.CreateAdamW(1e-3, 0.05);
        var groups = model.ParameterGroups(1e-3, 0.05);
        Assert.Equal(groups.Select(g => (g.Name, g.LearningRate, g.WeightDecay, g.Parameters.Count)),
            optimizer.Groups.Select(g => (g.Name, g.LearningRate, g.WeightDecay, g.Parameters.Count)));
    }
}
