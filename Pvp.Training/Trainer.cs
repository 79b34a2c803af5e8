using System.Diagnostics;
using Pvp.Training.Data;
using TorchSharp;
using static TorchSharp.torch;
using Pvp.MixedPrecision;

namespace Pvp.Training;

/// <summary>
/// Trains a generated model's trainable parameters with AdamW or SGD over its parameter groups: linear warm-up then
/// cosine decay, gradient clipping, optional label smoothing or timm's mixup / CutMix with soft targets; checkpoints
/// atomically (every N steps and at each epoch end) and resumes to the same weights an uninterrupted run reaches; stops cleanly on cancellation (Ctrl+C) after
/// saving; stops with the step and learning rate named when the loss stops being finite. Every step runs in a dispose
/// scope, so memory stays flat.
/// </summary>
public static class Trainer
{
    /// <summary>
    /// Trains <paramref name="model"/> on <paramref name="train"/>;
    /// evaluates on <paramref name="evaluation"/> when given.
    /// </summary>
    /// <param name="model">The model; it is moved to the options' device.</param>
    /// <param name="train">Training images.</param>
    /// <param name="evaluation">Held-out images, or null.</param>
    /// <param name="options">Training settings.</param>
    /// <param name="runDirectory">Where checkpoints and <c>metrics.jsonl</c> go (null: no checkpoints, no log).</param>
    /// <param name="observer">Progress receiver.</param>
    /// <param name="cancellationToken">Cancel to stop after the current step, with a checkpoint.</param>
    /// <exception cref="TrainingDivergedException">The loss became NaN or infinite.</exception>
    public static TrainingResult Fit(
        PetModel model, IImageDataset train, IImageDataset? evaluation, TrainerOptions options,
        string? runDirectory = null, ITrainingObserver? observer = null, CancellationToken cancellationToken = default)
    {
        options.Validate();
        if (train.Classes.Count > model.NumClasses)
            throw new ArgumentException($"The training set has {train.Classes.Count} classes " +
                                        $"but {model.VariantName} was built with a head for {model.NumClasses}.");
        if (options.Mixup is not null && options.BatchSize % 2 == 1 && train.Count > options.BatchSize)
            throw new ArgumentException($"BatchSize = {options.BatchSize} with Mixup: timm's batch mode pairs each image " +
                                        "with its mirror in the batch and needs an even batch; choose an even one.");
        using var run = new Run(model, train, options, runDirectory, observer ?? SilentObserver.Instance);
        if (options.Mixup is not null && Math.Min(options.BatchSize, train.Count) % 2 == 1)
            (observer ?? SilentObserver.Instance).Message(
                $"mixup: the {train.Count} training images are one odd batch; its middle image is paired with itself " +
                "(timm's batch mode would refuse an odd batch)");
        run.RestoreOrStart();
        for (int epoch = run.Position.Epoch; epoch < options.Epochs; epoch++)
        {
            if (!run.TrainEpoch(epoch, cancellationToken))
                return new TrainingResult(TrainingOutcome.Interrupted, run.Step, run.LastLoss, null, run.ResumedFrom);
            run.EndEpoch(epoch, evaluation);
        }
        var final = evaluation is null ? null : run.Evaluate(evaluation);
        return new TrainingResult(TrainingOutcome.Completed, run.Step, run.LastLoss, final, run.ResumedFrom);
    }

    /// <summary>One training run's state, and its steps in the order <see cref="Fit"/> takes them.</summary>
    private sealed class Run : IDisposable
    {
        private readonly PetModel model;
        private readonly TrainerOptions options;
        private readonly ITrainingObserver observer;
        private readonly BatchLoader loader;
        private readonly Pvp.Optim.PetOptimizer optimizer;
        private readonly List<TorchSharp.Modules.Parameter> trainable;
        private readonly CheckpointStore? store;
        private readonly MetricsLog metrics;
        private readonly Device device;
        private readonly long totalSteps, warmupSteps;
        private readonly Stopwatch clock = Stopwatch.StartNew();
        private readonly double modelDropPath; // the model's own rate, given back when the run ends

        /// <summary>
        /// Device, loader, optimizer, checkpoint store and log: everything a run needs before its first step.
        /// </summary>
        public Run(PetModel model, IImageDataset train, TrainerOptions options, string? runDirectory,
            ITrainingObserver observer)
        {
            this.model = model;
            this.options = options;
            this.observer = observer;
            modelDropPath = model.DropPathRate;
            model.DropPathRate = options.DropPathRate;
            device = Devices.Resolve(options.Device);
            if (device.type == DeviceType.CUDA)
            {
                backends.cuda.matmul.allow_tf32 = options.Tf32;
                backends.cudnn.allow_tf32 = options.Tf32;
            }
            model.to(device); // before the optimizer: moving replaces parameter objects

            int size = model.Backbone.ImageSize;
            var transform = options.Augment
                ? options.Preprocessing.TrainTransform(size)
                : options.Preprocessing.EvalTransform(size);
            loader = new BatchLoader(train, transform, options.BatchSize, shuffle: true, seed: options.Seed,
                workers: options.LoaderWorkers, dropLast: train.Count > options.BatchSize);
            totalSteps = loader.BatchesPerEpoch * options.Epochs;
            warmupSteps = (long)Math.Round(options.WarmupEpochs * loader.BatchesPerEpoch);

            optimizer = options.Optimizer == OptimizerKind.Sgd
                ? model.CreateSgd(options.LearningRate, options.WeightDecay, options.Momentum, options.Decay)
                : model.CreateAdamW(options.LearningRate, options.WeightDecay, rule: options.Decay);
            trainable = model.parameters().Where(p => p.requires_grad).ToList();
            store = runDirectory is null ? null : new CheckpointStore(Path.Combine(runDirectory, "checkpoints"));
            metrics = new MetricsLog(runDirectory is null ? null : Path.Combine(runDirectory, "metrics.jsonl"));
        }

        /// <summary>Where the run stands: the next epoch and batch, and the steps taken.</summary>
        public TrainingPosition Position { get; private set; } = new(0, 0, 0);

        /// <summary>Optimizer steps taken.</summary>
        public long Step { get; private set; }

        /// <summary>The loss of the last step.</summary>
        public double LastLoss { get; private set; } = double.NaN;

        /// <summary>The step a resumed run continued from, or null.</summary>
        public long? ResumedFrom { get; private set; }

        /// <summary>
        /// Seeds, resumes from the run folder's checkpoint when asked, says where the run starts and with what.
        /// </summary>
        public void RestoreOrStart()
        {
            manual_seed(options.Seed);
            if (options.Resume && store is { Exists: true })
            {
                Position = store.Restore(model, optimizer, observer.Message);
                ResumedFrom = Position.Step;
                observer.Message($"resumed from the checkpoint at step {Position.Step} " +
                                 $"(epoch {Position.Epoch + 1}, batch {Position.Batch})");
                metrics.Write("resume", new Dictionary<string, object?> { ["step"] = Position.Step });
            }
            Step = Position.Step;
            if (model.Precision is { AllowsBf16: true, Requested: BackbonePrecision.Auto } choice
                && choice.DecidedFor != device.type)
            {
                // Auto decided for the device the model was built on; it trains
                // elsewhere. Say so rather than run a choice made for other hardware.
                string note = $"the backbone precision ({choice.Name}) was chosen for {choice.DecidedFor}, " +
                              $"but training runs on {device.type}; " +
                              $"build the model with device: {device.type.ToString().ToLowerInvariant()} " +
                              "to let that device decide";
                observer.Message(note);
                metrics.Write("precision_device_mismatch", new Dictionary<string, object?> { ["note"] = note });
            }
            metrics.Write("start", new Dictionary<string, object?>
            {
                ["variant"] = model.VariantName, ["precision"] = model.Precision.Name, ["precision_reason"] = model.Precision.Reason,
                ["first_step"] = Position.Step, ["total_steps"] = totalSteps, ["optimizer"] = optimizer.Description,
                ["lr"] = options.LearningRate, ["weight_decay"] = options.WeightDecay, ["decay"] = options.Decay.ToString(),
                ["schedule"] = options.ScheduleByEpoch ? "per epoch" : "per step",
                ["preprocessing"] = options.Preprocessing.Describe(model.Backbone.ImageSize), ["augment"] = options.Augment,
                ["drop_path"] = options.DropPathRate, ["mixup"] = options.Mixup?.Describe(),
            });
            observer.Started(model.VariantName, Position.Step, totalSteps);
            model.train();
        }

        /// <summary>
        /// The epoch's remaining batches, a checkpoint every <c>CheckpointEverySteps</c>; false when cancelled (after a
        /// checkpoint), so the caller stops.
        /// </summary>
        public bool TrainEpoch(int epoch, CancellationToken cancellationToken)
        {
            int batchIndex = epoch == Position.Epoch ? Position.Batch : 0;
            double lossSum = 0;
            int lossCount = 0;
            foreach (var batch in loader.Epoch(epoch, skipBatches: batchIndex,
                cancellationToken: CancellationToken.None))
            {
                using (batch) lossSum += TrainStep(batch, epoch);
                lossCount++;
                batchIndex++;

                bool stopping = cancellationToken.IsCancellationRequested;
                if (store is not null
                    && (stopping || (options.CheckpointEverySteps > 0 && Step % options.CheckpointEverySteps == 0)))
                {
                    store.Save(model, optimizer, new TrainingPosition(epoch, batchIndex, Step));
                    observer.Message($"checkpoint at step {Step}");
                }
                if (stopping)
                {
                    observer.Message($"interrupted at step {Step}; " +
                                     "run the same command again to continue from its checkpoint");
                    metrics.Write("interrupted", new Dictionary<string, object?> { ["step"] = Step });
                    return false;
                }
            }
            epochMeanLoss = lossCount > 0 ? lossSum / lossCount : double.NaN;
            return true;
        }

        private double epochMeanLoss = double.NaN;

        /// <summary>
        /// One optimizer step on one batch, in a dispose scope: schedule, forward,
        /// loss (stopping when it is not finite), backward, clip, update.
        /// </summary>
        private double TrainStep(Batch batch, int epoch)
        {
            using var scope = NewDisposeScope();
            double factor = options.ScheduleByEpoch
                ? LearningRateSchedule.EpochFactor(epoch, options.Epochs, options.WarmupEpochs)
                : LearningRateSchedule.Factor(Step, totalSteps, warmupSteps);
            foreach (var group in optimizer.Groups) group.LearningRate = group.PeakLearningRate * factor;
            Tensor loss;
            if (options.Mixup is { } mixup)
            {
                // timm: the batch and its targets mixed, then SoftTargetCrossEntropy, sum(−t · log_softmax).mean().
                // The draw is keyed by the step, so a resumed run mixes as an uninterrupted one.
                var (images, targets, _) = mixup.Apply(batch.Images.to(device), batch.Labels.to(device),
                    model.NumClasses, new Random(Seeds.Mix(options.Seed, (int)Step, -2)));
                var logits = model.call(images);
                loss = (-targets * nn.functional.log_softmax(logits, 1)).sum(1).mean();
            }
            else
            {
                var logits = model.call(batch.Images.to(device));
                loss = nn.functional.cross_entropy(logits, batch.Labels.to(device),
                    label_smoothing: options.LabelSmoothing);
            }
            double value = loss.item<float>();
            if (!double.IsFinite(value))
            {
                metrics.Write("diverged",
                    new Dictionary<string, object?> { ["step"] = Step, ["loss"] = value, ["lr"] = options.LearningRate * factor });
                throw new TrainingDivergedException(Step, options.LearningRate * factor, value);
            }
            optimizer.ZeroGrad();
            loss.backward();
            if (options.ClipGradNorm > 0) nn.utils.clip_grad_norm_(trainable, options.ClipGradNorm);
            optimizer.Step();
            Step++;
            LastLoss = value;
            observer.Step(Step, value, options.LearningRate * factor);
            metrics.Write("step", new Dictionary<string, object?>
            {
                ["step"] = Step, ["epoch"] = epoch, ["loss"] = value, ["lr"] = options.LearningRate * factor
            });
            return value;
        }

        /// <summary>The epoch's checkpoint, its optional evaluation, and its log line.</summary>
        public void EndEpoch(int epoch, IImageDataset? evaluation)
        {
            store?.Save(model, optimizer, new TrainingPosition(epoch + 1, 0, Step));
            EvaluationResult? result = null;
            if (evaluation is not null && options.EvaluateEachEpoch && epoch < options.Epochs - 1)
            {
                result = Trainer.Evaluate(model, evaluation, options.BatchSize, options.LoaderWorkers,
                    options.Preprocessing);
                model.train();
            }
            observer.Epoch(epoch, epochMeanLoss, result);
            metrics.Write("epoch", new Dictionary<string, object?>
            {
                ["epoch"] = epoch, ["step"] = Step, ["mean_loss"] = epochMeanLoss, ["seconds"] = clock.Elapsed.TotalSeconds,
                ["top1"] = result?.Top1, ["top5"] = result?.Top5,
            });
        }

        /// <summary>The final evaluation, logged.</summary>
        public EvaluationResult Evaluate(IImageDataset evaluation)
        {
            var result = Trainer.Evaluate(model, evaluation, options.BatchSize, options.LoaderWorkers,
                options.Preprocessing);
            metrics.Write("evaluation", new Dictionary<string, object?>
            {
                ["top1"] = result.Top1, ["top5"] = result.Top5, ["loss"] = result.Loss, ["count"] = result.Count
            });
            return result;
        }

        public void Dispose()
        {
            optimizer.Dispose();
            metrics.Dispose();
            model.DropPathRate = modelDropPath;
        }
    }

    /// <summary>
    /// Top-1, top-5 and loss of <paramref name="model"/> on
    /// <paramref name="dataset"/>, under inference mode, in eval mode.
    /// </summary>
    /// <param name="model">The model (evaluated in eval mode; its mode is restored after).</param>
    /// <param name="dataset">Labelled images.</param>
    /// <param name="batchSize">Images per forward pass.</param>
    /// <param name="workers">Decoding threads (default: all cores).</param>
    /// <param name="preprocessing">
    /// Statistics, resize and crop (default <see cref="Preprocessing.Pvp"/>); use what training used.
    /// </param>
    public static EvaluationResult Evaluate(PetModel model, IImageDataset dataset, int batchSize = 64,
        int? workers = null, Preprocessing? preprocessing = null)
    {
        var device = model.parameters().First().device;
        var loader = new BatchLoader(dataset, (preprocessing ?? Preprocessing.Pvp).EvalTransform(model.Backbone.ImageSize),
            batchSize, shuffle: false, workers: workers);
        bool wasTraining = model.training;
        model.eval();
        long correct1 = 0, correct5 = 0;
        double lossSum = 0;
        int count = 0;
        using (inference_mode())
        {
            foreach (var batch in loader.Epoch(0))
            {
                using (batch)
                using (NewDisposeScope())
                {
                    var labels = batch.Labels.to(device);
                    var logits = model.call(batch.Images.to(device));
                    lossSum += nn.functional.cross_entropy(logits, labels, reduction: nn.Reduction.Sum).item<float>();
                    int k = (int)Math.Min(5, logits.shape[1]);
                    var top = logits.topk(k, dim: 1).indexes;
                    var hits = top.eq(labels.unsqueeze(1));
                    correct1 += hits.select(1, 0).sum().item<long>();
                    correct5 += hits.any(1).sum().item<long>();
                    count += batch.Indices.Length;
                }
            }
        }
        model.train(wasTraining);
        return new EvaluationResult((double)correct1 / count, (double)correct5 / count, lossSum / count, count);
    }
}
