using Pvp.Training.Data;
using Pvp.Models;
using Pvp.Tests.Numerics;
using Pvp.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Pvp.Tests.Training;

/// <summary>The trainer: learning happens, resume is exact, faults stop cleanly, memory stays flat.</summary>
public sealed class TrainerTests : IDisposable
{
    private readonly string root = Directory.CreateTempSubdirectory("pvp-train-").FullName;

    public void Dispose() => Directory.Delete(root, recursive: true);

    private static readonly SyntheticShapes Train = SyntheticShapes.Target(SyntheticSplit.Train, imagesPerClass: 24, classCount: 5);
    private static readonly SyntheticShapes Test = SyntheticShapes.Target(SyntheticSplit.Test, imagesPerClass: 20, classCount: 5);

    private static TrainerOptions Small => new()
    {
        Epochs = 3, BatchSize = 16, LearningRate = 3e-3, WarmupEpochs = 0.5, Augment = false, LoaderWorkers = 2,
    };

    /// <summary>Records the step at which to cancel, and the live-tensor count at chosen steps.</summary>
    private sealed class Probe(long cancelAt, CancellationTokenSource? cancel) : ITrainingObserver
    {
        public readonly Dictionary<long, long> LiveTensors = new();
        public readonly List<double> Losses = new();

        public void Step(long step, double loss, double learningRate)
        {
            Losses.Add(loss);
            LiveTensors[step] = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
            if (step == cancelAt) cancel?.Cancel();
        }
    }

    [Fact]
    public void LossFallsAndAccuracyBeatsChance()
    {
        manual_seed(1);
        using var model = new FullFineTuneMicro(numClasses: 5);
        var probe = new Probe(-1, null);
        var result = Trainer.Fit(model, Train, Test, Small with { Epochs = 6 }, observer: probe);
        Assert.Equal(TrainingOutcome.Completed, result.Outcome);
        Assert.Equal(6 * (120 / 16), result.Steps);
        Assert.True(probe.Losses.TakeLast(5).Average() < probe.Losses.Take(5).Average() * 0.8,
            $"loss should fall: first {probe.Losses.Take(5).Average():F3}, last {probe.Losses.TakeLast(5).Average():F3}");
        Assert.True(result.Evaluation!.Top1 > 0.4, $"5 classes: chance is 20%, got {result.Evaluation}");
        Assert.Equal(1.0, result.Evaluation.Top5); // five classes: the label is always among the top five
    }

    [Fact]
    public void InterruptedRunResumesToTheSameWeightsAsAnUninterruptedOne()
    {
        PetModel Build()
        {
            manual_seed(5);
            return new VptDeepLoraMicro(numClasses: 5);
        }
        var options = Small with { Epochs = 2, CheckpointEverySteps = 4 };

        using var straight = Build();
        var full = Trainer.Fit(straight, Train, null, options, Path.Combine(root, "straight"));

        string run = Path.Combine(root, "interrupted");
        using var cancel = new CancellationTokenSource();
        using (var first = Build())
        {
            var stopped = Trainer.Fit(first, Train, null, options, run, new Probe(cancelAt: 6, cancel), cancel.Token);
            Assert.Equal(TrainingOutcome.Interrupted, stopped.Outcome);
            Assert.Equal(6, stopped.Steps);
        }
        Assert.Empty(Directory.GetFiles(run, "*.tmp", SearchOption.AllDirectories));

        using var resumed = Build();
        var finished = Trainer.Fit(resumed, Train, null, options with { Resume = true }, run);
        Assert.Equal(6, finished.ResumedFromStep);
        Assert.Equal(full.Steps, finished.Steps);
        var expected = straight.state_dict();
        foreach (var (key, value) in resumed.state_dict())
            Assert.True(TestTensors.MaxDiff(value, expected[key]) <= 1e-6, $"{key} differs after resume by {TestTensors.MaxDiff(value, expected[key]):E2}");
        Assert.True(TestTensors.MaxDiff(resumed.state_dict()["prompt_embeddings"], Build().state_dict()["prompt_embeddings"]) > 1e-4, "training changed the prompts");
    }

    [Fact]
    public void NonFiniteLossStopsNamingStepAndLearningRate()
    {
        manual_seed(2);
        using var model = new LinearProbeMicro(numClasses: 5);
        using (no_grad()) model.state_dict()["head.weight"].fill_(double.NaN);
        var error = Assert.Throws<TrainingDivergedException>(() => Trainer.Fit(model, Train, null, Small, Path.Combine(root, "nan")));
        Assert.Equal(0, error.Step);
        Assert.Contains("Training diverged at step 0", error.Message);
        Assert.Contains("learning rate", error.Message);
        Assert.Contains("\"event\":\"diverged\"", File.ReadAllText(Path.Combine(root, "nan", "metrics.jsonl")));
    }

    [Fact]
    public void LiveTensorCountStaysFlatOverFiftySteps()
    {
        manual_seed(3);
        using var model = new VptDeepMicro(numClasses: 5);
        var probe = new Probe(-1, null);
        // 120 images / batch 8 = 15 steps per epoch; 4 epochs = 60 steps.
        Trainer.Fit(model, Train, null, Small with { Epochs = 4, BatchSize = 8 }, observer: probe);
        long early = probe.LiveTensors[5], late = probe.LiveTensors[55];
        Assert.True(early > 0, "no live tensor was counted at step 5: the count measures nothing, and the comparison below would pass vacuously");
        Assert.True(late <= early, $"live tensors grew from {early} at step 5 to {late} at step 55");
    }

    [Fact]
    public void ScheduleWarmsUpLinearlyThenDecaysByCosine()
    {
        Assert.Equal(0.25, LearningRateSchedule.Factor(0, 100, 4), 12);
        Assert.Equal(1.0, LearningRateSchedule.Factor(3, 100, 4), 12);
        Assert.Equal(1.0, LearningRateSchedule.Factor(4, 100, 4), 12);
        Assert.Equal(0.5, LearningRateSchedule.Factor(52, 100, 4), 12);
        Assert.True(LearningRateSchedule.Factor(99, 100, 4) < 0.001);
    }

    [Fact]
    public void BadOptionsAreNamed()
    {
        using var model = new LinearProbeMicro(numClasses: 5);
        Assert.Contains("BatchSize = 0", Assert.Throws<ArgumentException>(() => Trainer.Fit(model, Train, null, Small with { BatchSize = 0 })).Message);
        Assert.Contains("Unknown device 'tpu'", Assert.Throws<ArgumentException>(() => Trainer.Fit(model, Train, null, Small with { Device = "tpu" })).Message);
        using var tooSmall = new LinearProbeMicro(numClasses: 3);
        Assert.Contains("5 classes", Assert.Throws<ArgumentException>(() => Trainer.Fit(tooSmall, Train, null, Small)).Message);
    }
}
