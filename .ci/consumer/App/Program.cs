// Uses the consumer's own variant through the packages alone: model card, a forward pass, a few training steps.
using Consumer;
using Pvp;
using Pvp.Training.Data;
using TorchSharp;
using static TorchSharp.torch;

manual_seed(0);
using var model = new ConsumerPromptGate(numClasses: 10);
Console.Write(model.ModelCard());

var trainable = model.TrainableParameterNames().ToList();
Check(trainable.Contains("prompt_embeddings") && trainable.Contains("deep_prompt_embeddings"), "prompts train");
Check(trainable.Any(n => n.Contains("gate", StringComparison.Ordinal)), "the consumer's ChannelGate trains");
Check(!trainable.Any(n => n.StartsWith("blocks.0.attn.qkv", StringComparison.Ordinal)), "the backbone is frozen");

// One batch of the built-in dataset, read through Pvp.Training's loader: the same images every step.
var data = SyntheticShapes.Target(SyntheticSplit.Train, imagesPerClass: 4, classCount: 10, imageSize: 32);
var loader = new BatchLoader(data, new EvalTransform(32, cropFraction: 1.0), batchSize: data.Count, shuffle: false);
using var batch = loader.Epoch(0).First();
var x = batch.Images;
var y = batch.Labels;
using (var logits = model.forward(x))
    Check(logits.shape.SequenceEqual(new long[] { data.Count, 10 }), $"logits have shape [{data.Count}, 10]");

using var frozenBefore = model.state_dict()["blocks.0.attn.qkv.weight"].clone();
using var optimizer = model.CreateAdamW(learningRate: 1e-2, weightDecay: 0.0);
double first = 0, last = 0;
for (int step = 0; step < 15; step++)
{
    using var scope = NewDisposeScope();
    optimizer.ZeroGrad();
    var loss = nn.functional.cross_entropy(model.forward(x), y);
    loss.backward();
    optimizer.Step();
    double value = loss.item<float>();
    if (step == 0) first = value;
    last = value;
}
Console.WriteLine($"training loss {first:F4} -> {last:F4} over 15 steps");
Check(last < first, "the loss falls");
Check(model.state_dict()["blocks.0.attn.qkv.weight"].allclose(frozenBefore, rtol: 0, atol: 0), "frozen weights are unchanged by the optimizer");
Console.WriteLine("consumer: ok");
return 0;

static void Check(bool condition, string what)
{
    if (!condition)
    {
        Console.Error.WriteLine($"consumer check failed: {what}");
        Environment.Exit(1);
    }
    Console.WriteLine($"  ok: {what}");
}
