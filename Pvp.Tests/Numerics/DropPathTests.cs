using Pvp.Blocks;
using Pvp.Models;
using Pvp.Training;
using Pvp.Training.Data;
using TorchSharp;
using static TorchSharp.torch;

namespace Pvp.Tests.Numerics;

/// <summary>
/// Stochastic depth against timm's <c>DropPath</c> definition (per sample, scaled by 1 / keep, training only) and its
/// linear schedule over depth; the generated blocks carry it without changing inference or export.
/// </summary>
public sealed class DropPathTests : IDisposable
{
    private readonly string root = Directory.CreateTempSubdirectory("pvp-droppath-").FullName;

    public void Dispose() => Directory.Delete(root, recursive: true);

    [Fact]
    public void TrainingDropsWholeSamplesAndKeepsTheMean()
    {
        manual_seed(3);
        using var dropPath = new DropPath { Rate = 0.3 };
        dropPath.train();
        using var x = rand(20_000, 5, 4).add_(0.5);
        using var y = dropPath.call(x);
        using var ratio = y.div(x); // per element: 0 (dropped) or 1 / 0.7 (kept)
        // Per sample: one draw, broadcast over tokens and channels.
        using var perSample = ratio.view(20_000, -1);
        Assert.True(perSample.max(1).values.sub(perSample.min(1).values).abs().max().item<float>() < 1e-5f, "a sample is dropped or kept whole");
        using var kept = perSample.select(1, 0).gt(0.5);
        Assert.True(ratio.masked_select(ratio.gt(0.5)).sub(1 / 0.7).abs().max().item<float>() < 1e-5f, "kept samples are scaled by 1 / keep");
        double dropped = 1 - kept.to(ScalarType.Float32).mean().item<float>();
        // 20,000 Bernoulli(0.3) draws: standard deviation 0.0032; 5σ.
        Assert.InRange(dropped, 0.3 - 0.016, 0.3 + 0.016);
        // The expectation is kept: E[y] = E[x] (within the same sampling error, relative).
        double meanX = x.mean().item<float>(), meanY = y.mean().item<float>();
        Assert.InRange(meanY / meanX, 1 - 0.025, 1 + 0.025);
    }

    [Fact]
    public void EvaluationAndRateZeroPassTheBranchThrough()
    {
        using var x = randn(8, 5, 4);
        using var dropPath = new DropPath { Rate = 0.5 };
        dropPath.eval();
        Assert.True(dropPath.call(x).eq(x).all().item<bool>());
        dropPath.train();
        dropPath.Rate = 0;
        Assert.True(dropPath.call(x).eq(x).all().item<bool>());
        Assert.Throws<ArgumentOutOfRangeException>(() => dropPath.Rate = 1);
        Assert.Throws<ArgumentOutOfRangeException>(() => dropPath.Rate = -0.1);
        Assert.Throws<ArgumentOutOfRangeException>(() => dropPath.Rate = double.NaN);
    }

    [Fact]
    public void TheModelsRateFollowsTimmsLinearScheduleOverDepth()
    {
        using var model = new VptDeepMicro(numClasses: 5);
        model.DropPathRate = 0.1;
        var rates = model.named_modules().Where(m => m.module is DropPath).Select(m => (m.name, ((DropPath)m.module).Rate)).ToList();
        // torch.linspace(0, 0.1, 3) = [0, 0.05, 0.1], one per block.
        Assert.Equal(new[] { "blocks.0.drop_path", "blocks.1.drop_path", "blocks.2.drop_path" }, rates.Select(r => r.name));
        Assert.Equal(new[] { 0, 0.05, 0.1 }, rates.Select(r => Math.Round(r.Rate, 12)));
        Assert.Equal(0.1, model.DropPathRate);
        Assert.Throws<ArgumentOutOfRangeException>(() => model.DropPathRate = 1.5);
        Assert.Equal(0, DropPath.RateOfBlock(0.2, 0, 1));
    }

    [Fact]
    public void InferenceIsUnchangedAndTrainingIsNot()
    {
        manual_seed(5);
        using var model = new LoraMicro(numClasses: 5);
        using var x = randn(16, 3, 32, 32);
        using var noGrad = no_grad();
        model.eval();
        using var reference = model.call(x);
        model.DropPathRate = 0.5;
        using (var eval = model.call(x)) Assert.True(eval.eq(reference).all().item<bool>(), "eval never drops");
        model.train();
        model.DropPathRate = 0;
        using (var atZero = model.call(x)) Assert.True(atZero.sub(reference).abs().max().item<float>() < 1e-6f, "rate 0 is the identity in training");
        model.DropPathRate = 0.5;
        using var dropped = model.call(x);
        // Per sample: some samples lose a branch (their logits move), and the forward is the same function otherwise.
        using var moved = dropped.sub(reference).abs().amax(1).gt(1e-4);
        long changed = moved.sum().item<long>();
        Assert.InRange(changed, 1, 16);
    }

    [Fact]
    public void OnnxExportIgnoresTheRate()
    {
        using var model = new VptDeepMicro(numClasses: 5);
        string plain = Path.Combine(root, "plain.onnx"), withRate = Path.Combine(root, "rate.onnx");
        model.ExportOnnx(plain);
        model.DropPathRate = 0.3;
        model.ExportOnnx(withRate);
        Assert.Equal(File.ReadAllBytes(plain), File.ReadAllBytes(withRate));
    }

    [Fact]
    public void TheTrainerAppliesTheRateForTheRunAndGivesTheModelsBack()
    {
        var train = SyntheticShapes.Target(SyntheticSplit.Train, imagesPerClass: 4, classCount: 3);
        using var model = new VptDeepMicro(numClasses: 3);
        model.DropPathRate = 0.05;
        var options = new TrainerOptions { Epochs = 1, BatchSize = 6, Augment = false, LoaderWorkers = 1, DropPathRate = 0.2 };
        var observer = new RateProbe(model);
        Trainer.Fit(model, train, null, options, Path.Combine(root, "run"), observer);
        Assert.Equal(0.2, observer.RateWhileTraining);
        Assert.Equal(0.05, model.DropPathRate);
        Assert.Contains("\"drop_path\":0.2", File.ReadAllText(Path.Combine(root, "run", "metrics.jsonl")));
        Assert.Throws<ArgumentException>(() => (options with { DropPathRate = 1 }).Validate());
    }

    private sealed class RateProbe(PetModel model) : ITrainingObserver
    {
        public double RateWhileTraining { get; private set; } = double.NaN;

        public void Started(string variant, long firstStep, long totalSteps) => RateWhileTraining = model.DropPathRate;
    }
}
