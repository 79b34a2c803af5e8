using System.Diagnostics;
using Pvp.Data;
using TorchSharp;
using static TorchSharp.torch;

namespace Pvp.Training;

/// <summary>
/// Trains a generated model's trainable parameters with AdamW or SGD over its parameter groups: linear warm-up then cosine
/// decay, gradient clipping, optional label smoothing; checkpoints atomically (every N steps and at each epoch end)
/// and resumes to the same weights an uninterrupted run reaches; stops cleanly on cancellation (Ctrl+C) after saving;
/// stops with the step and learning rate named when the loss stops being finite. Every step runs in a dispose scope,
/// so memory stays flat.
/// </summary>
public static class Trainer
{
    /// <summary>Trains <paramref name="model"/> on <paramref name="train"/>; evaluates on <paramref name="evaluation"/> when given.</summary>
    /// <param name="model">The model; it is moved to the options' device.</param>
    /// <param name="train">Training images.</param>
    /// <param name="evaluation">Held-out images, or null.</param>
    /// <param name="options">Training settings.</param>
    /// <param name="runDirectory">Where checkpoints and <c>metrics.jsonl</c> go (null: no checkpoints, no log).</param>
    /// <param name="observer">Progress receiver.</param>
    /// <param name="cancellationToken">Cancel to stop after the current step, with a checkpoint.</param>
    /// <exception cref="TrainingDivergedException">The loss became NaN or infinite.</exception>
    public static TrainingResult Fit(PetModel model, IImageDataset train, IImageDataset? evaluation, TrainerOptions options,
        string? runDirectory = null, ITrainingObserver? observer = null, CancellationToken cancellationToken = default)
    {
        options.Validate();
        observer ??= SilentObserver.Instance;
        if (train.Classes.Count > model.NumClasses)
            throw new ArgumentException($"The training set has {train.Classes.Count} classes but {model.VariantName} was built with a head for {model.NumClasses}.");
        var device = Devices.Resolve(options.Device);
        if (device.type == DeviceType.CUDA)
        {
            backends.cuda.matmul.allow_tf32 = options.Tf32;
            backends.cudnn.allow_tf32 = options.Tf32;
        }
        model.to(device); // before the optimizer: moving replaces parameter objects

        int size = model.Backbone.ImageSize;
        var transform = options.Augment ? options.Preprocessing.TrainTransform(size) : options.Preprocessing.EvalTransform(size);
        var loader = new BatchLoader(train, transform, options.BatchSize, shuffle: true, seed: options.Seed,
            workers: options.LoaderWorkers, dropLast: train.Count > options.BatchSize);
        long stepsPerEpoch = loader.BatchesPerEpoch;
        long totalSteps = stepsPerEpoch * options.Epochs;
        long warmupSteps = (long)Math.Round(options.WarmupEpochs * stepsPerEpoch);

        using Pvp.Optim.PetOptimizer optimizer = options.Optimizer == OptimizerKind.Sgd
            ? model.CreateSgd(options.LearningRate, options.WeightDecay, options.Momentum, options.Decay)
            : new Pvp.Optim.PetAdamW(NonEmpty(model, model.ParameterGroups(options.LearningRate, options.WeightDecay, options.Decay)));
        var groups = optimizer.Groups;
        var trainable = model.parameters().Where(p => p.requires_grad).ToList();

        var store = runDirectory is null ? null : new CheckpointStore(Path.Combine(runDirectory, "checkpoints"));
        using var metrics = new MetricsLog(runDirectory is null ? null : Path.Combine(runDirectory, "metrics.jsonl"));
        manual_seed(options.Seed);
        var position = new TrainingPosition(0, 0, 0);
        long? resumedFrom = null;
        if (options.Resume && store is { Exists: true })
        {
            position = store.Restore(model, optimizer, observer.Message);
            resumedFrom = position.Step;
            observer.Message($"resumed from the checkpoint at step {position.Step} (epoch {position.Epoch + 1}, batch {position.Batch})");
            metrics.Write("resume", new Dictionary<string, object?> { ["step"] = position.Step });
        }
        if (model.Precision is { AllowsBf16: true, Requested: Pvp.Precision.BackbonePrecision.Auto } choice && choice.DecidedFor != device.type)
        {
            // Auto decided for the device the model was built on; it trains elsewhere. Say so rather than run a choice made for other hardware.
            string note = $"the backbone precision ({choice.Name}) was chosen for {choice.DecidedFor}, but training runs on {device.type}; " +
                          $"build the model with device: {device.type.ToString().ToLowerInvariant()} to let that device decide";
            observer.Message(note);
            metrics.Write("precision_device_mismatch", new Dictionary<string, object?> { ["note"] = note });
        }
        metrics.Write("start", new Dictionary<string, object?>
        {
            ["variant"] = model.VariantName, ["precision"] = model.Precision.Name, ["precision_reason"] = model.Precision.Reason,
            ["first_step"] = position.Step, ["total_steps"] = totalSteps, ["optimizer"] = optimizer.Description,
            ["lr"] = options.LearningRate, ["weight_decay"] = options.WeightDecay, ["decay"] = options.Decay.ToString(), ["schedule"] = options.ScheduleByEpoch ? "per epoch" : "per step",
            ["preprocessing"] = options.Preprocessing.Describe(size), ["augment"] = options.Augment,
        });
        observer.Started(model.VariantName, position.Step, totalSteps);

        long step = position.Step;
        double lastLoss = double.NaN;
        var clock = Stopwatch.StartNew();
        model.train();
        for (int epoch = position.Epoch; epoch < options.Epochs; epoch++)
        {
            int batchIndex = epoch == position.Epoch ? position.Batch : 0;
            double lossSum = 0;
            int lossCount = 0;
            foreach (var batch in loader.Epoch(epoch, skipBatches: batchIndex, cancellationToken: CancellationToken.None))
            {
                using (batch)
                using (var scope = NewDisposeScope())
                {
                    double factor = options.ScheduleByEpoch
                        ? LearningRateSchedule.EpochFactor(epoch, options.Epochs, options.WarmupEpochs)
                        : LearningRateSchedule.Factor(step, totalSteps, warmupSteps);
                    foreach (var group in groups) group.LearningRate = group.PeakLearningRate * factor;
                    var images = batch.Images.to(device);
                    var labels = batch.Labels.to(device);
                    var logits = model.call(images);
                    var loss = nn.functional.cross_entropy(logits, labels, label_smoothing: options.LabelSmoothing);
                    double value = loss.item<float>();
                    if (!double.IsFinite(value))
                    {
                        metrics.Write("diverged", new Dictionary<string, object?> { ["step"] = step, ["loss"] = value, ["lr"] = options.LearningRate * factor });
                        throw new TrainingDivergedException(step, options.LearningRate * factor, value);
                    }
                    optimizer.ZeroGrad();
                    loss.backward();
                    if (options.ClipGradNorm > 0) nn.utils.clip_grad_norm_(trainable, options.ClipGradNorm);
                    optimizer.Step();
                    step++;
                    batchIndex++;
                    lastLoss = value;
                    lossSum += value;
                    lossCount++;
                    observer.Step(step, value, options.LearningRate * factor);
                    metrics.Write("step", new Dictionary<string, object?> { ["step"] = step, ["epoch"] = epoch, ["loss"] = value, ["lr"] = options.LearningRate * factor });
                }

                bool stopping = cancellationToken.IsCancellationRequested;
                if (store is not null && (stopping || (options.CheckpointEverySteps > 0 && step % options.CheckpointEverySteps == 0)))
                {
                    store.Save(model, optimizer, new TrainingPosition(epoch, batchIndex, step));
                    observer.Message($"checkpoint at step {step}");
                }
                if (stopping)
                {
                    observer.Message($"interrupted at step {step}; run again with resume to continue");
                    metrics.Write("interrupted", new Dictionary<string, object?> { ["step"] = step });
                    return new TrainingResult(TrainingOutcome.Interrupted, step, lastLoss, null, resumedFrom);
                }
            }

            store?.Save(model, optimizer, new TrainingPosition(epoch + 1, 0, step));
            EvaluationResult? epochEvaluation = null;
            if (evaluation is not null && options.EvaluateEachEpoch && epoch < options.Epochs - 1)
            {
                epochEvaluation = Evaluate(model, evaluation, options.BatchSize, options.LoaderWorkers, options.Preprocessing);
                model.train();
            }
            double meanLoss = lossCount > 0 ? lossSum / lossCount : double.NaN;
            observer.Epoch(epoch, meanLoss, epochEvaluation);
            metrics.Write("epoch", new Dictionary<string, object?>
            {
                ["epoch"] = epoch, ["step"] = step, ["mean_loss"] = meanLoss, ["seconds"] = clock.Elapsed.TotalSeconds,
                ["top1"] = epochEvaluation?.Top1, ["top5"] = epochEvaluation?.Top5,
            });
        }

        EvaluationResult? final = evaluation is null ? null : Evaluate(model, evaluation, options.BatchSize, options.LoaderWorkers, options.Preprocessing);
        if (final is not null)
            metrics.Write("evaluation", new Dictionary<string, object?> { ["top1"] = final.Top1, ["top5"] = final.Top5, ["loss"] = final.Loss, ["count"] = final.Count });
        return new TrainingResult(TrainingOutcome.Completed, step, lastLoss, final, resumedFrom);
    }

    private static IReadOnlyList<ParameterGroup> NonEmpty(PetModel model, IReadOnlyList<ParameterGroup> groups) =>
        groups.Count > 0 ? groups : throw new InvalidOperationException($"{model.VariantName} has no trainable parameters.");

    /// <summary>Top-1, top-5 and loss of <paramref name="model"/> on <paramref name="dataset"/>, under inference mode, in eval mode.</summary>
    /// <param name="model">The model (evaluated in eval mode; its mode is restored after).</param>
    /// <param name="dataset">Labelled images.</param>
    /// <param name="batchSize">Images per forward pass.</param>
    /// <param name="workers">Decoding threads (default: all cores).</param>
    /// <param name="preprocessing">Statistics, resize and crop (default <see cref="Preprocessing.Pvp"/>); use what training used.</param>
    public static EvaluationResult Evaluate(PetModel model, IImageDataset dataset, int batchSize = 64, int? workers = null, Preprocessing? preprocessing = null)
    {
        var device = model.parameters().First().device;
        var loader = new BatchLoader(dataset, (preprocessing ?? Preprocessing.Pvp).EvalTransform(model.Backbone.ImageSize), batchSize, shuffle: false, workers: workers);
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
