using SkiaSharp;

namespace Pvp.Training.Data;

/// <summary>A labelled image collection: what the training and evaluation loops read.</summary>
public interface IImageDataset
{
    /// <summary>Class names; labels index into them.</summary>
    IReadOnlyList<string> Classes { get; }

    /// <summary>Number of images.</summary>
    int Count { get; }

    /// <summary>The label of image <paramref name="index"/>.</summary>
    int LabelOf(int index);

    /// <summary>
    /// Where image <paramref name="index"/> comes from (its path, or a description), for messages and split files.
    /// </summary>
    string NameOf(int index);

    /// <summary>
    /// Decodes (or renders) image <paramref name="index"/> as RGBA; the caller disposes it. Thread-safe.
    /// </summary>
    /// <exception cref="ImageReadException">The image cannot be read; the message names it.</exception>
    SKBitmap Read(int index);
}

/// <summary>Extensions over <see cref="IImageDataset"/>.</summary>
public static class ImageDatasetExtensions
{
    /// <summary>Images per class.</summary>
    public static int[] ClassCounts(this IImageDataset dataset)
    {
        var counts = new int[dataset.Classes.Count];
        for (int i = 0; i < dataset.Count; i++) counts[dataset.LabelOf(i)]++;
        return counts;
    }

    /// <summary>
    /// Checks every file-backed image's header (<see cref="ImageCodec.CheckHeader"/>); images rendered in memory (the
    /// built-in dataset) have nothing to check.
    /// </summary>
    /// <exception cref="ImageReadException">
    /// The first image whose header cannot be read; the message names it.
    /// </exception>
    public static void CheckHeaders(this IImageDataset dataset)
    {
        switch (dataset)
        {
            case FileDataset files:
                for (int i = 0; i < files.Count; i++) ImageCodec.CheckHeader(files.PathOf(i), files.MaxImagePixels);
                break;
            case SubsetDataset subset:
                subset.CheckHeaders();
                break;
        }
    }

    /// <summary>The images at <paramref name="indices"/> of <paramref name="dataset"/>, as a dataset.</summary>
    public static IImageDataset Subset(this IImageDataset dataset, IReadOnlyList<int> indices)
        => new SubsetDataset(dataset, indices);

    private sealed class SubsetDataset(IImageDataset inner, IReadOnlyList<int> indices) : IImageDataset
    {
        public IReadOnlyList<string> Classes => inner.Classes;
        public int Count => indices.Count;
        public int LabelOf(int index) => inner.LabelOf(indices[index]);
        public string NameOf(int index) => inner.NameOf(indices[index]);
        public SKBitmap Read(int index) => inner.Read(indices[index]);

        public void CheckHeaders()
        {
            if (inner is FileDataset files)
                foreach (int i in indices) ImageCodec.CheckHeader(files.PathOf(i), files.MaxImagePixels);
            else inner.CheckHeaders();
        }
    }
}
