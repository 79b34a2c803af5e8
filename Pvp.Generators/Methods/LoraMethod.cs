using System;
using System.Collections.Generic;
using System.Linq;
using Pvp.Generators.Diagnostics;
using Pvp.Generators.Emit;
using Pvp.Generators.Layout;
using Pvp.Generators.Model;
using Pvp.Generators.Parse;
using Pvp.Generators.Validate;

using static Pvp.Generators.Emit.TypeNames;

namespace Pvp.Generators.Methods;

/// <summary>
/// <c>[Lora]</c> as written (Targets may hold bits no <see cref="LoraTargets"/> names: validation checks).
/// </summary>
internal sealed record LoraDeclaration(
    LocationInfo? Location,
    Declared<int>? Rank,
    Declared<double>? Alpha,
    Declared<LoraTargets>? Targets,
    Declared<string>? Blocks,
    Declared<double>? Dropout,
    Declared<double>? LearningRateScale,
    Declared<bool>? UseDora);

/// <summary>LoRA on one layer of a block (for qkv, <see cref="Targets"/> says which slices).</summary>
internal sealed record LoraLayerSpec(LoraTargets Targets, int Rank, double Alpha, double Dropout, bool UseDora = false);

/// <summary>A valid <c>[Lora]</c> with every default applied.</summary>
/// <param name="Order">Its position among the declaration's <c>[Lora]</c> attributes (which claim came first).</param>
internal sealed record ResolvedLora(int Order, int Rank, double Alpha, LoraTargets Targets, double Dropout,
    BlockRange Range, LocationInfo? Location, bool UseDora = false);

/// <summary>
/// LoRA (and DoRA, its <c>UseDora</c> form) as every generator step reads it: its values as written and checked, which
/// layers of a block a <c>[Lora]</c> claims, the layer each adapted one becomes in generated code, its kind-map
/// entries, its part of a block class's name and summary, and its card line. LoRA replaces layers rather than adding
/// modules at sites, so it is not an <see cref="ISiteMethod"/>, and it keeps this one generator file.
/// </summary>
internal static class LoraMethod
{
    // What an unset argument means: the runtime attribute's own property defaults (compiled in).
    private static readonly LoraAttribute Defaults = new();

    /// <summary>The parse step's reading of one <c>[Lora]</c>.</summary>
    public static LoraDeclaration Parse(AttributeArguments args, LocationInfo? location) =>
        new(location, args.Named<int>(nameof(LoraAttribute.Rank)), args.Named<double>(nameof(LoraAttribute.Alpha)),
            args.Named<LoraTargets>(nameof(LoraAttribute.Targets)), args.Named<string>(nameof(LoraAttribute.Blocks)),
            args.Named<double>(nameof(LoraAttribute.Dropout)), args.Named<double>(nameof(LoraAttribute.LearningRateScale)),
            args.Named<bool>(nameof(LoraAttribute.UseDora)));

    /// <summary>
    /// The validate step for one <c>[Lora]</c>: defaults applied, each broken rule reported at its argument; null when
    /// any is broken.
    /// </summary>
    public static ResolvedLora? Validate(LoraDeclaration l, int order, IMethodChecks checks)
    {
        int rank = l.Rank?.Value ?? Defaults.Rank;
        double alpha = l.Alpha?.Value ?? Defaults.Alpha;
        var targets = l.Targets?.Value ?? Defaults.Targets;
        double dropout = l.Dropout?.Value ?? Defaults.Dropout;
        const LoraTargets allTargets = LoraTargets.Query | LoraTargets.Key | LoraTargets.Value | LoraTargets.Output
                                       | LoraTargets.MlpFc1 | LoraTargets.MlpFc2;
        int width = checks.Backbone.EmbedDim;
        bool ok = true;
        if (rank < 1 || rank > width)
            ok = checks.Report(DiagnosticCatalog.InvalidLoraRank, l.Rank?.Location ?? l.Location, rank, width);
        if (!(alpha > 0))
            ok = checks.Report(DiagnosticCatalog.ValueOutOfRange, l.Alpha?.Location ?? l.Location, "Alpha",
                Format.Num(alpha), "positive");
        if (targets == 0 || (targets & ~allTargets) != 0)
            ok = checks.Report(DiagnosticCatalog.ValueOutOfRange, l.Targets?.Location ?? l.Location, "Targets",
                (int)targets, "a combination of Query, Key, Value, Output, MlpFc1 and MlpFc2");
        ok &= checks.CheckProbability("Dropout", l.Dropout);
        bool useDora = l.UseDora?.Value ?? false;
        if (useDora && dropout > 0)
            ok = checks.Report(DiagnosticCatalog.ValueOutOfRange, l.Dropout?.Location ?? l.Location, "Dropout",
                Format.Num(dropout), "0 with UseDora = true (DoRA is built without LoRA's dropout)");
        ok &= checks.CheckScale(LoraAttribute.KindName, "Lora", l.LearningRateScale);
        var range = checks.ResolveRange(l.Blocks, l.Location);
        return ok && range is not null
            ? new ResolvedLora(order, rank, alpha, targets, dropout, range.Value, l.Location, useDora)
            : null;
    }

    /// <summary>
    /// Lays <paramref name="lora"/> onto the blocks of its range; <paramref name="conflict"/> receives each claim on a
    /// layer that an earlier <c>[Lora]</c> holds (or on the fused qkv with other settings) and the block.
    /// </summary>
    public static void Claim(ResolvedLora lora, IReadOnlyList<BlockClaims> blocks, Action<string, int> conflict)
    {
        var slices = lora.Targets & (LoraTargets.Query | LoraTargets.Key | LoraTargets.Value);
        var qkvSpec = new LoraLayerSpec(slices, lora.Rank, lora.Alpha, lora.Dropout, lora.UseDora);
        for (int b = lora.Range.Start; b < lora.Range.End; b++)
        {
            var block = blocks[b];
            if (slices != 0)
            {
                var taken = block.Qkv?.Targets ?? 0;
                if ((taken & slices) != 0)
                    conflict($"LoRA on {Format.LoraTargets(taken & slices)} of attn.qkv", b);
                else if (block.QkvOwner is { } owner && owner != lora.Order && !SameSettings(block.Qkv!, qkvSpec))
                    conflict("The fused attn.qkv (its slices take one Rank, Alpha, Dropout and UseDora)", b);
                else
                {
                    block.Qkv = qkvSpec with { Targets = taken | slices };
                    block.QkvOwner = lora.Order;
                }
            }
            block.Proj = ClaimLinear(block.Proj, b, LoraTargets.Output, "attn.proj", lora, conflict);
            block.Fc1 = ClaimLinear(block.Fc1, b, LoraTargets.MlpFc1, "mlp.fc1", lora, conflict);
            block.Fc2 = ClaimLinear(block.Fc2, b, LoraTargets.MlpFc2, "mlp.fc2", lora, conflict);
        }
    }

    private static LoraLayerSpec? ClaimLinear(LoraLayerSpec? current, int block, LoraTargets layer, string name,
        ResolvedLora lora, Action<string, int> conflict)
    {
        if ((lora.Targets & layer) == 0) return current;
        if (current is null) return new LoraLayerSpec(layer, lora.Rank, lora.Alpha, lora.Dropout, lora.UseDora);
        conflict($"LoRA on {name}", block);
        return current;
    }

    private static bool SameSettings(LoraLayerSpec a, LoraLayerSpec b)
        => a.Rank == b.Rank && a.Alpha == b.Alpha && a.Dropout == b.Dropout && a.UseDora == b.UseDora;

    /// <summary>The block's fused qkv layer in generated code: timm's Linear, or the LoRA layer over its slices.</summary>
    public static string QkvLayer(LoraLayerSpec? lora, BackboneSpec b)
    {
        int d = b.EmbedDim;
        string frozen = ModelEmitter.FrozenDtype(b);
        if (lora is null)
            return $"{Torch}.nn.Linear({d}, {3 * d}, hasBias: {ModelEmitter.Bool(b.QkvBias)}, device: device, " +
                   $"dtype: {frozen})";
        var targets = new List<string>();
        if ((lora.Targets & LoraTargets.Query) != 0) targets.Add($"{LoraTargetsEnum}.Query");
        if ((lora.Targets & LoraTargets.Key) != 0) targets.Add($"{LoraTargetsEnum}.Key");
        if ((lora.Targets & LoraTargets.Value) != 0) targets.Add($"{LoraTargetsEnum}.Value");
        return $"new {Blocks}.LoraQkvLinear({d}, hasBias: {ModelEmitter.Bool(b.QkvBias)}, {string.Join(" | ", targets)}, " +
               $"rank: {lora.Rank}, alpha: {Format.Num(lora.Alpha)}, dropout: {Format.Num(lora.Dropout)}, device, dtype" +
               (b.BackboneBf16 ? ", frozenDtype: frozen" : "") + (lora.UseDora ? ", useDora: true)" : ")");
    }

    /// <summary>A block's proj, fc1 or fc2 in generated code: a Linear, or a LoRA layer over it.</summary>
    public static string LinearLayer(LoraLayerSpec? lora, int inFeatures, int outFeatures, string hasBias, string frozen) =>
        lora is null
            ? $"{Torch}.nn.Linear({inFeatures}, {outFeatures}, device: device, dtype: {frozen})"
            : $"new {Blocks}.LoraLinear({inFeatures}, {outFeatures}, hasBias: {hasBias}, rank: {lora.Rank}, " +
              $"alpha: {Format.Num(lora.Alpha)}, dropout: {Format.Num(lora.Dropout)}, device, dtype" +
              (frozen == "dtype" ? "" : $", frozenDtype: {frozen}") + (lora.UseDora ? ", useDora: true)" : ")");

    /// <summary>Parameter-name patterns of the block's LoRA parameters, all of kind <c>lora</c>.</summary>
    public static IEnumerable<string> KindPatterns(BlockShape shape)
    {
        if (shape.Qkv is { } qkv)
            foreach (var (slice, name) in new[] { (LoraTargets.Query, "q"), (LoraTargets.Key, "k"),
                (LoraTargets.Value, "v") })
                if ((qkv.Targets & slice) != 0) yield return $"blocks.*.attn.qkv.{name}.";
        foreach (var (layer, path) in new[] { (shape.Proj, "attn.proj"), (shape.Fc1, "mlp.fc1"), (shape.Fc2, "mlp.fc2") })
            if (layer is not null)
            {
                yield return $"blocks.*.{path}.lora_A";
                yield return $"blocks.*.{path}.lora_B";
                if (layer.UseDora) yield return $"blocks.*.{path}.lora_magnitude_vector";
            }
    }

    /// <summary>Its part of a block class's name, e.g. <c>LoraQv</c> or <c>DoraQv</c>; null without LoRA.</summary>
    public static string? ClassNamePart(BlockShape shape)
    {
        var lora = new List<string>();
        if (shape.Qkv is { } qkv)
        {
            if ((qkv.Targets & LoraTargets.Query) != 0) lora.Add("q");
            if ((qkv.Targets & LoraTargets.Key) != 0) lora.Add("k");
            if ((qkv.Targets & LoraTargets.Value) != 0) lora.Add("v");
        }
        if (shape.Proj is not null) lora.Add("o");
        if (shape.Fc1 is not null) lora.Add("fc1");
        if (shape.Fc2 is not null) lora.Add("fc2");
        if (lora.Count == 0) return null;
        string joined = string.Concat(lora);
        bool dora = new[] { shape.Qkv, shape.Proj, shape.Fc1, shape.Fc2 }.Any(l => l?.UseDora == true);
        return (dora ? "Dora" : "Lora") + char.ToUpperInvariant(joined[0]) + joined.Substring(1);
    }

    /// <summary>Its parts of a block class's summary, one per adapted layer.</summary>
    public static IEnumerable<string> Summaries(BlockShape shape)
    {
        var layers = new List<(LoraLayerSpec Spec, string Name)>();
        if (shape.Qkv is { } qkv) layers.Add((qkv, "attn.qkv slices " + Format.LoraTargets(qkv.Targets)));
        if (shape.Proj is { } proj) layers.Add((proj, "attn.proj"));
        if (shape.Fc1 is { } fc1) layers.Add((fc1, "mlp.fc1"));
        if (shape.Fc2 is { } fc2) layers.Add((fc2, "mlp.fc2"));
        return layers.Select(l => $"{(l.Spec.UseDora ? "DoRA" : "LoRA")} r={l.Spec.Rank} on {l.Name}");
    }

    /// <summary>The model-card line of one <c>[Lora]</c>.</summary>
    public static string CardLine(ResolvedLora l)
    {
        string targets = Format.LoraTargets(l.Targets);
        string dropout = l.Dropout > 0 ? $", dropout {Format.Num(l.Dropout)}" : "";
        string method = l.UseDora ? "DoRA (LoRA with a learned magnitude per output row)" : "LoRA";
        return $"{method} r={l.Rank} alpha={Format.Num(l.Alpha)} on {targets} of {l.Range.Describe()}{dropout}";
    }
}
