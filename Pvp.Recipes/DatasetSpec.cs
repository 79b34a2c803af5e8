using System.Text.RegularExpressions;
using Pvp.Training.Data;

namespace Pvp.Recipes;

/// <summary>
/// Where a recipe's images come from: the built-in dataset, an ImageFolder pair, list files or FGVC JSON splits.
/// </summary>
public abstract record DatasetSpec
{
    /// <summary>The training images at the model's image size: the pool few-shot cells sample from.</summary>
    /// <exception cref="InvalidOperationException">
    /// The task names a fixed training list per (shots, seed) (see <see cref="HasFixedSplits"/>).
    /// </exception>
    public abstract IImageDataset Train(int imageSize);

    /// <summary>The test images at the model's image size.</summary>
    public abstract IImageDataset Test(int imageSize);

    /// <summary>
    /// The validation images a hyper-parameter search selects on, or null when
    /// the task has none (the search then carves them from the training pool).
    /// </summary>
    public virtual IImageDataset? Validation(int imageSize) => null;

    /// <summary>
    /// Whether every (shots, seed) cell trains on a list the data names
    /// (NOAH's split files) instead of a k-shot sample of <see cref="Train"/>.
    /// </summary>
    public virtual bool HasFixedSplits => false;

    /// <summary>
    /// The fixed training list of (<paramref name="shots"/>,
    /// <paramref name="seed"/>) when <see cref="HasFixedSplits"/>.
    /// </summary>
    public virtual IImageDataset FixedTrain(int shots, int seed, int imageSize) =>
        throw new InvalidOperationException($"{Describe()} names no training list per (shots, seed).");

    /// <summary>
    /// Whether every cell trains on the whole training split (<see cref="Train"/>) rather than a k-shot sample: VTAB-1k's
    /// 1000 images. Such a task has one cell per seed and init, whatever <c>stage2.shots</c> says; its cells' shot count is 0.
    /// </summary>
    public virtual bool TrainsOnWholeSplit => false;

    /// <summary>
    /// The images a search setting trains on, when they differ from the final training images (VTAB-1k: train800, then
    /// train800val200 for the final run with the chosen setting); null: a search trains on the cell's own training images
    /// and the chosen run's model is the one reported.
    /// </summary>
    public virtual IImageDataset? SearchTrain(int imageSize) => null;

    /// <summary>A short description for logs and sidecars.</summary>
    public abstract string Describe();

    /// <summary>
    /// The most pixels one image may declare (the recipe's
    /// <c>max_image_pixels</c>), given to every dataset this spec builds.
    /// </summary>
    public long MaxImagePixels { get; init; } = ImageCodec.DefaultMaxPixels;
}

/// <summary>The built-in procedural dataset: its source classes (stage 1) or target classes (stage 2).</summary>
public sealed record BuiltinDatasetSpec(
    bool IsSource, int Classes, int TrainPerClass, int TestPerClass, int Seed, int SourceClasses) : DatasetSpec
{
    /// <inheritdoc />
    public override IImageDataset Train(int imageSize) => Make(SyntheticSplit.Train, TrainPerClass, imageSize);

    /// <inheritdoc />
    public override IImageDataset Test(int imageSize) => Make(SyntheticSplit.Test, TestPerClass, imageSize);

    private SyntheticShapes Make(SyntheticSplit split, int perClass, int imageSize) => IsSource
        ? SyntheticShapes.Source(split, perClass, Classes, imageSize, Seed)
        : SyntheticShapes.Target(split, perClass, Classes, imageSize, Seed, SourceClasses);

    /// <inheritdoc />
    public override string Describe() =>
        $"built-in {(IsSource ? "source" : "target")} shapes: {Classes} classes, " +
        $"{TrainPerClass} train / {TestPerClass} test images per class, seed {Seed}";
}

/// <summary>Two ImageFolder trees.</summary>
public sealed record ImageFolderSpec(string TrainRoot, string TestRoot) : DatasetSpec
{
    /// <inheritdoc />
    public override IImageDataset Train(int imageSize)
        => FileDataset.ImageFolder(TrainRoot, maxImagePixels: MaxImagePixels);

    /// <inheritdoc />
    public override IImageDataset Test(int imageSize)
        => FileDataset.ImageFolder(TestRoot, maxImagePixels: MaxImagePixels);

    /// <inheritdoc />
    public override string Describe() => $"ImageFolder {TrainRoot} / {TestRoot}";
}

/// <summary>
/// List files (<c>path label</c> per line, 0-based labels) under one image root: VTAB-1k's and NOAH's form. The
/// training list may be a pattern with <c>{shots}</c> and <c>{seed}</c>, as NOAH's few-shot splits
/// (<c>annotations/train_meta.list.num_shot_{shots}.seed_{seed}</c>): each cell then trains on its own file, and no
/// k-shot sampling takes place.
/// </summary>
public sealed record ListFileSpec(
    string Root, string TrainList, string TestList, int? Classes, string? ValList = null) : DatasetSpec
{
    /// <summary>The placeholders a training-list pattern may hold.</summary>
    public static readonly IReadOnlyList<string> Placeholders = new[] { "{shots}", "{seed}" };

    /// <inheritdoc />
    public override bool HasFixedSplits => IsPattern(TrainList);

    /// <summary>Whether <paramref name="trainList"/> names a file per (shots, seed).</summary>
    public static bool IsPattern(string trainList) => Placeholders.Any(trainList.Contains);

    /// <inheritdoc />
    public override IImageDataset Train(int imageSize) => HasFixedSplits
        ? throw new InvalidOperationException($"The training list '{TrainList}' is a pattern: each " +
                                              "(shots, seed) has its own file.")
        : FileDataset.ListFile(Root, TrainList, Classes, maxImagePixels: MaxImagePixels);

    /// <inheritdoc />
    public override IImageDataset FixedTrain(int shots, int seed, int imageSize) =>
        HasFixedSplits
            ? FileDataset.ListFile(Root, TrainListFor(shots, seed), Classes, maxImagePixels: MaxImagePixels)
            : base.FixedTrain(shots, seed, imageSize);

    /// <summary>The training list of one (shots, seed).</summary>
    public string TrainListFor(int shots, int seed) => TrainList
        .Replace("{shots}", shots.ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal)
        .Replace("{seed}", seed.ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal);

    /// <inheritdoc />
    public override IImageDataset Test(int imageSize)
        => FileDataset.ListFile(Root, TestList, Classes, maxImagePixels: MaxImagePixels);

    /// <inheritdoc />
    public override IImageDataset? Validation(int imageSize)
        => ValList is null ? null : FileDataset.ListFile(Root, ValList, Classes, maxImagePixels: MaxImagePixels);

    /// <summary>The braces of <paramref name="pattern"/> that are not a known placeholder, if any.</summary>
    public static string? UnknownPlaceholder(string pattern) =>
        Regex.Matches(pattern, @"\{[^}]*\}?").Select(m => m.Value).FirstOrDefault(p => !Placeholders.Contains(p));

    /// <inheritdoc />
    public override string Describe() =>
        $"list files {TrainList}{(ValList is null ? "" : $" / {ValList}")} / {TestList} under {Root}";
}

/// <summary>
/// VPT's FGVC JSON splits: keys relative to the dataset's image folder (<paramref name="Images"/> under
/// <paramref name="Root"/>: <c>images</c> for CUB and NABirds, <c>Images</c> for Stanford Dogs, empty for Flowers and
/// Cars, as VPT's <c>json_dataset.py</c>), class ids mapped to contiguous labels in sorted order of the training
/// split's ids.
/// </summary>
public sealed record FgvcSpec(
    string Root, string TrainJson, string TestJson, int? Classes, string Images = "", string? ValJson = null) : DatasetSpec
{
    /// <summary>Where the split files' paths start.</summary>
    public string ImageFolder => Images.Length == 0 ? Root : Path.Combine(Root, Images);

    private IReadOnlyList<int> ClassIds()
    {
        var ids = FileDataset.FgvcClassIds(TrainJson);
        if (Classes is { } expected && ids.Count != expected)
            throw new DatasetException($"FGVC split '{TrainJson}' has {ids.Count} class ids ({ids[0]}..{ids[^1]}), " +
                                       $"but the recipe says classes: {expected}.");
        return ids;
    }

    /// <inheritdoc />
    public override IImageDataset Train(int imageSize)
        => FileDataset.FgvcJson(ImageFolder, TrainJson, ClassIds(), maxImagePixels: MaxImagePixels);

    /// <inheritdoc />
    public override IImageDataset Test(int imageSize)
        => FileDataset.FgvcJson(ImageFolder, TestJson, ClassIds(), maxImagePixels: MaxImagePixels);

    /// <inheritdoc />
    public override IImageDataset? Validation(int imageSize)
        => ValJson is null ? null : FileDataset.FgvcJson(ImageFolder, ValJson, ClassIds(),
            maxImagePixels: MaxImagePixels);

    /// <inheritdoc />
    public override string Describe() =>
        $"FGVC splits {TrainJson}{(ValJson is null ? "" : $" / {ValJson}")} / {TestJson}, images under {ImageFolder}";
}
