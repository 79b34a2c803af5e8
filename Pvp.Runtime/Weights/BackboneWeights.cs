using Pvp.Checkpoints;
using TorchSharp;
using static TorchSharp.torch;

namespace Pvp.Weights;

/// <summary>How <see cref="BackboneWeights"/> treats a checkpoint that does not fit exactly.</summary>
public sealed record BackboneLoadOptions
{
    /// <summary>
    /// Load the checkpoint's head when its shape fits (same class count); otherwise it is skipped. Default true.
    /// </summary>
    public bool LoadHead { get; init; } = true;

    /// <summary>Fail on checkpoint keys the model does not have (e.g. a distillation token). Default true.</summary>
    public bool FailOnUnexpected { get; init; } = true;

    /// <summary>How a <c>hf-hub:</c> id is fetched (null: <see cref="Hub.HubOptions.FromEnvironment"/>).</summary>
    public Hub.HubOptions? Hub { get; init; }
}

/// <summary>What a backbone load did.</summary>
/// <param name="Source">The file (or a description of the in-memory dict).</param>
/// <param name="Layout">The key layout detected.</param>
/// <param name="Loaded">Model keys that received checkpoint values.</param>
/// <param name="LeftInitialised">
/// Model keys the checkpoint has no value for and that need none: PETuning modules, a skipped head.
/// </param>
/// <param name="Ignored">
/// Checkpoint keys the model does not have (only when <see cref="BackboneLoadOptions.FailOnUnexpected"/> is off).
/// </param>
/// <param name="PositionEmbedding">How the position embedding was resized (e.g. <c>8x8 → 12x12</c>), or null.</param>
/// <param name="HeadNote">Why the head was not loaded, or null when it was.</param>
public sealed record WeightLoadReport(
    string Source, KeyLayout Layout, IReadOnlyList<string> Loaded, IReadOnlyList<string> LeftInitialised,
    IReadOnlyList<string> Ignored, string? PositionEmbedding, string? HeadNote)
{
    /// <summary>
    /// Checkpoint keys left out on purpose: a JAX <c>pre_logits</c>
    /// layer, a Hugging Face <c>pooler</c> (no timm ViT has them).
    /// </summary>
    public IReadOnlyList<string> Skipped { get; init; } = Array.Empty<string>();

    /// <summary>A few lines for the console.</summary>
    public override string ToString()
    {
        var lines = new List<string> { $"weights '{Source}' ({Layout} layout): {Loaded.Count} tensors loaded" };
        if (PositionEmbedding is not null)
            lines.Add($"  position embedding interpolated (bicubic) {PositionEmbedding}");
        if (HeadNote is not null) lines.Add($"  head not loaded: {HeadNote}");
        if (LeftInitialised.Count > 0)
            lines.Add($"  left at initialisation: {LeftInitialised.Count} tensors " +
                      $"(PETuning modules{(HeadNote is null ? "" : ", head")})");
        if (Ignored.Count > 0) lines.Add($"  ignored (not in the model): {string.Join(", ", Ignored)}");
        if (Skipped.Count > 0) lines.Add($"  skipped (not part of a timm ViT): {string.Join(", ", Skipped)}");
        return string.Join(Environment.NewLine, lines);
    }
}

/// <summary>
/// Loads pre-trained ViT weights into a generated model: timm or torchvision layout (detected), safetensors or a
/// PyTorch state dict; the position embedding is interpolated when the patch grid differs; the head is skipped when
/// the class count differs. Anything else that does not fit fails with every offending key named.
/// </summary>
public static class BackboneWeights
{
    /// <summary>
    /// Loads a weights file into <paramref name="model"/> (usually a generated model: <c>model.LoadBackbone(path)</c>);
    /// <paramref name="path"/> may also be a Hugging Face Hub id, <c>hf-hub:org/name[@revision]</c>, taken from the
    /// Hugging Face cache or downloaded into it (<see cref="Hub.HubWeights"/>).
    /// </summary>
    /// <exception cref="CheckpointMismatchException">
    /// Missing backbone keys, unexpected keys, or mis-shaped tensors; each is named.
    /// </exception>
    /// <exception cref="Hub.HubException">
    /// A Hub id's file cannot be had; the message names the id, the URL and the fix.
    /// </exception>
    public static WeightLoadReport Load(IWeightTarget model, string path, BackboneLoadOptions? options = null)
    {
        if (Hub.HubModelId.IsHubId(path))
        {
            var files = Hub.HubWeights.Resolve(path, options?.Hub);
            string commit = files.Commit is { } c ? $", commit {c[..12]}" : "";
            return LoadFile(model, files.Weights, $"{files.Id} ({files.WeightsFile}{commit}: {files.Weights})",
                options);
        }
        return LoadFile(model, path, path, options);
    }

    private static WeightLoadReport LoadFile(
        IWeightTarget model, string path, string source, BackboneLoadOptions? options)
    {
        if (File.Exists(path))
        {
            // Checked before anything is inflated: an archive whose entries inflate far past this model's weights is
            // another model's checkpoint (or a zip bomb), and reading it first would take that much memory only to
            // report a mismatch.
            long modelBytes = model.WeightTargetState.Sum(p => p.Value.numel() * 4);
            long budget = 2 * modelBytes + (256L << 20), declared = StateDictFile.DeclaredBytes(path);
            if (declared > budget)
                throw new InvalidDataException($"'{path}' declares {declared / (1 << 20):N0} MiB of arrays, " +
                                               $"far more than {model.WeightTargetName}'s " +
                                               $"{modelBytes / (1 << 20):N0} MiB of weights: " +
                                               "it is the checkpoint of a larger model, or damaged. " +
                                               "Give the weights of this backbone.");
        }
        return Load(model, StateDictFile.Load(path), source, options);
    }

    /// <summary>Loads an in-memory state dict into <paramref name="model"/>.</summary>
    /// <exception cref="CheckpointMismatchException">
    /// Missing backbone keys, unexpected keys, or mis-shaped tensors; each is named.
    /// </exception>
    public static WeightLoadReport Load(IWeightTarget model, IReadOnlyDictionary<string, Tensor> weights,
        string source = "<in memory>", BackboneLoadOptions? options = null)
    {
        options ??= new BackboneLoadOptions();
        // Weights are real numbers: an integer or boolean tensor would be converted silently and train nonsense.
        var notFloat = weights.Where(p => !is_floating_point(p.Value)).Select(p => $"{p.Key} ({p.Value.dtype})")
            .ToList();
        if (notFloat.Count > 0)
            throw new InvalidDataException($"'{source}' holds weights that are not floating point: " +
                                           $"{string.Join(", ", notFloat.Take(8))}" +
                                           $"{(notFloat.Count > 8 ? $" and {notFloat.Count - 8} more" : "")}. " +
                                           "Is it a quantized or non-weight file?");
        FiniteWeights.Require(weights, source,
            "The file is damaged (or came from a run that diverged): download or convert it again.");
        var checkpoint = KeyLayouts.ToTimm(weights, out var layout, out var skipped);
        var target = model.WeightTargetState;
        string? headNoteForHeadless = null;
        if (!target.Keys.Any(k => model.RoleOf(k).HasFlag(WeightRoles.Head)))
        {
            // A model built as a feature extractor (no head) takes
            // the backbone of a classifier checkpoint, as timm does.
            var heads = checkpoint.Keys.Where(k => k.StartsWith("head.", StringComparison.Ordinal)).ToList();
            foreach (string key in heads) checkpoint.Remove(key);
            if (heads.Count > 0)
                headNoteForHeadless = "the model has no head (numClasses 0); the checkpoint's was skipped";
        }

        var missing = new List<string>();
        var leftInitialised = new List<string>();
        var misShaped = new List<string>();
        var values = new Dictionary<string, Tensor>();
        string? positionNote = null, headNote = headNoteForHeadless;

        foreach (var (key, parameter) in target)
        {
            var role = model.RoleOf(key);
            bool isHead = role.HasFlag(WeightRoles.Head);
            bool isBackbone = role.HasFlag(WeightRoles.Backbone);
            if (!checkpoint.TryGetValue(key, out var value))
            {
                if (isBackbone) missing.Add(key);
                else leftInitialised.Add(key);
                if (isHead) headNote ??= "the checkpoint has no head";
                continue;
            }
            if (isHead && !options.LoadHead)
            {
                headNote = "not requested";
                leftInitialised.Add(key);
                continue;
            }
            if (value.shape.SequenceEqual(parameter.shape))
            {
                values[key] = value;
                continue;
            }
            if (key == "pos_embed" && TryResizePositions(value, parameter.shape, out var resized, out positionNote))
            {
                values[key] = resized!;
                continue;
            }
            if (isHead)
            {
                headNote = $"its shape [{string.Join(", ", value.shape)}] does not fit this model's " +
                           $"[{string.Join(", ", parameter.shape)}] (another class count)";
                leftInitialised.Add(key);
                continue;
            }
            misShaped.Add($"{key}: checkpoint [{string.Join(", ", value.shape)}] vs model " +
                          $"[{string.Join(", ", parameter.shape)}]");
        }

        var unexpected = checkpoint.Keys.Where(k => !target.ContainsKey(k)).OrderBy(k => k, StringComparer.Ordinal)
            .ToList();
        if (missing.Count > 0 || misShaped.Count > 0 || (unexpected.Count > 0 && options.FailOnUnexpected))
            throw new CheckpointMismatchException(source, model.WeightTargetName,
                missing, options.FailOnUnexpected ? unexpected : Array.Empty<string>(), misShaped);

        using (no_grad())
            foreach (var (key, value) in values)
                target[key].copy_(value);
        model.BackboneLoaded();

        return new WeightLoadReport(source, layout, values.Keys.ToList(), leftInitialised,
            options.FailOnUnexpected ? Array.Empty<string>() : unexpected, positionNote, headNote) { Skipped = skipped };
    }

    /// <summary>
    /// Resamples a [1, 1 + g², D] position embedding to the model's grid: the class token's entry is kept, the
    /// patch entries are interpolated bicubically over the 2-D grid (as timm's resample_abs_pos_embed).
    /// </summary>
    public static bool TryResizePositions(Tensor source, long[] targetShape, out Tensor? resized, out string? note)
    {
        resized = null;
        note = null;
        if (source.dim() != 3 || targetShape.Length != 3 || source.shape[2] != targetShape[2]) return false;
        long from = (long)Math.Round(Math.Sqrt(source.shape[1] - 1)),
            to = (long)Math.Round(Math.Sqrt(targetShape[1] - 1));
        if (from * from != source.shape[1] - 1 || to * to != targetShape[1] - 1) return false;
        using var scope = NewDisposeScope();
        var source32 = source.to(ScalarType.Float32);
        var classToken = source32.narrow(1, 0, 1);
        var grid = source32.narrow(1, 1, from * from).reshape(1, from, from, -1).permute(0, 3, 1, 2);
        var interpolated = nn.functional.interpolate(grid, size: new[] { to, to }, mode: InterpolationMode.Bicubic,
            align_corners: false, antialias: true);
        var patches = interpolated.permute(0, 2, 3, 1).reshape(1, to * to, -1);
        resized = cat(new[] { classToken, patches }, 1).to(source.dtype).MoveToOuterDisposeScope();
        note = $"{from}x{from} → {to}x{to}";
        return true;
    }
}
