using Pvp.Precision;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Pvp.Recipe;

/// <summary>
/// Reads a PVP recipe from YAML. Every error names the file, line and column, and the key: a misspelt or unknown key,
/// a value of the wrong type or out of range, an unknown variant, a missing section.
/// </summary>
public static class RecipeParser
{
    /// <summary>Reads the recipe at <paramref name="path"/>.</summary>
    /// <exception cref="RecipeException">The recipe is wrong; the message says where and how.</exception>
    public static PvpRecipe Load(string path)
    {
        if (!File.Exists(path)) throw new RecipeException($"Recipe file '{path}' does not exist.");
        return Parse(File.ReadAllText(path), path);
    }

    /// <summary>Reads a recipe from text; <paramref name="path"/> names it in errors and anchors relative paths.</summary>
    /// <exception cref="RecipeException">The recipe is wrong; the message says where and how.</exception>
    public static PvpRecipe Parse(string yaml, string path = "recipe.yaml")
    {
        var stream = new YamlStream();
        try
        {
            stream.Load(new StringReader(yaml));
        }
        catch (YamlException e)
        {
            throw new RecipeException($"{path}:{e.Start.Line}:{e.Start.Column}: not valid YAML: {e.InnerException?.Message ?? e.Message}");
        }
        if (stream.Documents.Count == 0 || stream.Documents[0].RootNode is not YamlMappingNode rootNode)
            throw new RecipeException($"{path}: expected a mapping at the top (variant:, backbone:, source:, stage1:, stage2:).");

        string folder = Path.GetDirectoryName(Path.GetFullPath(path))!;
        string Resolve(string p) => Path.IsPathRooted(p) ? p : Path.GetFullPath(Path.Combine(folder, p));

        var root = new YamlSection(path, rootNode, "");
        // The user's own variants register before the variant is looked up.
        var assemblies = root.StringList("assemblies").Select(entry =>
        {
            try
            {
                return VariantSources.Load(Resolve(entry.Value));
            }
            catch (Exception e) when (e is FileNotFoundException or InvalidDataException or InvalidOperationException or FileLoadException)
            {
                throw root.Error(entry.Node, $"assemblies: {e.Message}");
            }
        }).ToList();
        string variant = root.String("variant");
        var variantNode = rootNode.Children[new YamlScalarNode("variant")];
        try
        {
            VariantRegistry.Describe(variant);
        }
        catch (KeyNotFoundException e)
        {
            throw root.Error(variantNode, $"variant: {e.Message} A variant declared in your own project: name its assembly or project under 'assemblies:'.");
        }
        var precisionNode = root.Has("precision") ? rootNode.Children[new YamlScalarNode("precision")] : null;
        var precision = root.String("precision", "auto") switch
        {
            "auto" => BackbonePrecision.Auto,
            "float32" => BackbonePrecision.Float32,
            "bf16" => BackbonePrecision.Bf16,
            var other => throw root.Error(precisionNode!, $"precision: expected auto, float32 or bf16, got '{other}'."),
        };
        if (precision == BackbonePrecision.Bf16 && !VariantRegistry.Describe(variant).AllowsBf16Backbone)
            throw root.Error(precisionNode!, $"precision: bf16, but {variant} allows float32 only; declare it with Precision = PrecisionPlan.BackboneBf16 " +
                                             "(possible when nothing in its backbone trains), or use auto or float32.");
        string device = root.String("device", "auto");
        if (device is not ("auto" or "cpu" or "cuda") && !device.StartsWith("cuda:", StringComparison.Ordinal))
            throw root.Error(rootNode.Children[new YamlScalarNode("device")], $"device: expected auto, cpu, cuda or cuda:N, got '{device}'.");
        string output = Resolve(root.String("output", "runs/" + variant));
        int seed = root.Int("seed", 0, min: 0);
        int? workers = root.OptionalInt("workers", min: 1);

        var backbone = root.OptionalSection("backbone");
        string? weights = backbone?.OptionalString("weights") is { } w ? Resolve(w) : null;
        var pretrainSection = backbone?.OptionalSection("pretrain");
        var pretrain = ReadStage(pretrainSection, new StageSettings(10, 1e-3, 64, 1, 0.05, 0.1, 1.0, false));
        backbone?.Finish();

        var sourceSection = root.Section("source");
        var source = ReadDataset(sourceSection, Resolve, isSource: true, sourceClasses: 0, seed);
        sourceSection.Finish();
        int sourceClasses = source is BuiltinDatasetSpec b ? b.Classes : 0;

        var stage1 = ReadStage(root.Section("stage1"), new StageSettings(10, 5e-3, 64, 1, 1e-4, 0, 1.0, false));

        var stage2Section = root.Section("stage2");
        var tasks = stage2Section.SectionList("tasks").Select(t =>
        {
            string name = t.String("name");
            if (name.IndexOfAny(Path.GetInvalidFileNameChars()) >= 0 || name.Contains(' ', StringComparison.Ordinal))
                throw t.Error($"{t.Path}.name '{name}' is used as a folder name: use letters, digits, '-' and '_'.");
            var spec = new TaskSpec(name, ReadDataset(t, Resolve, isSource: false, sourceClasses, seed));
            t.Finish();
            return spec;
        }).ToList();
        var duplicate = tasks.GroupBy(t => t.Name).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null) throw stage2Section.Error($"stage2.tasks: the name '{duplicate.Key}' appears twice; task names must differ.");
        var shots = stage2Section.IntList("shots", new[] { 1, 2, 4, 8, 16 }, min: 1);
        var seeds = stage2Section.IntList("seeds", new[] { 0, 1, 2 }, min: 0);
        bool baseline = stage2Section.Bool("baseline", true);
        var stage2Settings = ReadStageFields(stage2Section, new StageSettings(40, 5e-3, 16, 2, 1e-4, 0, 1.0, false));
        stage2Section.Finish();
        root.Finish();

        return new PvpRecipe(Path.GetFullPath(path), variant, device, output, seed, workers, weights, pretrain, source, stage1,
            new Stage2Section(tasks, shots, seeds, baseline, stage2Settings)) { Assemblies = assemblies, Precision = precision };
    }

    private static StageSettings ReadStage(YamlSection? section, StageSettings defaults)
    {
        if (section is null) return defaults;
        var settings = ReadStageFields(section, defaults);
        section.Finish();
        return settings;
    }

    private static StageSettings ReadStageFields(YamlSection s, StageSettings d) => new(
        s.Int("epochs", d.Epochs, min: 1),
        s.Double("lr", d.LearningRate, min: 0, exclusiveMin: true),
        s.Int("batch", d.Batch, min: 1),
        s.Double("warmup", d.WarmupEpochs, min: 0),
        s.Double("weight_decay", d.WeightDecay, min: 0),
        s.Double("label_smoothing", d.LabelSmoothing, min: 0, max: 0.999),
        s.Double("clip_grad", d.ClipGrad, min: 0),
        s.Bool("augment", d.Augment),
        s.Double("eval_crop", d.EvalCrop, min: 0, max: 1, exclusiveMin: true));

    private static DatasetSpec ReadDataset(YamlSection s, Func<string, string> resolve, bool isSource, int sourceClasses, int seed)
    {
        var forms = new[] { "builtin", "imagefolder", "list", "fgvc" }.Where(s.Has).ToList();
        if (forms.Count != 1)
            throw s.Error($"{s.Path}: give exactly one of builtin, imagefolder, list or fgvc{(forms.Count > 1 ? $" (found {string.Join(", ", forms)})" : "")}.");
        DatasetSpec spec;
        switch (forms[0])
        {
            case "builtin":
            {
                var b = s.Section("builtin");
                spec = new BuiltinDatasetSpec(isSource,
                    b.Int("classes", isSource ? 40 : 10, min: 2),
                    b.Int("train_per_class", isSource ? 60 : 32, min: 1),
                    b.Int("test_per_class", isSource ? 10 : 30, min: 1),
                    b.Int("seed", seed, min: 0),
                    sourceClasses);
                b.Finish();
                break;
            }
            case "imagefolder":
            {
                var f = s.Section("imagefolder");
                spec = new ImageFolderSpec(resolve(f.String("train")), resolve(f.String("test")));
                f.Finish();
                break;
            }
            case "list":
            {
                var l = s.Section("list");
                spec = new ListFileSpec(resolve(l.String("root")), resolve(l.String("train")), resolve(l.String("test")), l.OptionalInt("classes", min: 2));
                l.Finish();
                break;
            }
            default:
            {
                var f = s.Section("fgvc");
                spec = new FgvcSpec(resolve(f.String("root")), resolve(f.String("train")), resolve(f.String("test")), f.OptionalInt("classes", min: 2));
                f.Finish();
                break;
            }
        }
        s.OptionalString("name"); // tasks carry a name; sources may
        return spec;
    }
}
