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
public static class RecipeParser
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

    private static StageSettings ReadStage(YamlSection? section, StageSettings defaults)
    {
        if (section is null) return defaults;
        var settings = ReadStageFields(section, defaults);
        section.Finish();
        return settings;
    }

    /// <summary>
    /// A stage's fields. <c>protocol: vpt</c> changes the defaults of the optimizer fields to VPT's (SGD, momentum 0.9,
    /// lr scaled by batch / 256, decay on every trainable parameter but the classifier's bias, the schedule stepped per
    /// epoch); keys given still win.
    /// </summary>
    private static StageSettings ReadStageFields(YamlSection s, StageSettings d)
    {
        if (s.Has("eval_crop"))
            throw s.Error(s.NodeOf("eval_crop")!,
                $"{s.Path}.eval_crop: the evaluation crop is now one setting for every stage, since the checkpoint expects it: " +
                "write it as preprocess.crop_fraction (top level).");
        bool vpt = s.Choice("protocol", "pvp", "pvp", "vpt") == "vpt";
        var settings = new StageSettings(
            s.Int("epochs", d.Epochs, min: 1, max: 100_000),
            s.Double("lr", d.LearningRate, min: 0, max: 1000, exclusiveMin: true),
            s.Int("batch", d.Batch, min: 1, max: 65_536),
            s.Double("warmup", d.WarmupEpochs, min: 0, max: 100_000),
            s.Double("weight_decay", d.WeightDecay, min: 0, max: 100),
            s.Double("label_smoothing", d.LabelSmoothing, min: 0, max: 0.999),
            s.Double("clip_grad", d.ClipGrad, min: 0, max: 1e9),
            s.OptionalBool("augment") ?? d.Augment,
            s.Int("checkpoint_every_steps", d.CheckpointEverySteps, min: 0, max: 1_000_000_000))
        {
            Optimizer = s.Choice("optimizer", vpt ? "sgd" : "adamw", "adamw", "sgd") == "sgd"
                ? OptimizerKind.Sgd
                : OptimizerKind.AdamW,
            Momentum = s.Double("momentum", 0.9, min: 0, max: 0.999),
            ScaleLrByBatch = s.Choice("lr_scaling", vpt ? "batch/256" : "none", "none", "batch/256") == "batch/256",
            Decay = s.Choice("decay", vpt ? "all" : "weights", "weights", "all") == "all" ? DecayRule.All : DecayRule.Pvp,
            ScheduleByEpoch = s.Choice("schedule", vpt ? "per_epoch" : "per_step", "per_step", "per_epoch") == "per_epoch",
            DropPath = s.Double("drop_path", d.DropPath, min: 0, max: 0.999),
            Mixup = s.Has("mixup") ? ReadMixup(s) : d.Mixup,
        };
        if (settings.Mixup is not null && settings.LabelSmoothing > 0)
            throw s.Error(s.NodeOf("label_smoothing") ?? s.NodeOf("mixup")!,
                $"{s.Path}.label_smoothing: with mixup the targets are smoothed by mixup.label_smoothing (timm's Mixup); " +
                "move the value there and remove label_smoothing.");
        if (settings.Mixup is not null && settings.Batch % 2 != 0)
            throw s.Error(s.NodeOf("batch") ?? s.NodeOf("mixup")!,
                $"{s.Path}.batch: {settings.Batch} is odd, and mixup (timm's batch mode) pairs each image with its mirror " +
                "in the batch; choose an even batch or remove mixup.");
        if (settings.Optimizer == OptimizerKind.AdamW && s.Has("momentum"))
            throw s.Error(s.NodeOf("momentum")!,
                $"{s.Path}.momentum: momentum is SGD's; this stage uses AdamW (set optimizer: sgd, or remove momentum).");
        return settings;
    }

    /// <summary>
    /// A stage's <c>mixup:</c> section: timm's <c>Mixup</c> arguments, each defaulting to NOAH's value
    /// (mixup_alpha 0.8, cutmix_alpha 1.0, prob 1.0, switch_prob 0.5, label_smoothing 0.1).
    /// </summary>
    private static Pvp.Training.Data.Mixup ReadMixup(YamlSection stage)
    {
        var m = stage.OptionalSection("mixup") ?? throw stage.Error(stage.NodeOf("mixup")!,
            $"{stage.Path}.mixup: is empty; write 'mixup: {{}}' for NOAH's values (mixup_alpha 0.8, cutmix_alpha 1.0, " +
            "prob 1.0, switch_prob 0.5, label_smoothing 0.1), or remove the key.");
        var mixup = new Pvp.Training.Data.Mixup(
            m.Double("mixup_alpha", 0.8, min: 0, max: 100),
            m.Double("cutmix_alpha", 1.0, min: 0, max: 100),
            m.Double("prob", 1.0, min: 0, max: 1),
            m.Double("switch_prob", 0.5, min: 0, max: 1),
            m.Double("label_smoothing", 0.1, min: 0, max: 0.999));
        if (mixup.MixupAlpha == 0 && mixup.CutmixAlpha == 0)
            throw m.Error($"{m.Path}: mixup_alpha and cutmix_alpha are both 0, so nothing would mix; " +
                          "give one a positive value or remove mixup.");
        m.Finish();
        return mixup;
    }

    private static SearchSpec? ReadSearch(YamlSection stage2, YamlSection? s, int epochs)
    {
        if (s is null)
        {
            // Present but empty (every line commented out, say) is not
            // the same as absent: say so rather than search nothing.
            if (stage2.Has("search"))
                throw stage2.Error(stage2.NodeOf("search")!,
                    "stage2.search: is empty; give lr and weight_decay lists, write 'search: {}' for VPT's grid, " +
                    "or remove the key.");
            return null;
        }
        // VPT's tune_fgvc.py grid for prompts (lr before scaling by batch / 256) and its weight decays.
        var search = new SearchSpec(
            s.DoubleList("lr", new[] { 50.0, 25, 10, 5, 2.5, 1, 0.5, 0.25, 0.1 }, min: 1e-12, max: 1000),
            s.DoubleList("weight_decay", new[] { 0.01, 0.001, 0.0001, 0.0 }, min: 0, max: 100),
            s.Int("val_per_class", 5, min: 1, max: 100_000));
        bool halving = s.Choice("strategy", "full", "full", "halving") == "halving";
        if (!halving)
        {
            foreach (string key in new[] { "eta", "first_budget" })
                if (s.Has(key))
                    throw s.Error(s.NodeOf(key)!,
                        $"stage2.search.{key}: applies to successive halving only; add 'strategy: halving' or remove {key}.");
            s.Finish();
            return search;
        }
        if (!s.Has("first_budget"))
            throw s.Error($"stage2.search: strategy halving needs first_budget, the first round's epochs (at least 1, at " +
                          $"most stage2.epochs = {epochs}), e.g. first_budget: {Math.Max(1, epochs / 9)}.");
        var etaNode = s.NodeOf("eta");
        int eta = s.Int("eta", 3, min: int.MinValue, max: 1_000);
        if (eta < 2)
            throw s.Error(etaNode!, $"stage2.search.eta: {eta} keeps every setting (or none) each round; give 2 or more " +
                                    "(3 is Hyperband's default: keep the best third, triple the budget).");
        var budgetNode = s.NodeOf("first_budget")!;
        int firstBudget = s.Int("first_budget", null, min: int.MinValue, max: int.MaxValue);
        if (firstBudget <= 0 || firstBudget > epochs)
            throw s.Error(budgetNode, $"stage2.search.first_budget: {firstBudget} epochs; the first round trains for at " +
                                      $"least 1 and at most stage2.epochs ({epochs}) epochs: give a number in that range " +
                                      $"(e.g. {Math.Max(1, epochs / 9)}).");
        s.Finish();
        return search with { Strategy = SearchStrategy.Halving, Eta = eta, FirstBudget = firstBudget };
    }

    private static PreprocessSpec ReadPreprocess(YamlSection? s)
    {
        if (s is null) return PreprocessSpec.FromCheckpoint;
        s.Expect("mean", "std", "crop_fraction", "resize", "interpolation", "train_augmentation", "flip", "random_erasing",
            "rand_augment");
        string preset = s.Choice("preset", "checkpoint", new[] { "checkpoint" }.Concat(Pvp.Training.Data.Preprocessing.Presets.Keys).ToArray());
        static (float, float, float)? Triple(IReadOnlyList<double>? v) => v is null ? null : ((float)v[0], (float)v[1], (float)v[2]);
        var spec = new PreprocessSpec(preset,
            Mean: Triple(s.Has("mean") ? s.DoubleList("mean", Array.Empty<double>(), min: -10, max: 10, length: 3) : null),
            Std: Triple(s.Has("std") ? s.DoubleList("std", Array.Empty<double>(), min: 1e-6, max: 10, length: 3) : null),
            CropFraction: s.Has("crop_fraction") ? s.Double("crop_fraction", 1, min: 0.1, max: 1) : null,
            Resize: s.Has("resize")
                ? (s.Choice("resize", "short_side", "short_side", "square") == "square"
                    ? Pvp.Training.Data.ResizeMode.Squash
                    : Pvp.Training.Data.ResizeMode.ShortSide)
                : null,
            Interpolation: s.Has("interpolation")
                ? (s.Choice("interpolation", "bicubic", "bilinear", "bicubic") == "bilinear"
                    ? Pvp.Training.Data.Interpolation.Bilinear
                    : Pvp.Training.Data.Interpolation.Bicubic)
                : null,
            Augmentation: s.Has("train_augmentation")
                ? s.Choice("train_augmentation", "none", "random_resized_crop", "resize_random_crop", "none") switch
                {
                    "random_resized_crop" => Pvp.Training.Data.TrainAugmentation.RandomResizedCrop,
                    "resize_random_crop" => Pvp.Training.Data.TrainAugmentation.ResizeRandomCrop,
                    _ => Pvp.Training.Data.TrainAugmentation.None,
                }
                : null,
            Flip: s.Has("flip") ? s.Double("flip", 0.5, min: 0, max: 1) : null)
        {
            RandomErasing = s.Has("random_erasing") ? s.Double("random_erasing", 0, min: 0, max: 1) : null,
            RandAugment = s.Has("rand_augment") ? ReadRandAugment(s) : null,
        };
        if (spec.Augmentation == Pvp.Training.Data.TrainAugmentation.None && spec.RandAugment is not null)
            throw s.Error(s.NodeOf("rand_augment")!, "preprocess.rand_augment: RandAugment is part of the training " +
                                                     "augmentation, and train_augmentation is none; remove rand_augment or choose an augmentation.");
        if (spec.Augmentation == Pvp.Training.Data.TrainAugmentation.None && spec.RandomErasing is > 0)
            throw s.Error(s.NodeOf("random_erasing")!, "preprocess.random_erasing: erasing is part of the training augmentation, " +
                                                       "and train_augmentation is none; remove random_erasing or choose an augmentation.");
        if (spec.Augmentation == Pvp.Training.Data.TrainAugmentation.None && spec.Flip is not null)
            throw s.Error(s.NodeOf("flip")!, "preprocess.flip: the flip is part of the training augmentation, " +
                                             "and train_augmentation is none; remove flip or choose an augmentation.");
        s.Finish();
        return spec;
    }

    private static Pvp.Training.Data.RandAugment ReadRandAugment(YamlSection s)
    {
        string config = s.String("rand_augment");
        try
        {
            return Pvp.Training.Data.RandAugment.Parse(config);
        }
        catch (ArgumentException e)
        {
            throw s.Error(s.NodeOf("rand_augment")!, $"preprocess.rand_augment: {e.Message}");
        }
    }

    private static DatasetSpec ReadDataset(YamlSection s, Func<string, string> resolve, bool isSource,
        int sourceClasses, int seed, long maxImagePixels)
    {
        var forms = new[] { "builtin", "imagefolder", "list", "fgvc", "vtab" }.Where(s.Has).ToList();
        if (forms.Count != 1)
        {
            string found = forms.Count > 1 ? $" (found {string.Join(", ", forms)})" : "";
            throw s.Error($"{s.Path}: give exactly one of builtin, imagefolder, list, fgvc or vtab{found}.");
        }
        DatasetSpec spec;
        switch (forms[0])
        {
            case "builtin":
            {
                var b = s.Section("builtin");
                // The built-in set has 240 classes; a target's come after the source's, so both together must fit.
                int available = Pvp.Training.Data.SyntheticShapes.UniverseSize - (isSource ? 0 : sourceClasses);
                if (!isSource && available < 2)
                    throw b.Error(
                        $"{b.Path}: the built-in source takes {sourceClasses} of its {Pvp.Training.Data.SyntheticShapes.UniverseSize} " +
                        "classes, leaving too few for a target task; use fewer source classes.");
                spec = new BuiltinDatasetSpec(isSource,
                    b.Int("classes", Math.Min(isSource ? 40 : 10, available), min: 2, max: available),
                    b.Int("train_per_class", isSource ? 60 : 32, min: 1, max: 100_000),
                    b.Int("test_per_class", isSource ? 10 : 30, min: 1, max: 100_000),
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
                string train = l.String("train");
                if (ListFileSpec.UnknownPlaceholder(train) is { } unknown)
                    throw l.Error(l.NodeOf("train")!,
                        $"{l.Path}.train: '{unknown}' is not a placeholder; " +
                        $"a training list pattern may use {string.Join(" and ", ListFileSpec.Placeholders)}.");
                if (isSource && ListFileSpec.IsPattern(train))
                    throw l.Error(l.NodeOf("train")!,
                        $"{l.Path}.train: the source's training list cannot be a per-(shots, seed) pattern; " +
                        "{shots} and {seed} belong to stage 2's tasks.");
                spec = new ListFileSpec(resolve(l.String("root")), resolve(train), resolve(l.String("test")),
                    l.OptionalInt("classes", min: 2),
                    l.OptionalString("val") is { } val ? resolve(val) : null);
                l.Finish();
                break;
            }
            case "vtab":
            {
                var v = s.Section("vtab");
                if (isSource)
                    throw v.Error($"{v.Path}: a VTAB-1k task folder is a stage-2 task (1000 training images); give the source as imagefolder or list.");
                spec = new VtabSpec(resolve(v.String("root")), v.OptionalInt("classes", min: 2));
                v.Finish();
                break;
            }
            default:
            {
                var f = s.Section("fgvc");
                string images = f.String("images", "");
                if (Path.IsPathRooted(images) || images.Split('/', '\\').Contains(".."))
                    throw f.Error(f.NodeOf("images")!,
                        $"{f.Path}.images: '{images}' must be a folder inside root " +
                        "(VPT's: images for CUB and NABirds, Images for Stanford Dogs, empty for Flowers and Cars).");
                spec = new FgvcSpec(resolve(f.String("root")), resolve(f.String("train")), resolve(f.String("test")),
                    f.OptionalInt("classes", min: 2),
                    images, f.OptionalString("val") is { } val ? resolve(val) : null);
                f.Finish();
                break;
            }
        }
        s.OptionalString("name"); // tasks carry a name; sources may
        return spec with { MaxImagePixels = maxImagePixels };
    }
}
