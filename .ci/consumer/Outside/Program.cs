// A method from another package, through the packages alone: its group trains, the backbone stays bit-identical, the
// loss falls, and the ONNX export matches ONNX Runtime.
using Consumer;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using Pvp;
using TorchSharp;
using static TorchSharp.torch;

manual_seed(0);
using var model = new OutsideGatedPrompts(numClasses: 5);
Console.Write(model.ModelCard());
var groups = model.ParameterGroups(1e-2, 0.0).Select(g => g.Name).ToList();
Check(groups.Any(g => g.StartsWith("gated_ss", StringComparison.Ordinal)), $"the outside method trains in its own group (groups: {string.Join(", ", groups)})");
var trainable = model.TrainableParameterNames().ToList();
Check(trainable.Count(n => n.StartsWith("blocks.1.", StringComparison.Ordinal) || n.StartsWith("blocks.2.", StringComparison.Ordinal)) == 12,
      "blocks 1 and 2 each hold two gated scale-shifts of three parameters");
Check(!trainable.Any(n => n.StartsWith("blocks.0.", StringComparison.Ordinal)), "block 0 has none (Blocks = \"1..\")");

// A fixed batch: a few steps must lower its loss without touching the frozen backbone.
var x = randn(16, 3, 32, 32);
var y = randint(0, 5, new long[] { 16 });
var frozen = model.named_parameters().Where(p => !p.parameter.requires_grad).ToDictionary(p => p.name, p => p.parameter.detach().clone());
using var optimizer = model.CreateAdamW(learningRate: 1e-2, weightDecay: 0.0);
double first = 0, last = 0;
for (int step = 0; step < 20; step++)
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
Console.WriteLine($"training loss {first:F4} -> {last:F4} over 20 steps");
Check(last < first, "the loss falls");
Check(model.named_parameters().Where(p => !p.parameter.requires_grad).All(p => p.parameter.allclose(frozen[p.name], rtol: 0, atol: 0)),
      $"all {frozen.Count} frozen tensors are bit-identical after training");
using (no_grad())
    Check(model.state_dict().Where(p => p.Key.EndsWith("gate", StringComparison.Ordinal)).Any(p => p.Value.abs().max().item<float>() > 0),
          "the gates moved from 0");

// ONNX: the same logits from ONNX Runtime, to 1e-4.
model.eval();
string onnx = Path.Combine(Path.GetTempPath(), $"outside-{Environment.ProcessId}.onnx");
model.ExportOnnx(onnx);
using var logits = model.forward(x).contiguous();
var expected = logits.data<float>().ToArray();
using var session = new InferenceSession(onnx);
var input = new DenseTensor<float>(x.contiguous().data<float>().ToArray(), new[] { 16, 3, 32, 32 });
using var results = session.Run(new[] { NamedOnnxValue.CreateFromTensor(session.InputNames[0], input) });
var actual = results.First().AsEnumerable<float>().ToArray();
double worst = expected.Zip(actual, (a, b) => Math.Abs(a - b)).Max();
File.Delete(onnx);
Console.WriteLine($"ONNX Runtime vs TorchSharp: max |difference| {worst:E2} over {expected.Length} logits");
Check(actual.Length == expected.Length && worst <= 1e-4, "ONNX Runtime matches to 1e-4");
Console.WriteLine("outside method: ok");
return 0;

static void Check(bool condition, string what)
{
    if (!condition)
    {
        Console.Error.WriteLine($"outside-method check failed: {what}");
        Environment.Exit(1);
    }
    Console.WriteLine($"  ok: {what}");
}
