using Pvp.MixedPrecision;
using Pvp.Training;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;
using Pvp.Optim;

namespace Pvp.Recipes;

/// <summary>
/// Reads a PVP recipe from YAML. Every error names the file, line and column, and the key: a misspelt or unknown key,
/// a value of the wrong type or out of range, an unknown variant, a missing section.
/// </summary>
/// <remarks>
/// Reading runs nothing: the projects and assemblies a recipe names under <c>assemblies:</c> are checked to exist and
/// listed in <see cref="PvpRecipe.Assemblies"/>; the caller builds and loads them with
/// <see cref="VariantSources.Load(PvpRecipe, Action{string})"/>, which also checks a variant they declare.
/// </remarks>
public static partial class RecipeParser
{
    /// <summary>Reads the recipe at <paramref name="path"/>.</summary>
    /// <exception cref="RecipeException">The recipe is wrong; the message says where and how.</exception>
    public static PvpRecipe Load(string path)
    {
        if (Directory.Exists(path))
            throw new RecipeException($"'{path}' is a folder; give the recipe file (.yaml) inside it.");
        if (!File.Exists(path)) throw new RecipeException($"Recipe file '{path}' does not exist.");
        // Checked before anything is read: a FIFO would block the read, and /dev/zero would fill memory.
        // Neither they, a device nor a /proc file has a length (stat reports 0), which no recipe has either.
        var info = File.ResolveLinkTarget(path, returnFinalTarget: true) is FileInfo target ? target : new FileInfo(path);
        if (info.Length == 0)
            throw new RecipeException($"'{path}' is empty, or not a regular file (a FIFO, a device); " +
                                      "give a recipe file (.yaml).");
        if (info.Length > MaxBytes)
            throw new RecipeException($"{path}: {info.Length:N0} bytes; " +
                                      $"a recipe is at most {MaxBytes:N0}. Is this the right file?");
        using var stream = new FileStream(info.FullName, FileMode.Open, FileAccess.Read, FileShare.Read);
        var bytes = new byte[MaxBytes + 1];
        int length = 0, read;
        while (length < bytes.Length && (read = stream.Read(bytes, length, bytes.Length - length)) > 0) length += read;
        if (length > MaxBytes)
            throw new RecipeException($"{path}: more than {MaxBytes:N0} bytes; " +
                                      $"a recipe is at most {MaxBytes:N0}. Is this the right file?");
        return Parse(new System.Text.UTF8Encoding(false).GetString(bytes, 0, length).TrimStart('\uFEFF'), path);
    }

    /// <summary>
    /// Reads a recipe from text; <paramref name="path"/> names it in errors and anchors relative paths.
    /// </summary>
    /// <exception cref="RecipeException">The recipe is wrong; the message says where and how.</exception>
    public static PvpRecipe Parse(string yaml, string path = "recipe.yaml")
    {
        CheckShape(yaml, path);
        var stream = new YamlStream();
        try
        {
            stream.Load(new StringReader(yaml));
        }
        catch (YamlException e)
        {
            throw NotYaml(yaml, path, e);
        }
        if (stream.Documents.Count == 0 || stream.Documents[0].RootNode is not YamlMappingNode rootNode)
            throw new RecipeException($"{path}: expected a mapping at the top " +
                                      "(variant: or variants:, backbone:, source:, stage1:, stage2:).");

        string folder = Path.GetDirectoryName(Path.GetFullPath(path))!;
        string Resolve(string p) => Path.IsPathRooted(p) ? p : Path.GetFullPath(Path.Combine(folder, p));
        // A Hugging Face Hub id stays an id (fetched when the run starts); its form is checked here.
        string HubOrPath(string w, YamlSection section)
        {
            if (!Pvp.Weights.Hub.HubModelId.IsHubId(w)) return Resolve(w);
            try
            {
                return Pvp.Weights.Hub.HubModelId.Parse(w).ToString();
            }
            catch (ArgumentException e)
            {
                throw section.Error(section.NodeOf("weights")!, $"backbone.weights: {e.Message}");
            }
        }

        var root = new YamlSection(path, rootNode, "");
        string At(YamlNode node) => $"{path}:{node.Start.Line}:{node.Start.Column}";
        // Only named here: the caller builds and loads them (VariantSources.Load), so that reading runs nothing.
        var assemblyEntries = root.StringList("assemblies");
        var assemblies = assemblyEntries.Select(entry =>
        {
            try
            {
                return VariantSources.Locate(Resolve(entry.Value));
            }
            catch (Exception e) when (e is FileNotFoundException or InvalidDataException)
            {
                throw root.Error(entry.Node, $"assemblies: {e.Message}");
            }
        }).ToList();
        var named = RecipeVariants.Read(root, path);
        string variant = named.Names[0];
        // A variant the recipe's own assemblies declare is checked once they are loaded.
        bool declaredByAssemblies = assemblies.Count > 0 &&
                                    !named.Names.All(n => VariantRegistry.Names.Contains(n, StringComparer.Ordinal));
        if (!declaredByAssemblies)
            for (int i = 0; i < named.Names.Count; i++) CheckVariant(named.Names[i], named.Marks[i], named.Listed);
        var precisionNode = root.NodeOf("precision");
        string precisionName = root.String("precision", "auto");
        var precision = BackbonePrecisionNames.Parse(precisionName)
                        ?? throw root.Error(precisionNode!,
                            $"precision: expected {BackbonePrecisionNames.Expected}, got '{precisionName}'.");
        var marks = new RecipeMarks(assemblyEntries.Select(entry => At(entry.Node)).ToList(), named.Marks,
            precisionNode is null ? null : At(precisionNode));
        if (!declaredByAssemblies)
        {
            foreach (string name in named.Names) CheckPrecision(name, precision, marks.Precision);
            RecipeVariants.CheckSameBackbone(named.Names, named.Marks);
        }
        string device = root.String("device", "auto");
        if (device is not ("auto" or "cpu" or "cuda") && !device.StartsWith("cuda:", StringComparison.Ordinal))
            throw root.Error(root.NodeOf("device")!, $"device: expected auto, cpu, cuda or cuda:N, got '{device}'.");
        // Several variants: the run is named after its recipe file rather than after one of them.
        string output = Resolve(root.String("output",
            "runs/" + (named.Listed ? Path.GetFileNameWithoutExtension(path) : variant)));
        int seed = root.Int("seed", 0, min: 0);
        int? workers = root.OptionalInt("workers", min: 1, max: 1024);
        long maxImagePixels = root.Long("max_image_pixels", Pvp.Training.Data.ImageCodec.DefaultMaxPixels, min: 1,
            max: 1L << 40);

        var backbone = root.OptionalSection("backbone");
        string? weights = backbone?.OptionalString("weights") is { } w ? HubOrPath(w, backbone!) : null;
        var pretrainSection = backbone?.OptionalSection("pretrain");
        var pretrain = ReadStage(pretrainSection, new StageSettings(10, 1e-3, 64, 1, 0.05, 0.1, 1.0, null));
        backbone?.Finish();

        var sourceSection = root.Section("source");
        var source = ReadDataset(sourceSection, Resolve, isSource: true, sourceClasses: 0, seed, maxImagePixels);
        sourceSection.Finish();
        int sourceClasses = source is BuiltinDatasetSpec b ? b.Classes : 0;

        var preprocess = ReadPreprocess(root.OptionalSection("preprocess"));
        string? tensorBoard = root.Bool("tensorboard", false) ? Path.Combine(output, "tensorboard") : null;
        var stage1 = ReadStage(root.Section("stage1"), new StageSettings(10, 5e-3, 64, 1, 1e-4, 0, 1.0, null));

        var stage2Section = root.Section("stage2");
        var tasks = stage2Section.SectionList("tasks").Select(t =>
        {
            string name = t.String("name");
            // The name is a folder under stage2/ and part of cell ids: one safe path segment, never '.', '..' or a separator.
            if (!System.Text.RegularExpressions.Regex.IsMatch(name, "^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
                || name.Contains("..", StringComparison.Ordinal))
                throw t.Error($"{t.Path}.name '{name}' is used as a folder name: use letters, digits, '-', '_' and single dots, " +
                              "starting with a letter or digit (at most 64).");
            string? group = t.OptionalString("group");
            if (group is not null && !System.Text.RegularExpressions.Regex.IsMatch(group, "^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"))
                throw t.Error(t.NodeOf("group")!, $"{t.Path}.group '{group}': use letters, digits, '-', '_' and dots, " +
                                                  "starting with a letter or digit (at most 64), e.g. natural.");
            bool? flip = t.OptionalBool("flip");
            var data = ReadDataset(t, Resolve, isSource: false, sourceClasses, seed, maxImagePixels);
            var spec = new TaskSpec(name, data) { Group = group, Flip = flip };
            t.Finish();
            return spec;
        }).ToList();
        var duplicate = tasks.GroupBy(t => t.Name).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null) throw stage2Section.Error($"stage2.tasks: the name '{duplicate.Key}' appears twice; task names must differ.");
        if (tasks.Count > 0 && tasks.All(t => t.Data.TrainsOnWholeSplit) && stage2Section.Has("shots"))
            throw stage2Section.Error(stage2Section.NodeOf("shots")!,
                "stage2.shots: every task trains on its whole training list (vtab), so shots do not apply; remove the key.");
        var shots = stage2Section.IntList("shots", new[] { 1, 2, 4, 8, 16 }, min: 1, max: 100_000);
        var seeds = stage2Section.IntList("seeds", new[] { 0, 1, 2 }, min: 0);
        bool baseline = stage2Section.Bool("baseline", true);
        var stage2Settings = ReadStageFields(stage2Section, new StageSettings(40, 5e-3, 16, 2, 1e-4, 0, 1.0, null));
        var search = ReadSearch(stage2Section, stage2Section.OptionalSection("search"), stage2Settings.Epochs);
        stage2Section.Finish();
        root.Finish();

        return new PvpRecipe(Path.GetFullPath(path), variant, device, output, seed, workers, weights, pretrain, source,
            stage1,
            new Stage2Section(tasks, shots, seeds, baseline, stage2Settings) { Search = search })
        {
            Variants = named.Names, NamesVariants = named.Listed,
            Assemblies = assemblies, Precision = precision, MaxImagePixels = maxImagePixels, Preprocess = preprocess,
            TensorBoard = tensorBoard,
            Marks = marks,
        };
    }

    /// <summary>The recipe's variant is registered; <paramref name="at"/> is where the recipe names it.</summary>
    /// <exception cref="RecipeException">It is not; the message lists close names.</exception>
    internal static void CheckVariant(string variant, string at, bool listed = false)
    {
        try
        {
            VariantRegistry.Describe(variant);
        }
        catch (KeyNotFoundException e)
        {
            throw new RecipeException($"{at}: {(listed ? "variants" : "variant")}: {e.Message} A variant declared in " +
                                      "your own project: name its assembly or project under 'assemblies:'.");
        }
    }

    /// <summary>
    /// bf16 only for a variant that allows it; <paramref name="at"/> is where the recipe asks for it.
    /// </summary>
    /// <exception cref="RecipeException">bf16 for a variant that allows float32 only.</exception>
    internal static void CheckPrecision(string variant, BackbonePrecision precision, string? at)
    {
        if (precision == BackbonePrecision.Bf16 && !VariantRegistry.Describe(variant).AllowsBf16Backbone)
            throw new RecipeException($"{at}: precision: bf16, but {variant} allows float32 only; declare it with " +
                                      "Precision = PrecisionPlan.BackboneBf16 (possible when nothing in its backbone " +
                                      "trains), or use auto or float32.");
    }

    /// <summary>
    /// The most bytes and the deepest nesting a recipe may have:
    /// far beyond any real recipe, far below a stack overflow.
    /// </summary>
    public const int MaxBytes = 1 << 20, MaxDepth = 32;

    /// <summary>
    /// Walks the YAML's events (an iterative parser: no recursion, whatever the input) before anything builds a tree,
    /// so that a huge or deeply nested file, or one the parser chokes on, is an error with file, line and column.
    /// </summary>
    private static void CheckShape(string yaml, string path)
    {
        if (yaml.Length > MaxBytes)
            throw new RecipeException($"{path}: {yaml.Length:N0} characters; " +
                                      $"a recipe is at most {MaxBytes:N0}. Is this the right file?");
        var parser = new Parser(new StringReader(yaml));
        int depth = 0;
        YamlDotNet.Core.Mark at = YamlDotNet.Core.Mark.Empty;
        try
        {
            while (parser.MoveNext())
            {
                var current = parser.Current!;
                at = current.Start;
                if (current is YamlDotNet.Core.Events.MappingStart or YamlDotNet.Core.Events.SequenceStart && ++depth > MaxDepth)
                    throw new RecipeException($"{path}:{at.Line}:{at.Column}: " +
                                              $"nested more than {MaxDepth} levels deep; a recipe needs a handful.");
                if (current is YamlDotNet.Core.Events.MappingEnd or YamlDotNet.Core.Events.SequenceEnd) depth--;
            }
        }
        catch (YamlException e)
        {
            throw NotYaml(yaml, path, e);
        }
        catch (Exception e) when (e is InvalidOperationException or ArgumentException or FormatException)
        {
            // The parser gave up without a position of its own: name where it stopped.
            throw new RecipeException($"{path}:{at.Line}:{at.Column}: not valid YAML after this point ({e.Message}); " +
                                      "check brackets, braces and quotes.");
        }
    }

    private static RecipeException NotYaml(string yaml, string path, YamlException e)
    {
        string message = e.InnerException?.Message ?? e.Message;
        if (message.Contains("tab", StringComparison.OrdinalIgnoreCase))
        {
            // YAML forbids tabs in indentation; the parser reports where the scalar began, so point at the tab itself.
            var lines = yaml.Split('\n');
            for (int i = 0; i < lines.Length; i++)
            {
                int tab = lines[i].IndexOf('\t', StringComparison.Ordinal);
                if (tab >= 0 && lines[i][..tab].Trim().Length == 0)
                    return new RecipeException($"{path}:{i + 1}:{tab + 1}: a tab in the indentation; " +
                                               "YAML indents with spaces only.");
            }
        }
        return new RecipeException($"{path}:{e.Start.Line}:{e.Start.Column}: not valid YAML: {message}");
    }
}
