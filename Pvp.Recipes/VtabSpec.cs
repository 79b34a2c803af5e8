using Pvp.Training.Data;

namespace Pvp.Recipes;

/// <summary>
/// A VTAB-1k task folder as VPT's and NOAH's users have it: <c>&lt;root&gt;/{images/, train800.txt, val200.txt,
/// train800val200.txt, test.txt}</c>, each list a <c>relative/path label</c> line per image with paths relative to the
/// task folder and 0-based labels (NOAH's <c>lib/datasets.py</c>, <c>general_dataset</c>: the search trains on
/// <c>train800.txt</c> and is scored on <c>val200.txt</c>; the final run trains on <c>train800val200.txt</c> and is
/// tested on <c>test.txt</c>). Every cell trains on the whole list: no k-shot sampling.
/// </summary>
/// <param name="Root">The task folder (e.g. <c>vtab-1k/cifar</c>).</param>
/// <param name="Classes">The class count (labels 0..classes−1), or null: the largest label of the final training list + 1.</param>
public sealed record VtabSpec(string Root, int? Classes) : DatasetSpec
{
    /// <summary>The search's training list.</summary>
    public const string SearchTrainFile = "train800.txt";

    /// <summary>The search's validation list.</summary>
    public const string ValidationFile = "val200.txt";

    /// <summary>The final run's training list (train800 and val200 together).</summary>
    public const string TrainFile = "train800val200.txt";

    /// <summary>The test list.</summary>
    public const string TestFile = "test.txt";

    /// <summary>The four list files, in the order a run reads them.</summary>
    public static IReadOnlyList<string> Files { get; } = new[] { TrainFile, SearchTrainFile, ValidationFile, TestFile };

    /// <summary>The path of one of <see cref="Files"/> in this task's folder.</summary>
    public string PathOf(string file) => Path.Combine(Root, file);

    /// <inheritdoc />
    public override bool TrainsOnWholeSplit => true;

    /// <inheritdoc />
    public override IImageDataset Train(int imageSize) => Read(TrainFile);

    /// <inheritdoc />
    public override IImageDataset? SearchTrain(int imageSize) => Read(SearchTrainFile);

    /// <inheritdoc />
    public override IImageDataset Test(int imageSize) => Read(TestFile);

    /// <inheritdoc />
    public override IImageDataset? Validation(int imageSize) => Read(ValidationFile);

    private FileDataset Read(string file)
    {
        if (!Directory.Exists(Root))
            throw new DatasetException($"VTAB-1k task folder '{Root}' does not exist; it holds images/ and " +
                                       $"{string.Join(", ", Files)} (VPT's and NOAH's vtab-1k/<task>/ layout).");
        string path = PathOf(file);
        if (!File.Exists(path))
            throw new DatasetException($"VTAB-1k task folder '{Root}' has no {file}; the layout is " +
                                       $"{string.Join(", ", Files)} beside images/ (lines 'relative/path label').");
        return FileDataset.ListFile(Root, path, Classes, maxImagePixels: MaxImagePixels);
    }

    /// <inheritdoc />
    public override string Describe() =>
        $"VTAB-1k task {Root} (search {SearchTrainFile} → {ValidationFile}, final {TrainFile} → {TestFile})";
}
