// Is training ever data-bound? Decoded-and-augmented 224×224 JPEG images per second, beside the training step's
// images per second for ViT-S/16 (VPT-deep), measured in one run on this machine.
//
//   dotnet run -c Release --project bench/Throughput [-- --images 512 --batch 16 --steps 6]
using System.Diagnostics;
using Pvp.Training.Data;
using Pvp.Models;
using TorchSharp;
using static TorchSharp.torch;

int images = Arg("--images", 512), batch = Arg("--batch", 16), steps = Arg("--steps", 6);
string folder = Path.Combine(Path.GetTempPath(), "pvp-throughput-jpeg");
Console.WriteLine($"machine: {Environment.ProcessorCount} cores, torch threads {get_num_threads()}, {RuntimeInformationText()}");

// 1. A JPEG dataset at a typical photo size (320×320 → random-resized crop to 224).
if (!Directory.Exists(folder) || Directory.GetFiles(folder, "*.jpg", SearchOption.AllDirectories).Length < images)
{
    Console.Write($"writing {images} JPEG images (320×320) to {folder} … ");
    var source = SyntheticShapes.Source(SyntheticSplit.Train, imagesPerClass: (images + 39) / 40, imageSize: 320);
    Parallel.For(0, images, i =>
    {
        using var bitmap = source.Read(i);
        ImageCodec.Save(bitmap, Path.Combine(folder, source.NameOf(i).Replace(".png", ".jpg", StringComparison.Ordinal)));
    });
    Console.WriteLine("done");
}
var dataset = FileDataset.ImageFolder(folder);
var loader = new BatchLoader(dataset, new TrainTransform(224), batchSize: batch, shuffle: true, seed: 0);
foreach (var warm in loader.Epoch(0).Take(2)) warm.Dispose();
var clock = Stopwatch.StartNew();
int decoded = 0;
foreach (var b in loader.Epoch(1))
{
    decoded += b.Indices.Length;
    b.Dispose();
}
double dataRate = decoded / clock.Elapsed.TotalSeconds;
Console.WriteLine($"data:  {decoded} JPEGs decoded + random-resized-crop + flip + normalise in {clock.Elapsed.TotalSeconds:F2} s " +
                  $"= {dataRate:F1} images/s ({loader.Workers} workers)");

// 2. The training step of ViT-S/16 VPT-deep (forward, backward, AdamW) on the same batch size.
manual_seed(0);
using var model = new VptDeepS16(numClasses: 100);
model.train();
using var optimizer = model.CreateAdamW(1e-3, 1e-4);
using var x = randn(batch, 3, 224, 224);
using var y = randint(0, 100, new long[] { batch });
double Step()
{
    var watch = Stopwatch.StartNew();
    using var scope = NewDisposeScope();
    optimizer.ZeroGrad();
    var loss = nn.functional.cross_entropy(model.call(x), y);
    loss.backward();
    optimizer.Step();
    return watch.Elapsed.TotalSeconds;
}
Step(); // warm-up
var times = Enumerable.Range(0, steps).Select(_ => Step()).OrderBy(t => t).ToList();
double median = times[times.Count / 2];
double trainRate = batch / median;
Console.WriteLine($"train: ViT-S/16 VPT-deep step (batch {batch}, forward + backward + AdamW), median of {steps}: {median:F2} s = {trainRate:F1} images/s");
Console.WriteLine($"ratio: data / train = {dataRate / trainRate:F1}× — {(dataRate > trainRate ? "the loader keeps ahead; training is compute-bound" : "training would wait for data")}");
Console.WriteLine("note: here the loader's threads and the training step share the same cores; on a GPU the step is faster and the ratio is what to watch.");

int Arg(string name, int fallback)
{
    int i = Array.IndexOf(args, name);
    return i >= 0 && i + 1 < args.Length ? int.Parse(args[i + 1], System.Globalization.CultureInfo.InvariantCulture) : fallback;
}

static string RuntimeInformationText() => System.Runtime.InteropServices.RuntimeInformation.FrameworkDescription;
