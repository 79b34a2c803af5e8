using System.Globalization;

namespace Pvp.Training.Data;

/// <summary>
/// Draws k images per class from a training split, seeded; writes the split it drew as a list file
/// (<c>name label</c> per line) so that a run can be reproduced or audited, and reads such a file back.
/// </summary>
public static class KShotSampler
{
    /// <summary>
    /// Dataset indices of <paramref name="shots"/> images of every class, drawn with <paramref name="seed"/>.
    /// </summary>
    /// <exception cref="DatasetException">
    /// A class has fewer than <paramref name="shots"/> images (names the class).
    /// </exception>
    public static IReadOnlyList<int> Sample(IImageDataset dataset, int shots, int seed)
    {
        if (shots <= 0)
            throw new ArgumentOutOfRangeException(nameof(shots), shots, "Shots per class must be positive.");
        return Draw(dataset, shots, c => Seeds.Mix(seed, shots, c), exclude: null,
            (c, available) => new DatasetException($"Class '{dataset.Classes[c]}' has {available} training image(s); " +
                                                   $"a {shots}-shot split needs {shots}."));
    }

    /// <summary>
    /// Dataset indices of <paramref name="perClass"/> images of every class, class by class in index order: each
    /// class's candidates (every image once by name, none named in <paramref name="exclude"/>) shuffled by a generator
    /// seeded with <paramref name="seedOfClass"/>(class), the first <paramref name="perClass"/> kept.
    /// </summary>
    /// <param name="dataset">The images.</param>
    /// <param name="perClass">Images per class.</param>
    /// <param name="seedOfClass">The seed of each class's shuffle.</param>
    /// <param name="exclude">Image names never drawn (e.g. a split's training images), or null.</param>
    /// <param name="tooFew">
    /// The error for a class (index) with fewer candidates (count) than <paramref name="perClass"/>.
    /// </param>
    public static IReadOnlyList<int> Draw(
        IImageDataset dataset, int perClass, Func<int, int> seedOfClass, IReadOnlySet<string>? exclude,
        Func<int, int, Exception> tooFew)
    {
        // One candidate per image: a list that names an image twice
        // must not give it two places, nor one on each side of a split.
        var byClass = Enumerable.Range(0, dataset.Classes.Count).Select(_ => new List<int>()).ToArray();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (int i = 0; i < dataset.Count; i++)
        {
            string name = dataset.NameOf(i);
            if (exclude?.Contains(name) != true && seen.Add(name)) byClass[dataset.LabelOf(i)].Add(i);
        }
        var chosen = new List<int>(perClass * byClass.Length);
        for (int c = 0; c < byClass.Length; c++)
        {
            if (byClass[c].Count < perClass) throw tooFew(c, byClass[c].Count);
            var candidates = byClass[c].ToArray();
            new Random(seedOfClass(c)).Shuffle(candidates);
            chosen.AddRange(candidates.Take(perClass).Order());
        }
        return chosen;
    }

    /// <summary>Writes the drawn images as a list file, with a comment line saying how they were drawn.</summary>
    public static void Write(IImageDataset dataset, IReadOnlyList<int> indices, string path, string? comment = null)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        var lines = new List<string>();
        if (comment is not null) lines.Add("# " + comment);
        lines.AddRange(indices.Select(i => $"{dataset.NameOf(i)} {dataset.LabelOf(i).ToString(CultureInfo.InvariantCulture)}"));
        File.WriteAllLines(path, lines);
    }

    /// <summary>Reads a split written by <see cref="Write"/> back into indices of <paramref name="dataset"/>.</summary>
    /// <exception cref="DatasetException">
    /// Names the file and line of an image the dataset lacks or whose label differs.
    /// </exception>
    public static IReadOnlyList<int> Read(IImageDataset dataset, string path)
    {
        if (!File.Exists(path)) throw new DatasetException($"Split file '{path}' does not exist.");
        var byName = new Dictionary<string, int>(dataset.Count, StringComparer.Ordinal);
        for (int i = 0; i < dataset.Count; i++) byName[dataset.NameOf(i)] = i;
        var indices = new List<int>();
        int lineNumber = 0;
        foreach (string raw in File.ReadLines(path))
        {
            lineNumber++;
            string line = raw.Trim();
            if (line.Length == 0 || line.StartsWith('#')) continue;
            int space = line.LastIndexOf(' ');
            if (space <= 0 || !int.TryParse(line[(space + 1)..], NumberStyles.Integer, CultureInfo.InvariantCulture,
                out int label))
                throw new DatasetException($"{path}:{lineNumber}: expected 'name label', got '{line}'.");
            string name = line[..space];
            if (!byName.TryGetValue(name, out int index))
                throw new DatasetException($"{path}:{lineNumber}: image '{name}' is not in the dataset.");
            if (dataset.LabelOf(index) != label)
                throw new DatasetException($"{path}:{lineNumber}: image '{name}' has label {dataset.LabelOf(index)} " +
                                           $"in the dataset, not {label}.");
            indices.Add(index);
        }
        return indices;
    }
}
