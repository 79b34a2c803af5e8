using Pvp.Training.Data;
using Pvp.Onnx;

namespace Pvp.Recipes.Runner;

/// <summary>
/// A finished cell's model as ONNX, with what deployment needs in its metadata (the task's class names, the
/// evaluation preprocessing), and optionally the task's test images as PNG files to check it with.
/// </summary>
internal sealed class OnnxExport(RunContext run, CellArtifacts artifacts)
{
    /// <summary>See <see cref="PvpRunner.ExportOnnx"/>.</summary>
    public IReadOnlyDictionary<string, string> Export(GridCell cell, string path, OnnxLoraMode lora, string? testImages)
    {
        // Every output is checked before the first is written: a failure must not leave one of them behind.
        WritableFolder.Ensure(Path.GetDirectoryName(Path.GetFullPath(path))!, "The folder of the ONNX file",
            "choose another --onnx path");
        if (testImages is not null)
            WritableFolder.Ensure(testImages, "The test-images folder", "choose another --test-images folder");
        var (model, train, test) = artifacts.Load(cell);
        using (model)
        {
            var preprocessing = run.Preprocessing;
            var metadata = model.ExportOnnx(path, new OnnxExportOptions
            {
                Lora = lora,
                Preprocessing = new OnnxPreprocessing(
                    new[] { preprocessing.Mean.R, preprocessing.Mean.G, preprocessing.Mean.B },
                    new[] { preprocessing.Std.R, preprocessing.Std.G, preprocessing.Std.B }, preprocessing.CropFraction)
                {
                    Resize = preprocessing.Resize == ResizeMode.Squash ? "square" : "short_side",
                    Interpolation = preprocessing.Interpolation == Interpolation.Bilinear ? "bilinear" : "bicubic",
                    Description = preprocessing.Describe(run.ImageSize),
                },
                ClassNames = train.Classes,
                Metadata = new Dictionary<string, string>
                {
                    ["pvp.cell"] = cell.Id,
                    ["pvp.task"] = cell.Task,
                    ["pvp.dataset"] = run.Recipe.Stage2.Tasks.First(t => t.Name == cell.Task).Data.Describe(),
                },
            });
            if (testImages is not null) WriteImages(test, testImages);
            return metadata;
        }
    }

    /// <summary>
    /// Each image of <paramref name="data"/> as <c>folder/class/NNNNN.png</c> (lossless: the pixels the loader
    /// decodes).
    /// </summary>
    private static void WriteImages(IImageDataset data, string folder)
    {
        for (int i = 0; i < data.Count; i++)
        {
            string file = Path.Combine(folder, data.Classes[data.LabelOf(i)], $"{i:D5}.png");
            Directory.CreateDirectory(Path.GetDirectoryName(file)!);
            using var bitmap = data.Read(i);
            using var encoded = bitmap.Encode(SkiaSharp.SKEncodedImageFormat.Png, 100);
            using var stream = File.Create(file);
            encoded.SaveTo(stream);
        }
    }
}
