using Pvp.Models;
using Pvp.Tests.Numerics;
using TorchSharp;
using static TorchSharp.torch;

namespace Pvp.Tests.Model;

/// <summary>Which parameters train, for every catalog variant, and that an optimizer step respects it.</summary>
public class FreezingTests
{
    public static TheoryData<string> MicroVariants => CatalogVariants("Micro");

    public static TheoryData<string> Tiny16Variants => CatalogVariants("Ti16");

    static FreezingTests() => VariantRegistry.Load(typeof(VptDeepMicro).Assembly);

    /// <summary>Every catalog variant (Pvp.Models) of one size, from the registry: a method added to the catalog is covered here.</summary>
    private static TheoryData<string> CatalogVariants(string size)
    {
        VariantRegistry.Load(typeof(VptDeepMicro).Assembly);
        var data = new TheoryData<string>();
        foreach (string name in VariantRegistry.Names.Where(n => n.EndsWith(size, StringComparison.Ordinal)
                     && VariantRegistry.TypeOf(n).Assembly == typeof(VptDeepMicro).Assembly).Order(StringComparer.Ordinal))
            data.Add(name);
        return data;
    }

    [Fact]
    public void TheCatalogListsCoverEveryMethod()
    {
        var micro = ((IEnumerable<object[]>)MicroVariants).Select(row => (string)row[0]).ToList();
        Assert.Contains(nameof(SsfMicro), micro);
        Assert.Contains(nameof(SsfFullMicro), micro);
        Assert.Contains(nameof(VptDeepBf16Micro), micro);
        Assert.Contains(nameof(SsfTi16), ((IEnumerable<object[]>)Tiny16Variants).Select(row => (string)row[0]));
    }

    [Theory]
    [MemberData(nameof(Tiny16Variants))]
    [MemberData(nameof(MicroVariants))]
    public void TrainableNamesAreExactlyTheMethodsOwn(string variant)
    {
        using var model = VariantRegistry.Create(variant, numClasses: 5);
        Assert.Equal(ExpectedTrainable.For(model), new SortedSet<string>(model.TrainableParameterNames(), StringComparer.Ordinal));
        Assert.Equal(model.parameters().Where(p => p.requires_grad).Sum(p => p.numel()), model.TrainableParameterCount);
    }

    [Theory]
    [MemberData(nameof(MicroVariants))]
    [MemberData(nameof(Tiny16Variants))]
    public void OptimizerStepsChangeTrainableAndLeaveFrozenBitIdentical(string variant)
    {
        manual_seed(11);
        using var model = VariantRegistry.Create(variant, numClasses: 5);
        AssertStepsRespectFreezing(model);
    }

    [Fact]
    public void UsersAttachmentTrainsAndBackboneDoesNot()
    {
        manual_seed(12);
        using var model = new TinyScaleShift(numClasses: 5);
        var trainable = model.TrainableParameterNames();
        Assert.Contains("blocks.2.scale_shift_after_mlp.scale", trainable);
        Assert.Contains("blocks.0.scale_shift_block_input.shift", trainable);
        Assert.DoesNotContain("blocks.1.scale_shift_block_input.shift", model.state_dict().Keys);
        Assert.Equal(3 * 2 + 2 + 2, trainable.Count); // 3 after-MLP pairs, 1 block-input pair, head
        AssertStepsRespectFreezing(model);
    }

    [Fact]
    public void AMethodFromOutsidePvpTrainsInItsOwnGroupAndTheBackboneStaysFrozen()
    {
        manual_seed(13);
        using var model = new Pvp.Tests.Generator.GatedScaleShiftMicro(numClasses: 5);
        Assert.Equal(new[] { "prompts", "gated_ss", "head" }, model.TrainableKinds);
        Assert.Equal("gated_ss", model.KindOf("blocks.1.gated_scale_shift_after_mlp.gate"));
        Assert.DoesNotContain("blocks.0.gated_scale_shift_after_mlp.gate", model.state_dict().Keys);
        Assert.Contains(model.ParameterGroups(1e-3, 0.05), g => g.Name == "gated_ss (no decay)");
        Assert.Equal(2 * 2 * 3 + 1 + 2, model.TrainableParameterNames().Count); // blocks 1–2, two sites, scale/shift/gate; prompts; head
        AssertStepsRespectFreezing(model);
    }

    [Fact]
    public void CatalogTrainableCountsFollowTheirFormulas()
    {
        const int head = 768 * 1000 + 1000;
        using (var m = new VptDeepB16(1000)) Assert.Equal(12 * 50 * 768 + head, m.TrainableParameterCount);           // 460,800 prompts
        using (var m = new LoraB16(1000)) Assert.Equal(12 * 2 * 2 * 8 * 768 + head, m.TrainableParameterCount);       // 294,912 LoRA
        using (var m = new VptShallowB16(1000)) Assert.Equal(50 * 768 + head, m.TrainableParameterCount);
        using (var m = new AdaptFormerB16(1000)) Assert.Equal(12 * (768 * 8 + 8 + 8 * 768 + 768) + head, m.TrainableParameterCount);
        using (var m = new LinearProbeB16(1000)) Assert.Equal(head, m.TrainableParameterCount);
        // BitFit: per block qkv 3·768, proj, fc1 4·768, fc2, two norms; plus patch_embed and final norm biases.
        using (var m = new BitFitB16(1000)) Assert.Equal(12 * (3 * 768 + 768 + 4 * 768 + 768 + 768 + 768) + 768 + 768 + head, m.TrainableParameterCount);
        using (var m = new FullFineTuneB16(1000))
        {
            Assert.Equal(86_567_656, m.TrainableParameterCount);
            Assert.Equal(m.ParameterCount, m.TrainableParameterCount);
        }
    }

    private static void AssertStepsRespectFreezing(PetModel model)
    {
        var before = TestTensors.Snapshot(model);
        var trainable = model.TrainableParameterNames().ToHashSet();
        using var optimizer = model.CreateAdamW(learningRate: 1e-2, weightDecay: 0.05);
        model.train();
        int size = model.Backbone.ImageSize;
        using var x = randn(6, 3, size, size);
        using var y = tensor(new long[] { 0, 1, 2, 3, 4, 0 });
        // Two steps: zero-initialised halves (LoRA B, adapter up-projections) only pass gradient to their partners after one.
        for (int step = 0; step < 2; step++)
        {
            optimizer.ZeroGrad();
            using var loss = nn.functional.cross_entropy(model.call(x), y);
            loss.backward();
            optimizer.Step();
        }
        foreach (var (name, value) in model.state_dict())
        {
            bool changed = !TestTensors.Same(value, before[name]);
            if (trainable.Contains(name)) Assert.True(changed, $"{name} is trainable but did not change");
            else Assert.False(changed, $"{name} is frozen but changed");
        }
    }
}
