using Pvp.Data;

namespace Pvp.Recipe;

/// <summary>Where a recipe's images come from: the built-in dataset, an ImageFolder pair, list files or FGVC JSON splits.</summary>
public abstract record DatasetSpec
{
    /// <summary>The training images at the model's image size.</summary>
    public abstract IImageDataset Train(int imageSize);

    /// <summary>The test images at the model's image size.</summary>
    public abstract IImageDataset Test(int imageSize);

    /// <summary>A short description for logs and sidecars.</summary>
    public abstract string Describe();
}

/// <summary>The built-in procedural dataset: its source classes (stage 1) or target classes (stage 2).</summary>
public sealed record BuiltinDatasetSpec(bool IsSource, int Classes, int TrainPerClass, int TestPerClass, int Seed, int SourceClasses) : DatasetSpec
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
        $"built-in {(IsSource ? "source" : "target")} shapes: {Classes} classes, {TrainPerClass} train / {TestPerClass} test images per class, seed {Seed}";
}

/// <summary>Two ImageFolder trees.</summary>
public sealed record ImageFolderSpec(string TrainRoot, string TestRoot) : DatasetSpec
{
    /// <inheritdoc />
    public override IImageDataset Train(int imageSize) => FileDataset.ImageFolder(TrainRoot);

    /// <inheritdoc />
    public override IImageDataset Test(int imageSize) => FileDataset.ImageFolder(TestRoot);

    /// <inheritdoc />
    public override string Describe() => $"ImageFolder {TrainRoot} / {TestRoot}";
}

/// <summary>VTAB-style list files under one image root.</summary>
public sealed record ListFileSpec(string Root, string TrainList, string TestList, int? Classes) : DatasetSpec
{
    /// <inheritdoc />
    public override IImageDataset Train(int imageSize) => FileDataset.ListFile(Root, TrainList, Classes);

    /// <inheritdoc />
    public override IImageDataset Test(int imageSize) => FileDataset.ListFile(Root, TestList, Classes);

    /// <inheritdoc />
    public override string Describe() => $"list files {TrainList} / {TestList} under {Root}";
}

/// <summary>VPT's FGVC JSON splits under one image root.</summary>
public sealed record FgvcSpec(string Root, string TrainJson, string TestJson, int? Classes) : DatasetSpec
{
    /// <inheritdoc />
    public override IImageDataset Train(int imageSize) => FileDataset.FgvcJson(Root, TrainJson, Classes);

    /// <inheritdoc />
    public override IImageDataset Test(int imageSize) => FileDataset.FgvcJson(Root, TestJson, Classes);

    /// <inheritdoc />
    public override string Describe() => $"FGVC splits {TrainJson} / {TestJson} under {Root}";
}
