using System.Text.Json;

namespace Pvp.Training.Data;

/// <summary>
/// A checkpoint's own preprocessing, from the configuration its library publishes beside the weights: timm's
/// <c>config.json</c> (<c>pretrained_cfg</c>: <c>mean</c>, <c>std</c>, <c>crop_pct</c>, <c>crop_mode</c>,
/// <c>interpolation</c>, <c>input_size</c>) or transformers' <c>preprocessor_config.json</c> (<c>image_mean</c>,
/// <c>image_std</c>, <c>resample</c>, <c>size</c>, <c>do_center_crop</c> / <c>crop_size</c>). Unknown keys are ignored;
/// a value Pvp cannot follow is an error naming the file and key.
/// </summary>
public static class ModelConfigPreprocessing
{
    /// <summary>
    /// The preprocessing a model's configuration files describe (timm's <c>pretrained_cfg</c> first, then transformers'
    /// image processor), starting from <paramref name="fallback"/> for what they leave out; null when neither file
    /// describes any.
    /// </summary>
    /// <param name="configJson">The path of <c>config.json</c>, or null.</param>
    /// <param name="preprocessorConfigJson">The path of <c>preprocessor_config.json</c>, or null.</param>
    /// <param name="fallback">The family's defaults for the fields the files do not give.</param>
    /// <param name="modelName">How the result is named (e.g. the Hub id), before "config.json".</param>
    /// <exception cref="InvalidDataException">
    /// A file does not parse, or a value is out of what Pvp follows; the message names file and key.
    /// </exception>
    public static Preprocessing? Read(
        string? configJson, string? preprocessorConfigJson, Preprocessing fallback, string modelName)
    {
        if (configJson is not null && File.Exists(configJson) && FromTimm(configJson, fallback, modelName) is { } timm)
            return timm;
        if (preprocessorConfigJson is not null && File.Exists(preprocessorConfigJson))
            return FromTransformers(preprocessorConfigJson, fallback, modelName);
        return null;
    }

    /// <summary>
    /// timm's <c>config.json</c>: its <c>pretrained_cfg</c> (null when it has none, e.g. a transformers config).
    /// </summary>
    public static Preprocessing? FromTimm(string path, Preprocessing fallback, string modelName)
    {
        using var document = Parse(path);
        if (!document.RootElement.TryGetProperty("pretrained_cfg", out var cfg) || cfg.ValueKind != JsonValueKind.Object)
            return null;
        var mean = Triple(path, cfg, "pretrained_cfg.mean", "mean") ?? fallback.Mean;
        var std = Triple(path, cfg, "pretrained_cfg.std", "std") ?? fallback.Std;
        double crop = Number(path, cfg, "pretrained_cfg.crop_pct", "crop_pct") ?? fallback.CropFraction;
        var resize = cfg.TryGetProperty("crop_mode", out var mode) && mode.ValueKind == JsonValueKind.String
            ? mode.GetString() switch
            {
                "center" => ResizeMode.ShortSide,
                "squash" => ResizeMode.Squash,
                var other => throw new InvalidDataException(
                    $"'{path}': pretrained_cfg.crop_mode '{other}' is not one Pvp follows (center, squash); " +
                    "give the recipe a preprocess: section instead."),
            }
            : ResizeMode.ShortSide;
        var interpolation = cfg.TryGetProperty("interpolation", out var i) && i.ValueKind == JsonValueKind.String
            ? InterpolationNamed(path, "pretrained_cfg.interpolation", i.GetString()!)
            : fallback.Interpolation;
        var result = new Preprocessing($"{modelName} config.json", mean, std, crop, resize, interpolation,
            fallback.Augmentation, fallback.FlipProbability);
        return Checked(result, path);
    }

    /// <summary>
    /// transformers' <c>preprocessor_config.json</c> (ViTImageProcessor, DeiTImageProcessor, BeitImageProcessor…).
    /// </summary>
    public static Preprocessing FromTransformers(string path, Preprocessing fallback, string modelName)
    {
        using var document = Parse(path);
        var root = document.RootElement;
        bool normalize = !root.TryGetProperty("do_normalize", out var n) || n.ValueKind != JsonValueKind.False;
        var mean = normalize ? Triple(path, root, "image_mean", "image_mean") ?? fallback.Mean : (0f, 0f, 0f);
        var std = normalize ? Triple(path, root, "image_std", "image_std") ?? fallback.Std : (1f, 1f, 1f);
        // PIL's resample codes, which transformers stores: 0 nearest, 2 bilinear, 3 bicubic.
        var interpolation = root.TryGetProperty("resample", out var r) && r.ValueKind == JsonValueKind.Number
            ? r.GetInt32() switch
            {
                2 => Interpolation.Bilinear,
                3 => Interpolation.Bicubic,
                var other => throw new InvalidDataException(
                    $"'{path}': resample {other} is not bilinear (2) or bicubic (3), the filters Pvp has; " +
                    "give the recipe a preprocess: section instead."),
            }
            : fallback.Interpolation;
        // ViTImageProcessor resizes the whole image to size×size (a squash); with do_center_crop (DeiT, BEiT) it
        // resizes to size and crops crop_size, so the crop fraction is crop_size / size. size {"shortest_edge": s}
        // keeps the aspect.
        var resize = ResizeMode.Squash;
        double? side = null;
        if (root.TryGetProperty("size", out var size))
        {
            if (size.ValueKind == JsonValueKind.Number) side = size.GetDouble();
            else if (size.ValueKind == JsonValueKind.Object)
            {
                if (size.TryGetProperty("shortest_edge", out var edge) && edge.ValueKind == JsonValueKind.Number)
                {
                    side = edge.GetDouble();
                    resize = ResizeMode.ShortSide;
                }
                else if (size.TryGetProperty("height", out var h) && h.ValueKind == JsonValueKind.Number)
                    side = h.GetDouble();
            }
        }
        double crop = 1.0;
        bool centerCrop = root.TryGetProperty("do_center_crop", out var cc) && cc.ValueKind == JsonValueKind.True;
        if (centerCrop && side is > 0 && root.TryGetProperty("crop_size", out var cropSize))
        {
            double? cropSide = cropSize.ValueKind == JsonValueKind.Number ? cropSize.GetDouble()
                : cropSize.ValueKind == JsonValueKind.Object && cropSize.TryGetProperty("height", out var ch)
                  && ch.ValueKind == JsonValueKind.Number ? ch.GetDouble()
                : null;
            if (cropSide is > 0) crop = Math.Min(1.0, cropSide.Value / side.Value);
        }
        var result = new Preprocessing($"{modelName} preprocessor_config.json", mean, std, crop, resize, interpolation,
            fallback.Augmentation, fallback.FlipProbability);
        return Checked(result, path);
    }

    private static JsonDocument Parse(string path)
    {
        try
        {
            return JsonDocument.Parse(File.ReadAllText(path));
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"'{path}' is not valid JSON ({e.Message}); download it again, " +
                                           "or give the recipe a preprocess: section.", e);
        }
    }

    private static Preprocessing Checked(Preprocessing p, string path)
    {
        try
        {
            p.Validate();
            return p;
        }
        catch (ArgumentException e)
        {
            throw new InvalidDataException($"'{path}': {e.Message}", e);
        }
    }

    private static Interpolation InterpolationNamed(string path, string key, string name) => name switch
    {
        "bilinear" => Interpolation.Bilinear,
        "bicubic" => Interpolation.Bicubic,
        _ => throw new InvalidDataException($"'{path}': {key} '{name}' is not bilinear or bicubic, " +
                                            "the filters Pvp has; give the recipe a preprocess: section instead."),
    };

    private static double? Number(string path, JsonElement parent, string key, string property)
    {
        if (!parent.TryGetProperty(property, out var value) || value.ValueKind == JsonValueKind.Null) return null;
        if (value.ValueKind != JsonValueKind.Number)
            throw new InvalidDataException($"'{path}': {key} must be a number, not {value.GetRawText()}.");
        return value.GetDouble();
    }

    private static (float R, float G, float B)? Triple(string path, JsonElement parent, string key, string property)
    {
        if (!parent.TryGetProperty(property, out var value) || value.ValueKind == JsonValueKind.Null) return null;
        if (value.ValueKind == JsonValueKind.Number)
        {
            float v = value.GetSingle();
            return (v, v, v);
        }
        if (value.ValueKind != JsonValueKind.Array || value.GetArrayLength() != 3
            || value.EnumerateArray().Any(e => e.ValueKind != JsonValueKind.Number))
            throw new InvalidDataException($"'{path}': {key} must be three numbers (R, G, B), not {value.GetRawText()}.");
        var v3 = value.EnumerateArray().Select(e => e.GetSingle()).ToArray();
        return (v3[0], v3[1], v3[2]);
    }

    /// <summary>
    /// timm's <c>pretrained_cfg.input_size</c> ([3, H, W]), to compare with the model's; null when absent.
    /// </summary>
    public static int? InputSize(string? configJson)
    {
        if (configJson is null || !File.Exists(configJson)) return null;
        using var document = Parse(configJson);
        return document.RootElement.TryGetProperty("pretrained_cfg", out var cfg)
               && cfg.TryGetProperty("input_size", out var size)
               && size.ValueKind == JsonValueKind.Array && size.GetArrayLength() == 3 && size[2].ValueKind == JsonValueKind.Number
            ? size[2].GetInt32()
            : null;
    }
}
