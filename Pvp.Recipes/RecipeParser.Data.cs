using Pvp.MixedPrecision;
using Pvp.Training;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;
using Pvp.Optim;

namespace Pvp.Recipes;

// The data sections: preprocessing (RandAugment included) and datasets.
public static partial class RecipeParser
{
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
