// Classifies image files with a model exported by Pvp (`pvp export … --onnx model.onnx`), using ONNX Runtime alone:
// no TorchSharp, no libtorch. The preprocessing (image size, centre crop, mean/std) and the class names come from the
// file's metadata, so this program knows nothing of the model it runs.
//
//   dotnet run --project examples/OnnxClassify -- model.onnx images/           (a folder: one sub-folder per class → accuracy)
//   dotnet run --project examples/OnnxClassify -- model.onnx a.png b.jpg       (files: the top classes of each)
using System.Diagnostics;
using System.Text.Json;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using SkiaSharp;

if (args.Length < 2)
{
    Console.Error.WriteLine("usage: OnnxClassify <model.onnx> <folder with one sub-folder per class | image files...> [--batch N]");
    return 2;
}
int batchSize = 32;
var paths = new List<string>();
for (int i = 1; i < args.Length; i++)
{
    if (args[i] == "--batch" && i + 1 < args.Length) batchSize = int.Parse(args[++i], System.Globalization.CultureInfo.InvariantCulture);
    else paths.Add(args[i]);
}

using var session = new InferenceSession(args[0]);
var meta = session.ModelMetadata.CustomMetadataMap;
string Need(string key) => meta.TryGetValue(key, out string? value) ? value
    : throw new InvalidDataException($"{args[0]} has no '{key}' in its metadata: export it with `pvp export` (or ExportOnnx with Preprocessing and ClassNames).");
var pre = new Preprocessing(
    int.Parse(Need("pvp.image_size"), System.Globalization.CultureInfo.InvariantCulture),
    double.Parse(Need("pvp.crop_fraction"), System.Globalization.CultureInfo.InvariantCulture),
    JsonSerializer.Deserialize<float[]>(Need("pvp.mean"))!,
    JsonSerializer.Deserialize<float[]>(Need("pvp.std"))!,
    meta.GetValueOrDefault("pvp.resize", "short_side"),
    meta.GetValueOrDefault("pvp.interpolation", "bicubic"));
string[] classes = JsonSerializer.Deserialize<string[]>(Need("pvp.class_names"))!;
Console.WriteLine($"{Path.GetFileName(args[0])}: {Need("pvp.variant")}, {classes.Length} classes, {pre.Size}×{pre.Size} input, crop {pre.CropFraction} ({pre.Resize}, {pre.Interpolation}), Pvp {Need("pvp.version")}");

// A folder of class folders gives labelled images; files are classified as they are.
var images = new List<(string Path, int Label)>();
foreach (string path in paths)
{
    if (Directory.Exists(path))
    {
        foreach (string dir in Directory.GetDirectories(path).Order(StringComparer.Ordinal))
        {
            int label = Array.IndexOf(classes, Path.GetFileName(dir));
            if (label < 0) throw new InvalidDataException($"'{dir}': the model has no class '{Path.GetFileName(dir)}'.");
            images.AddRange(Directory.GetFiles(dir).Order(StringComparer.Ordinal).Select(f => (f, label)));
        }
    }
    else
    {
        images.Add((path, -1));
    }
}

int correct = 0, labelled = 0;
var clock = Stopwatch.StartNew();
for (int start = 0; start < images.Count; start += batchSize)
{
    var batch = images.Skip(start).Take(batchSize).ToList();
    var input = new DenseTensor<float>(new[] { batch.Count, 3, pre.Size, pre.Size });
    int plane = 3 * pre.Size * pre.Size;
    for (int b = 0; b < batch.Count; b++)
    {
        using var bitmap = SKBitmap.Decode(batch[b].Path) ?? throw new InvalidDataException($"'{batch[b].Path}' is not an image SkiaSharp decodes.");
        pre.Apply(bitmap, input.Buffer.Span.Slice(b * plane, plane));
    }
    using var results = session.Run(new[] { NamedOnnxValue.CreateFromTensor(session.InputNames[0], input) });
    var logits = results[0].AsTensor<float>();
    for (int b = 0; b < batch.Count; b++)
    {
        int best = 0;
        for (int c = 1; c < classes.Length; c++) if (logits[b, c] > logits[b, best]) best = c;
        if (batch[b].Label >= 0)
        {
            labelled++;
            if (best == batch[b].Label) correct++;
        }
        else
        {
            Console.WriteLine($"{batch[b].Path}: {classes[best]}");
        }
    }
}
if (labelled > 0)
    Console.WriteLine($"top-1 {100.0 * correct / labelled:F2}% ({correct}/{labelled} images, {clock.Elapsed.TotalSeconds:F2} s with ONNX Runtime {OrtEnv.Instance().GetVersionString()})");
return 0;

/// <summary>
/// Pvp's evaluation transform (Pvp.Training's EvalTransform): the short side resized to floor(Size / CropFraction) and the
/// centre Size×Size kept (or, with resize "square", the image stretched to that square and its centre kept), drawn with the
/// file's filter (mipmapped linear when shrinking more than 2×), RGB in [0, 1], minus mean, over std; CHW.
/// </summary>
internal sealed record Preprocessing(int Size, double CropFraction, float[] Mean, float[] Std, string Resize, string Interpolation)
{
    public void Apply(SKBitmap image, Span<float> destination)
    {
        double share = Size / Math.Floor(Size / CropFraction + 1e-9);
        SKRect source;
        if (Resize == "square")
        {
            float w = (float)(image.Width * share), h = (float)(image.Height * share);
            source = new SKRect((image.Width - w) / 2f, (image.Height - h) / 2f, (image.Width + w) / 2f, (image.Height + h) / 2f);
        }
        else
        {
            float side = (float)(Math.Min(image.Width, image.Height) * share);
            float left = (image.Width - side) / 2f, top = (image.Height - side) / 2f;
            source = new SKRect(left, top, left + side, top + side);
        }
        using var output = new SKBitmap(new SKImageInfo(Size, Size, SKColorType.Rgba8888, SKAlphaType.Unpremul));
        using (var canvas = new SKCanvas(output))
        using (var skImage = SKImage.FromBitmap(image))
        {
            canvas.Clear(SKColors.Black);
            bool strongDownscale = source.Width > 2 * Size || source.Height > 2 * Size;
            var sampling = strongDownscale
                ? new SKSamplingOptions(SKFilterMode.Linear, SKMipmapMode.Linear)
                : Interpolation == "bilinear"
                    ? new SKSamplingOptions(SKFilterMode.Linear, SKMipmapMode.None)
                    : new SKSamplingOptions(SKCubicResampler.CatmullRom);
            canvas.DrawImage(skImage, source, new SKRect(0, 0, Size, Size), sampling);
        }
        ReadOnlySpan<byte> pixels = output.GetPixelSpan();
        int plane = Size * Size;
        for (int i = 0; i < plane; i++)
            for (int c = 0; c < 3; c++)
                destination[c * plane + i] = (pixels[4 * i + c] / 255f - Mean[c]) / Std[c];
    }
}
