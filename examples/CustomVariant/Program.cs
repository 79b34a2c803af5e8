// Declares a PETuning variant with a user's own module ([Attach]) and trains it for a few steps.
using CustomVariant;
using TorchSharp;
using static TorchSharp.torch;

manual_seed(0);
using var model = new SsfMicro(numClasses: 4);
Console.Write(model.ModelCard());
foreach (var group in model.ParameterGroups(learningRate: 1e-2, weightDecay: 0.05))
    Console.WriteLine($"  group {group.Name,-24} lr {group.LearningRate:G3}  decay {group.WeightDecay:G3}  {group.ElementCount:N0} elements");

// A toy task: the class is which quadrant of the image is brightest.
using var optimizer = model.CreateAdamW(learningRate: 3e-2, weightDecay: 0.05);
model.train();
for (int step = 1; step <= 60; step++)
{
    using var scope = NewDisposeScope();
    var labels = randint(0, 4, new long[] { 32 });
    var images = randn(32, 3, 32, 32) * 0.1;
    for (int i = 0; i < 32; i++)
    {
        long q = labels[i].item<long>();
        images[i, .., TensorIndex.Slice(q / 2 * 16, q / 2 * 16 + 16), TensorIndex.Slice(q % 2 * 16, q % 2 * 16 + 16)] += 1.0;
    }
    optimizer.ZeroGrad();
    var loss = nn.functional.cross_entropy(model.call(images), labels);
    loss.backward();
    optimizer.Step();
    if (step % 15 == 0) Console.WriteLine($"step {step,3}: loss {loss.item<float>():F4}");
}
