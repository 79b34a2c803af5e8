using Pvp.Models;
using Pvp.MixedPrecision;
using TorchSharp;
using static TorchSharp.torch;

namespace Pvp.Tests.MixedPrecision;

/// <summary>The hardware decides, the declaration permits: feature flags → precision, with the flags injected.</summary>
public class PrecisionChoiceTests
{
    // Abridged /proc/cpuinfo of three real kinds of host seen on this project's machines.
    private const string Avx2Only = """
        processor	: 0
        vendor_id	: GenuineIntel
        model name	: Intel(R) Xeon(R) CPU @ 2.20GHz
        flags		: fpu vme sse sse2 ssse3 fma sse4_1 sse4_2 avx f16c avx2 bmi2
        processor	: 1
        model name	: Intel(R) Xeon(R) CPU @ 2.20GHz
        flags		: fpu vme sse sse2 ssse3 fma sse4_1 sse4_2 avx f16c avx2 bmi2
        """;

    private const string Avx512Bf16 = """
        processor	: 0
        model name	: AMD EPYC
        flags		: fpu sse2 avx avx2 fma avx512f avx512dq avx512bw avx512vl avx_vnni avx512_bf16 avx512_vnni
        """;

    private const string Amx = """
        processor	: 0
        model name	: Intel(R) Xeon(R) Platinum 8480+
        flags		: fpu avx avx2 fma avx512f amx_bf16 amx_tile amx_int8 avx512_fp16
        """;

    [Fact]
    public void CpuinfoIsReadForModelAndFlags()
    {
        var cpu = CpuFeatures.Parse(Avx2Only);
        Assert.Equal("Intel(R) Xeon(R) CPU @ 2.20GHz", cpu.Model);
        Assert.Contains("avx2", cpu.Flags);
        Assert.DoesNotContain("avx512_bf16", cpu.Flags);
        Assert.Equal("avx2 fma", cpu.ReportedFlagsPresent);
        Assert.Equal("avx2 fma avx512f avx512_fp16 amx_tile amx_bf16", CpuFeatures.Parse(Amx).ReportedFlagsPresent);
    }

    [Theory]
    [InlineData(Avx2Only, false, "no AVX-512 BF16 or AMX-BF16 on Intel(R) Xeon(R) CPU @ 2.20GHz (it has: avx2 fma)")]
    [InlineData(Avx512Bf16, true, "AVX-512 BF16 on AMD EPYC")]
    [InlineData(Amx, true, "AMX-BF16 on Intel(R) Xeon(R) Platinum 8480+")]
    [InlineData("", false, "the CPU's features are unknown (no flags in /proc/cpuinfo)")]
    public void CpuFlagsDecideNativeBf16(string cpuinfo, bool native, string reason)
    {
        var support = Bf16Support.OfCpu(CpuFeatures.Parse(cpuinfo));
        Assert.Equal(native, support.Native);
        Assert.Equal(reason, support.Reason);
    }

    [Theory]
    [InlineData(Avx512Bf16, 4.66, true, "AVX-512 BF16 on AMD EPYC, bf16 matrix products measured 4.66× float32's")]
    [InlineData(Avx512Bf16, 0.57, false, "AVX-512 BF16 on AMD EPYC is reported, but libtorch's bf16 matrix product measured 0.57× float32's here (auto takes bf16 from 1.25×)")]
    [InlineData(Avx2Only, 9.0, false, "no AVX-512 BF16 or AMX-BF16 on Intel(R) Xeon(R) CPU @ 2.20GHz (it has: avx2 fma)")]
    public void AMeasuredProductOverrulesTheFlagsWhereBf16IsSlower(string cpuinfo, double speedup, bool native, string reason)
    {
        var support = Bf16Support.OfCpu(CpuFeatures.Parse(cpuinfo), speedup);
        Assert.Equal(native, support.Native);
        Assert.Equal(reason, support.Reason);
    }

    [Fact]
    public void TheCpuSpeedupIsMeasuredOnThisMachine()
    {
        double speedup = Bf16Support.MeasureCpuSpeedup(64, 64, 64);
        Assert.True(double.IsFinite(speedup) && speedup > 0, $"{speedup}");
    }

    [Theory]
    [InlineData(7, 0, false)] // V100
    [InlineData(7, 5, false)] // T4
    [InlineData(8, 0, true)]  // A100
    [InlineData(9, 0, true)]  // H100
    public void CudaComputeCapabilityDecidesNativeBf16(int major, int minor, bool native)
    {
        var support = Bf16Support.OfCuda(0, (major, minor));
        Assert.Equal(native, support.Native);
        Assert.Contains($"{major}.{minor}", support.Reason);
        Assert.False(Bf16Support.OfCuda(1, null).Native);
    }

    public static TheoryData<bool, BackbonePrecision, bool, bool> Matrix() => new()
    {
        // allows bf16, requested, native → uses bf16
        { true, BackbonePrecision.Auto, true, true },
        { true, BackbonePrecision.Auto, false, false },
        { true, BackbonePrecision.Float32, true, false },
        { true, BackbonePrecision.Float32, false, false },
        { true, BackbonePrecision.Bf16, true, true },
        { true, BackbonePrecision.Bf16, false, true },
        { false, BackbonePrecision.Auto, true, false },
        { false, BackbonePrecision.Float32, true, false },
    };

    [Theory]
    [MemberData(nameof(Matrix))]
    public void TheDeclarationPermitsTheRequestForcesTheHardwareDecides(bool allows, BackbonePrecision requested, bool native, bool usesBf16)
    {
        var support = new Bf16Support(native, native ? "AVX-512 BF16 on test CPU" : "no AVX-512 BF16 or AMX-BF16 on test CPU");
        var choice = PrecisionChoice.Decide(allows, requested, support);
        Assert.Equal(usesBf16, choice.UsesBf16);
        Assert.Equal(usesBf16 ? "bf16" : "float32", choice.Name);
        if (allows && requested == BackbonePrecision.Auto) Assert.Contains(support.Reason, choice.Reason);
    }

    [Fact]
    public void Bf16ForAVariantThatAllowsOnlyFloat32IsAnError()
    {
        var e = Assert.Throws<ArgumentException>(() => PrecisionChoice.Decide(false, BackbonePrecision.Bf16, new Bf16Support(true, "x"), "VptDeepMicro"));
        Assert.Contains("VptDeepMicro does not allow a bf16 backbone", e.Message);
        VariantRegistry.Load(typeof(VptDeepMicro).Assembly);
        Assert.Throws<ArgumentException>(() => VariantRegistry.Create(nameof(VptDeepMicro), 10, precision: BackbonePrecision.Bf16));
        Assert.False(VariantRegistry.Describe(nameof(VptDeepMicro)).AllowsBf16Backbone);
        Assert.True(VariantRegistry.Describe(nameof(VptDeepBf16Micro)).AllowsBf16Backbone);
    }

    [Fact]
    public void OneGeneratedClassBuildsBothPrecisionsWithoutRegenerating()
    {
        using var fp32 = new VptDeepBf16Micro(10, precision: BackbonePrecision.Float32);
        Assert.Null(fp32.FrozenBackboneDtype);
        Assert.All(fp32.parameters(), p => Assert.Equal(ScalarType.Float32, p.dtype));
        Assert.Equal("float32", fp32.Precision.Name);

        using var bf16 = (PetModel)VariantRegistry.Create(nameof(VptDeepBf16Micro), 10, precision: BackbonePrecision.Bf16);
        Assert.Equal(ScalarType.BFloat16, bf16.FrozenBackboneDtype);
        foreach (var (name, p) in bf16.named_parameters())
            Assert.True(p.dtype == (p.requires_grad ? ScalarType.Float32 : ScalarType.BFloat16), $"{name} is {p.dtype}");
        Assert.Contains("frozen backbone in BFloat16", bf16.ModelCard());

        // Auto follows this host's CPU, whichever kind it is.
        using var auto = new VptDeepBf16Micro(10);
        Assert.Equal(Bf16Support.Of(null).Native, auto.Precision.UsesBf16);
    }

    [Fact]
    public void Float32PrecisionOfABf16VariantIsExactlyTheFloat32Variant()
    {
        // What auto picks on a CPU without native bf16: the same numbers as a variant declared float32-only.
        manual_seed(5);
        using var plain = new VptDeepMicro(10);
        using var allowed = new VptDeepBf16Micro(10, precision: BackbonePrecision.Float32);
        var source = plain.state_dict();
        foreach (var (name, p) in allowed.named_parameters())
            using (no_grad()) p.copy_(source[name]);
        plain.eval();
        allowed.eval();
        using var x = randn(3, 3, 32, 32);
        using var noGrad = no_grad();
        using var a = plain.call(x);
        using var b = allowed.call(x);
        Assert.Equal(0.0, (a - b).abs().max().item<float>());
    }
}

/// <summary>Both precisions of one generated class predict alike on a trained quick-start model.</summary>
public class PrecisionPredictionTests
{
    [Fact]
    public void TheQuickStartModelPredictsAlikeInFloat32AndBf16()
    {
        // The quick start's micro ViT, its backbone trained briefly on built-in source classes (as the quick start does first).
        manual_seed(0);
        var train = Pvp.Training.Data.SyntheticShapes.Source(Pvp.Training.Data.SyntheticSplit.Train, imagesPerClass: 24, classCount: 10);
        var test = Pvp.Training.Data.SyntheticShapes.Source(Pvp.Training.Data.SyntheticSplit.Test, imagesPerClass: 12, classCount: 10);
        using var backbone = new FullFineTuneMicro(10);
        Pvp.Training.Trainer.Fit(backbone, train, null,
            new Pvp.Training.TrainerOptions { Epochs = 6, BatchSize = 32, LearningRate = 2e-3, WarmupEpochs = 1, Device = "cpu", Augment = false });
        var trained = backbone.state_dict();

        using var fp32 = new VptDeepBf16Micro(10, precision: BackbonePrecision.Float32);
        using var bf16 = new VptDeepBf16Micro(10, precision: BackbonePrecision.Bf16);
        foreach (var model in new PetModel[] { fp32, bf16 })
        {
            var own = fp32.state_dict(); // shared prompts: the float32 model's initialisation
            foreach (var (name, p) in model.named_parameters())
                using (no_grad()) p.copy_(trained.TryGetValue(name, out var t) ? t : own[name]);
            model.eval();
        }

        var loader = new Pvp.Training.Data.BatchLoader(test, new Pvp.Training.Data.EvalTransform(32, cropFraction: 1.0), batchSize: 40, shuffle: false);
        int agree = 0, rightFp32 = 0, rightBf16 = 0, count = 0;
        using (no_grad())
        {
            foreach (var batch in loader.Epoch(0))
            {
                using (batch)
                using (var a = fp32.call(batch.Images).argmax(1))
                using (var b = bf16.call(batch.Images).argmax(1))
                {
                    agree += (int)a.eq(b).sum().item<long>();
                    rightFp32 += (int)a.eq(batch.Labels).sum().item<long>();
                    rightBf16 += (int)b.eq(batch.Labels).sum().item<long>();
                    count += (int)a.shape[0];
                }
            }
        }
        double accuracyFp32 = (double)rightFp32 / count, accuracyBf16 = (double)rightBf16 / count;
        Assert.True(accuracyFp32 > 0.3, $"the trained model should beat chance (10%) clearly; float32 top-1 {accuracyFp32:P1}");
        Assert.True((double)agree / count >= 0.95, $"predictions agree on {agree} of {count}");
        Assert.True(Math.Abs(accuracyFp32 - accuracyBf16) <= 0.02, $"top-1 float32 {accuracyFp32:P1}, bf16 {accuracyBf16:P1}");
    }
}
