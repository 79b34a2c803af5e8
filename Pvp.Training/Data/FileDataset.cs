using System.Text.Json;
using SkiaSharp;

namespace Pvp.Training.Data;

/// <summary>What to do with images that cannot be decoded.</summary>
public enum UnreadableImages
{
    /// <summary>Fail when one is read, naming it (default; nothing is decoded up front).</summary>
    Fail,
    /// <summary>Decode every image once when opening, and leave out those that fail, counting them.</summary>
    Skip,
}

/// <summary>
/// Images on disk with labels: an ImageFolder tree, a list file (<c>relative/path label</c> per line, VTAB-1k's
/// form) or an FGVC JSON split (<c>{"relative/path": label}</c>, VPT's form).
/// </summary>
public sealed class FileDataset : IImageDataset
{
    private readonly (string Path, int Label)[] samples;

    private FileDataset(string root, IReadOnlyList<string> classes, (string, int)[] samples,
        IReadOnlyList<string> skipped, long maxImagePixels)
    {
        MaxImagePixels = maxImagePixels;
        Root = root;
        Classes = classes;
        this.samples = samples;
        Skipped = skipped;
    }

    /// <summary>
    /// The most pixels one of its images may declare (<see cref="ImageCodec.DefaultMaxPixels"/> unless the factory was
    /// given another limit): larger ones are refused from their header when read or checked.
    /// </summary>
    public long MaxImagePixels { get; }

    /// <summary>The folder paths are relative to.</summary>
    public string Root { get; }

    /// <inheritdoc />
    public IReadOnlyList<string> Classes { get; }

    /// <summary>
    /// Images left out as unreadable (with <see cref="UnreadableImages.Skip"/>), each with its problem.
    /// </summary>
    public IReadOnlyList<string> Skipped { get; }

    /// <inheritdoc />
    public int Count => samples.Length;

    /// <inheritdoc />
    public int LabelOf(int index) => samples[index].Label;

    /// <summary>The image's path relative to <see cref="Root"/> (with '/' separators).</summary>
    public string NameOf(int index) => Path.GetRelativePath(Root, samples[index].Path).Replace('\\', '/');

    /// <summary>The image's full path.</summary>
    public string PathOf(int index) => samples[index].Path;

    /// <inheritdoc />
    public SKBitmap Read(int index) => ImageCodec.Decode(samples[index].Path, MaxImagePixels);

    /// <summary>
    /// An ImageFolder tree: one sub-folder per class (sorted by name, as torchvision), images inside (recursively).
    /// </summary>
    /// <exception cref="DatasetException">
    /// The root is missing, has no class folders, or a class folder has no images.
    /// </exception>
    public static FileDataset ImageFolder(string root, UnreadableImages unreadable = UnreadableImages.Fail,
        long maxImagePixels = ImageCodec.DefaultMaxPixels)
    {
        if (File.Exists(root))
            throw new DatasetException($"ImageFolder root '{root}' is a file; " +
                                       "give the folder that holds one sub-folder per class.");
        if (!Directory.Exists(root)) throw new DatasetException($"ImageFolder root '{root}' does not exist.");
        var classDirs = Directory.GetDirectories(root).OrderBy(d => Path.GetFileName(d), StringComparer.Ordinal).ToList();
        if (classDirs.Count == 0)
            throw new DatasetException($"ImageFolder root '{root}' has no class sub-folders; " +
                                       "put each class's images in a folder named after it.");
        var samples = new List<(string, int)>();
        var owner = new Dictionary<string, int>(StringComparer.Ordinal); // every folder reached, by its real path → class
        for (int label = 0; label < classDirs.Count; label++)
        {
            if (owner.TryGetValue(RealPath(classDirs[label]), out int twin))
                throw new DatasetException($"Class folders '{classDirs[twin]}' and '{classDirs[label]}' are the same " +
                                           "folder (a link): an image cannot have two labels.");
            owner[RealPath(classDirs[label])] = label;
        }
        var imageOwner = new Dictionary<string, (int Label, string Path)>(StringComparer.Ordinal); // every image, by its real path
        for (int label = 0; label < classDirs.Count; label++)
        {
            var images = ImagesUnder(classDirs[label], label, classDirs, owner)
                .OrderBy(f => f, StringComparer.Ordinal).ToList();
            foreach (string image in images)
            {
                string real = RealPath(image);
                if (imageOwner.TryGetValue(real, out var other) && other.Label != label)
                    throw new DatasetException(
                        $"'{image}' (class folder '{classDirs[label]}') and '{other.Path}' (class folder '{classDirs[other.Label]}') " +
                        "are the same image file: it cannot have two labels.");
                imageOwner[real] = (label, image);
            }
            if (images.Count == 0)
                throw new DatasetException($"Class folder '{classDirs[label]}' has no images " +
                                           $"({string.Join(", ", ImageCodec.Extensions)}).");
            samples.AddRange(images.Select(f => (f, label)));
        }
        return Create(root, classDirs.Select(d => Path.GetFileName(d)!).ToList(), samples, unreadable,
            $"ImageFolder '{root}'", maxImagePixels);
    }

    /// <summary>
    /// The images under one class folder, recursively. Symbolic links are followed, but every folder is visited once by
    /// its real path: a link back up the tree (a loop) is not walked again, and a link into another class's folder is
    /// an error, since its images would get two labels.
    /// </summary>
    private static List<string> ImagesUnder(
        string classDir, int label, IReadOnlyList<string> classDirs, Dictionary<string, int> owner)
    {
        var images = new List<string>();
        var seenFiles = new HashSet<string>(StringComparer.Ordinal);
        var pending = new Stack<string>();
        pending.Push(classDir);
        while (pending.Count > 0)
        {
            string dir = pending.Pop();
            foreach (string file in Directory.EnumerateFiles(dir))
                if (ImageCodec.Extensions.Contains(Path.GetExtension(file)) && seenFiles.Add(RealPath(file)))
                    images.Add(file);
            foreach (string sub in Directory.EnumerateDirectories(dir))
            {
                string real = RealPath(sub);
                if (owner.TryGetValue(real, out int other))
                {
                    if (other != label)
                        throw new DatasetException(
                            $"'{sub}' in class folder '{classDirs[label]}' leads to '{real}', which belongs to class folder " +
                            $"'{classDirs[other]}': an image cannot have two labels. Remove the link.");
                    continue; // a loop back into this class's own tree: already walked
                }
                owner[real] = label;
                pending.Push(sub);
            }
        }
        return images;
    }

    /// <summary>The path with every symbolic link resolved, its own and its parents' (realpath(3) on Unix).</summary>
    private static string RealPath(string path)
    {
        if (!OperatingSystem.IsWindows())
        {
            IntPtr resolved = NativeRealPath(path, IntPtr.Zero);
            if (resolved != IntPtr.Zero)
            {
                try { return System.Runtime.InteropServices.Marshal.PtrToStringUTF8(resolved)!; }
                finally { NativeFree(resolved); }
            }
        }
        try
        {
            var info = Directory.Exists(path) ? (FileSystemInfo)new DirectoryInfo(path) : new FileInfo(path);
            return info.ResolveLinkTarget(returnFinalTarget: true)?.FullName ?? Path.GetFullPath(path);
        }
        catch (IOException)
        {
            return Path.GetFullPath(path); // a link loop or a dangling link: treated as its own place
        }
    }

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "realpath")]
    private static extern IntPtr NativeRealPath(
        [System.Runtime.InteropServices.MarshalAs(System.Runtime.InteropServices.UnmanagedType.LPUTF8Str)] string path,
        IntPtr resolved);

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "free")]
    private static extern void NativeFree(IntPtr pointer);

    /// <summary>
    /// A list file: each non-empty line is <c>relative/path label</c> (the last space separates them; paths may
    /// contain spaces). Labels are 0-based; the class count is <paramref name="classCount"/>, or max label + 1.
    /// </summary>
    /// <exception cref="DatasetException">
    /// Names the file and line of a malformed line, a bad label or a missing image.
    /// </exception>
    public static FileDataset ListFile(string root, string listPath, int? classCount = null,
        UnreadableImages unreadable = UnreadableImages.Fail, long maxImagePixels = ImageCodec.DefaultMaxPixels)
    {
        if (!File.Exists(listPath)) throw new DatasetException($"List file '{listPath}' does not exist.");
        if (!Directory.Exists(root))
            throw new DatasetException($"Image root '{root}' (for list file '{listPath}') does not exist.");
        var samples = new List<(string, int)>();
        int lineNumber = 0;
        foreach (string raw in File.ReadLines(listPath))
        {
            lineNumber++;
            string line = raw.Trim();
            if (line.Length == 0 || line.StartsWith('#')) continue;
            int space = line.LastIndexOfAny(new[] { ' ', '\t' });
            if (space <= 0 || !int.TryParse(line[(space + 1)..], out int label))
                throw new DatasetException($"{listPath}:{lineNumber}: expected 'relative/path label', got '{line}'.");
            string relative = line[..space].Trim();
            if (relative.Any(char.IsControl))
                throw new DatasetException($"{listPath}:{lineNumber}: the path holds a control character " +
                                           "(a NUL, say), which no image path has; fix that line.");
            if (Path.IsPathRooted(relative) || relative.Split('/', '\\').Contains(".."))
                throw new DatasetException($"{listPath}:{lineNumber}: '{relative}' is not a path inside the image " +
                                           $"root '{root}'; list files name images relative to it.");
            samples.Add((Path.GetFullPath(Path.Combine(root, line[..space].Trim())),
                CheckLabel(label, classCount, $"{listPath}:{lineNumber}")));
        }
        return FromLabelled(root, samples, classCount, unreadable, $"list file '{listPath}'", maxImagePixels);
    }

    /// <summary>
    /// An FGVC split file exactly as VPT's <c>JSONDataset</c> reads it: a JSON object from an image path (relative to
    /// <paramref name="imageFolder"/>) to a class id. The ids need not be 0-based or contiguous (CUB's are 1..200):
    /// they map to contiguous labels in sorted order. Give the training split's ids (<see cref="FgvcClassIds"/>) as
    /// <paramref name="classIds"/> when reading its val or test split, so that all splits share one mapping — VPT maps
    /// each split on its own, which only agrees when every split holds every class; here a split that holds an id the
    /// training split lacks is an error instead of a silent relabelling.
    /// </summary>
    /// <param name="imageFolder">
    /// The folder the keys are relative to: VPT's per-dataset image folder (<c>images/</c> for
    /// CUB and NABirds, <c>Images/</c> for Stanford Dogs, the dataset root for Flowers and Cars).
    /// </param>
    /// <param name="jsonPath">The split file (<c>train.json</c>, <c>val.json</c>, <c>test.json</c>).</param>
    /// <param name="classIds">The sorted class ids that labels index (default: this split's own).</param>
    /// <param name="unreadable">What to do with images that cannot be decoded.</param>
    /// <param name="maxImagePixels">The most pixels one image may declare (<see cref="MaxImagePixels"/>).</param>
    /// <exception cref="DatasetException">
    /// Names the file and entry of invalid JSON, a non-integer or unknown id, or a missing image.
    /// </exception>
    public static FileDataset FgvcJson(string imageFolder, string jsonPath, IReadOnlyList<int>? classIds = null,
        UnreadableImages unreadable = UnreadableImages.Fail, long maxImagePixels = ImageCodec.DefaultMaxPixels)
    {
        if (!Directory.Exists(imageFolder))
            throw new DatasetException($"Image folder '{imageFolder}' (for '{jsonPath}') does not exist.");
        var entries = ReadFgvcEntries(jsonPath);
        var ids = classIds ?? entries.Select(e => e.Id).Distinct().Order().ToList();
        if (ids.Count > MaxClasses)
            throw new DatasetException($"FGVC split '{jsonPath}': {ids.Count} classes; " +
                                       $"at most {MaxClasses} are supported.");
        var labelOf = new Dictionary<int, int>(ids.Count);
        for (int i = 0; i < ids.Count; i++)
            if (!labelOf.TryAdd(ids[i], i))
                throw new ArgumentException($"Class id {ids[i]} appears twice in the class ids.", nameof(classIds));
        var samples = new List<(string, int)>(entries.Count);
        foreach (var (name, id) in entries)
        {
            if (!labelOf.TryGetValue(id, out int label))
                throw new DatasetException($"{jsonPath}: entry \"{name}\" has class id {id}, which the training split does not have " +
                                           $"(its ids: {string.Join(", ", ids.Take(10))}{(ids.Count > 10 ? ", …" : "")}); " +
                                           "every split must use the training split's classes.");
            if (name.Any(char.IsControl))
                throw new DatasetException(
                    $"{jsonPath}: entry \"{string.Concat(name.Select(c => char.IsControl(c) ? $"\\u{(int)c:x4}" : c.ToString()))}\" " +
                    "holds a control character (a NUL, say), which no image path has; fix or remove that entry.");
            samples.Add((Path.GetFullPath(Path.Combine(imageFolder, name)), label));
        }
        return FromLabelled(imageFolder, samples, ids.Count, unreadable, $"FGVC split '{jsonPath}'", maxImagePixels,
            ids.Select(id => id.ToString(System.Globalization.CultureInfo.InvariantCulture)).ToList());
    }

    /// <summary>The sorted distinct class ids of an FGVC split file: what its labels 0..N−1 stand for.</summary>
    /// <exception cref="DatasetException">The file is missing or not a VPT split.</exception>
    public static IReadOnlyList<int> FgvcClassIds(string jsonPath)
        => ReadFgvcEntries(jsonPath).Select(e => e.Id).Distinct().Order().ToList();

    private static List<(string Name, int Id)> ReadFgvcEntries(string jsonPath)
    {
        if (Directory.Exists(jsonPath))
            throw new DatasetException($"FGVC split file '{jsonPath}' is a folder; name the .json file inside it.");
        if (!File.Exists(jsonPath)) throw new DatasetException($"FGVC split file '{jsonPath}' does not exist.");
        JsonDocument document;
        try { document = JsonDocument.Parse(File.ReadAllText(jsonPath)); }
        catch (JsonException e) { throw new DatasetException($"{jsonPath}: not valid JSON (line {e.LineNumber + 1}): {e.Message}"); }
        using (document)
        {
            if (document.RootElement.ValueKind != JsonValueKind.Object)
                throw new DatasetException($"{jsonPath}: expected an object {{\"relative/path\": class id, …}}.");
            var entries = new List<(string, int)>();
            foreach (var entry in document.RootElement.EnumerateObject())
            {
                if (entry.Value.ValueKind != JsonValueKind.Number || !entry.Value.TryGetInt32(out int id))
                    throw new DatasetException($"{jsonPath}: entry \"{entry.Name}\" has label " +
                                               $"{entry.Value.GetRawText()}, not an integer.");
                if (entry.Name.Length == 0 || Path.IsPathRooted(entry.Name) || entry.Name.Split('/', '\\').Contains(".."))
                    throw new DatasetException($"{jsonPath}: entry \"{entry.Name}\" is not a path inside the " +
                                               "image folder.");
                entries.Add((entry.Name, id));
            }
            if (entries.Count == 0) throw new DatasetException($"FGVC split '{jsonPath}' lists no images.");
            return entries;
        }
    }

    /// <summary>
    /// The most classes a labelled file may declare: far above any real dataset, far below an overflow.
    /// </summary>
    public const int MaxClasses = 1_000_000;

    private static int CheckLabel(int label, int? classCount, string where)
    {
        if (label < 0 || label >= (classCount ?? MaxClasses))
            throw new DatasetException($"{where}: label {label} is out of range 0..{(classCount ?? MaxClasses) - 1}.");
        return label;
    }

    private static FileDataset FromLabelled(string root, List<(string Path, int Label)> samples, int? classCount,
        UnreadableImages unreadable, string what, long maxImagePixels,
        IReadOnlyList<string>? classNames = null)
    {
        if (samples.Count == 0) throw new DatasetException($"{what} lists no images.");
        if (classCount is > MaxClasses)
            throw new DatasetException($"{what}: {classCount} classes; at most {MaxClasses} are supported.");
        // One image, one label: a repeat with another label is an error. A repeat with the same label is kept, weighing
        // the image twice, and said: NOAH's oxford-pets 1-shot seed-0 list names each of its 37 images twice, and
        // training on that file as NOAH does means keeping them.
        var repeats = samples.GroupBy(s => s.Path, StringComparer.Ordinal).Where(g => g.Count() > 1).ToList();
        var conflicting = repeats.FirstOrDefault(g => g.Select(s => s.Label).Distinct().Count() > 1);
        if (conflicting is not null)
            throw new DatasetException(
                $"{what} lists '{conflicting.Key}' {conflicting.Count()} times " +
                $"(labels {string.Join(", ", conflicting.Select(s => s.Label).Distinct())}); an image has one label.");
        if (repeats.Count > 0)
            Console.Error.WriteLine(
                $"warning: {what} names {repeats.Count} image(s) more than once with the same label (e.g. '{repeats[0].Key}'); " +
                "each repeat is kept and weighs that image once more.");
        var missing = samples.Where(s => !File.Exists(s.Path)).Take(5).Select(s => s.Path).ToList();
        if (missing.Count > 0 && unreadable == UnreadableImages.Fail)
            throw new DatasetException($"{what} names images that do not exist, e.g. {string.Join(", ", missing)}.");
        int classes = classCount ?? samples.Max(s => s.Label) + 1;
        var counts = new int[classes];
        foreach (var (_, label) in samples) counts[label]++;
        var empty = Enumerable.Range(0, classes).Where(c => counts[c] == 0).ToList();
        if (empty.Count > 0)
            throw new DatasetException(classNames is null
                ? $"{what} has no images of class {string.Join(", ", empty.Take(10))}{(empty.Count > 10 ? ", …" : "")}; " +
                  $"labels must cover 0..{classes - 1}."
                : $"{what} has no images of class id {string.Join(", ", empty.Take(10).Select(c => classNames[c]))}" +
                  $"{(empty.Count > 10 ? ", …" : "")}, which the training split has.");
        return Create(root,
            classNames ?? Enumerable.Range(0, classes).Select(c => c.ToString(System.Globalization.CultureInfo.InvariantCulture)).ToList(),
            samples, unreadable, what, maxImagePixels);
    }

    private static FileDataset Create(string root, IReadOnlyList<string> classes,
        List<(string Path, int Label)> samples, UnreadableImages unreadable, string what,
        long maxImagePixels)
    {
        var skipped = new List<string>();
        if (unreadable == UnreadableImages.Skip)
        {
            var readable = new bool[samples.Count];
            var problems = new string?[samples.Count];
            Parallel.For(0, samples.Count, i =>
            {
                try
                {
                    using var _ = ImageCodec.Decode(samples[i].Path, maxImagePixels);
                    readable[i] = true;
                }
                catch (ImageReadException e)
                {
                    problems[i] = e.Message;
                }
            });
            skipped.AddRange(problems.Where(p => p is not null)!);
            samples = samples.Where((_, i) => readable[i]).ToList();
            if (skipped.Count > 0)
                Console.Error.WriteLine($"warning: {what}: skipped {skipped.Count} unreadable image(s), " +
                                        $"e.g. {skipped[0]}");
            if (samples.Count == 0) throw new DatasetException($"{what}: no readable images.");
        }
        return new FileDataset(Path.GetFullPath(root), classes, samples.ToArray(), skipped, maxImagePixels);
    }
}
