using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Text;
using Pvp.Generators.Diagnostics;
using Pvp.Generators.Model;

namespace Pvp.Generators.Validate;

/// <summary>What the PETuning attributes resolve to, for the spec.</summary>
internal sealed record PetuningPlan(
    PromptSpec? Prompts,
    EquatableArray<BlockShape> Blocks,
    int TrainableKinds,
    EquatableArray<ScaleEntry> LearningRateScales,
    bool DecayPrompts,
    EquatableArray<string> CardLines);

/// <summary>
/// Checks the PETuning attributes against the backbone and against each other (ranges, values, claims on layers and
/// sites, training scopes) and lays out what each block holds.
/// </summary>
internal sealed class PetuningValidator
{
    private static readonly string[] ReservedFieldNames = { "norm1", "attn", "norm2", "mlp", "adapter", "adapter_attn" };

    // What an unset attribute argument means: the runtime attributes' own property defaults (compiled in).
    private static readonly PromptsAttribute PromptDefaults = new();
    private static readonly LoraAttribute LoraDefaults = new();
    private static readonly AdapterAttribute AdapterAttributeDefaults = new();
    private static readonly AttachSite AttachDefaultSite = new AttachAttribute(typeof(object)).Site;

    private readonly VariantDeclaration declaration;
    private readonly BackboneSpec backbone;
    private readonly List<DiagnosticInfo> diagnostics;
    private readonly List<string> card = new();
    private readonly Dictionary<int, double> scales = new();
    private readonly Dictionary<string, List<int>> conflicts = new();

    // Per block: what is claimed, and by which attribute (index into a list of claim owners).
    private readonly LoraLayerSpec?[][] lora; // [block][layer: 0 qkv, 1 proj, 2 fc1, 3 fc2]
    private readonly int[] qkvClaims;
    private readonly object?[] qkvOwner;
    private readonly AdapterSpec?[] adapters;
    private readonly AttachSpec?[][] sites; // [block][site]
    private readonly bool[][] siteTaken;

    public PetuningValidator(VariantDeclaration declaration, BackboneSpec backbone, List<DiagnosticInfo> diagnostics)
    {
        this.declaration = declaration;
        this.backbone = backbone;
        this.diagnostics = diagnostics;
        int depth = backbone.Depth;
        lora = Enumerable.Range(0, depth).Select(_ => new LoraLayerSpec?[4]).ToArray();
        qkvClaims = new int[depth];
        qkvOwner = new object?[depth];
        adapters = new AdapterSpec?[depth];
        sites = Enumerable.Range(0, depth).Select(_ => new AttachSpec?[5]).ToArray();
        siteTaken = Enumerable.Range(0, depth).Select(_ => new bool[5]).ToArray();
    }

    public PetuningPlan Resolve()
    {
        CheckMarkers();
        var prompts = ResolvePrompts();
        foreach (var l in declaration.Loras) ResolveLora(l);
        foreach (var a in declaration.Adapters) ResolveAdapter(a);
        var attachNames = AttachmentFieldNames();
        foreach (var a in declaration.Attachments) ResolveAttachment(a, attachNames);
        foreach (var marker in declaration.Markers) card.Add(MarkerLine(marker.Name));

        var blocks = Enumerable.Range(0, backbone.Depth).Select(i => new BlockShape(
            lora[i][0], lora[i][1], lora[i][2], lora[i][3], adapters[i],
            sites[i].Where(s => s is not null).Select(s => s!).ToEquatableArray())).ToEquatableArray();

        bool decayPrompts = declaration.Prompts.Count > 0 && declaration.Prompts[0].WeightDecay?.Value == true;
        return new PetuningPlan(prompts, blocks, TrainableKinds(),
            scales.OrderBy(p => p.Key).Select(p => new ScaleEntry(p.Key, p.Value)).ToEquatableArray(),
            decayPrompts, card.ToEquatableArray());
    }

    private int TrainableKinds()
    {
        bool Has(string marker) => declaration.Markers.Any(m => m.Name == marker);
        if (Has("FullFineTune")) return RuntimeEnums.AllKinds;
        if (Has("LinearProbe")) return RuntimeEnums.Head;
        bool anyPetuning = declaration.Prompts.Count + declaration.Loras.Count + declaration.Adapters.Count
                           + declaration.Attachments.Count + declaration.Markers.Count > 0;
        if (!anyPetuning) return RuntimeEnums.AllKinds; // a plain backbone trains like any module
        int kinds = RuntimeEnums.Head;
        if (declaration.Prompts.Count > 0) kinds |= RuntimeEnums.Prompt;
        if (declaration.Loras.Count > 0) kinds |= RuntimeEnums.Lora;
        if (declaration.Adapters.Count > 0) kinds |= RuntimeEnums.Adapter;
        if (declaration.Attachments.Count > 0) kinds |= RuntimeEnums.Attachment;
        if (Has("TrainBias")) kinds |= RuntimeEnums.Bias;
        if (Has("TrainNorms")) kinds |= RuntimeEnums.Norm;
        return kinds;
    }

    private void CheckMarkers()
    {
        var seen = new HashSet<string>();
        foreach (var marker in declaration.Markers)
            if (!seen.Add(marker.Name))
                Report(DiagnosticCatalog.DuplicateAttribute, marker.Location, marker.Name, declaration.ClassName);

        foreach (var scope in declaration.Markers.Where(m => m.Name is "LinearProbe" or "FullFineTune").GroupBy(m => m.Name).Select(g => g.First()))
        {
            string why = scope.Name == "LinearProbe"
                ? "a linear probe trains only the head"
                : "a full fine-tune already trains every parameter";
            var others = new List<string>();
            if (declaration.Prompts.Count > 0) others.Add("Prompts");
            if (declaration.Loras.Count > 0) others.Add("Lora");
            if (declaration.Adapters.Count > 0) others.Add("Adapter");
            if (declaration.Attachments.Count > 0) others.Add("Attach");
            others.AddRange(declaration.Markers.Where(m => m.Name is "TrainBias" or "TrainNorms").Select(m => m.Name).Distinct());
            if (scope.Name == "FullFineTune" && declaration.Markers.Any(m => m.Name == "LinearProbe")) others.Add("LinearProbe");
            foreach (string other in others)
                Report(DiagnosticCatalog.ScopeConflict, scope.Location, scope.Name, other, why);
        }
    }

    private PromptSpec? ResolvePrompts()
    {
        if (declaration.Prompts.Count == 0) return null;
        foreach (var extra in declaration.Prompts.Skip(1))
            Report(DiagnosticCatalog.DuplicateAttribute, extra.Location, "Prompts", declaration.ClassName);
        var p = declaration.Prompts[0];
        int length = p.Length?.Value ?? PromptDefaults.Length;
        double dropout = p.Dropout?.Value ?? PromptDefaults.Dropout;
        bool ok = true;
        if (length < 1) ok = Report(DiagnosticCatalog.InvalidPromptLength, p.Length?.Location ?? p.Location, length);
        ok &= CheckProbability("Dropout", p.Dropout);
        ok &= CheckScale(RuntimeEnums.Prompt, "Prompts", p.LearningRateScale);
        var range = ResolveRange(p.Blocks, p.Location);
        if (!ok || range is null) return null;

        var spec = new PromptSpec(length, p.Deep?.Value == true, dropout, range.Value.Start, range.Value.End - 1);
        int d = backbone.EmbedDim;
        var line = new StringBuilder(spec.Deep && spec.DeepCount > 0 ? "VPT-deep: " : "VPT-shallow: ");
        line.Append($"{length} prompt tokens inserted before block {spec.FirstBlock}");
        if (spec.DeepCount > 0) line.Append($", replaced before blocks {spec.FirstBlock + 1} to {spec.LastBlock}");
        line.Append($" (prompt_embeddings [1, {length}, {d}]");
        if (spec.DeepCount > 0) line.Append($", deep_prompt_embeddings [{spec.DeepCount}, {length}, {d}]");
        line.Append(')');
        if (dropout > 0) line.Append($", dropout {Num(dropout)}");
        card.Add(line.ToString());
        return spec;
    }

    private void ResolveLora(LoraDeclaration l)
    {
        int d = backbone.EmbedDim;
        int rank = l.Rank?.Value ?? LoraDefaults.Rank;
        double alpha = l.Alpha?.Value ?? LoraDefaults.Alpha;
        int targets = l.Targets?.Value ?? (int)LoraDefaults.Targets;
        double dropout = l.Dropout?.Value ?? LoraDefaults.Dropout;
        bool ok = true;
        if (rank < 1 || rank > d) ok = Report(DiagnosticCatalog.InvalidLoraRank, l.Rank?.Location ?? l.Location, rank, d);
        if (!(alpha > 0)) ok = Report(DiagnosticCatalog.ValueOutOfRange, l.Alpha?.Location ?? l.Location, "Alpha", Num(alpha), "positive");
        if (targets == 0 || (targets & ~RuntimeEnums.AllTargets) != 0)
            ok = Report(DiagnosticCatalog.ValueOutOfRange, l.Targets?.Location ?? l.Location, "Targets", targets,
                "a combination of Query, Key, Value, Output, MlpFc1 and MlpFc2");
        ok &= CheckProbability("Dropout", l.Dropout);
        ok &= CheckScale(RuntimeEnums.Lora, "Lora", l.LearningRateScale);
        var range = ResolveRange(l.Blocks, l.Location);
        if (!ok || range is null) return;

        var qkvSpec = new LoraLayerSpec(targets & RuntimeEnums.QkvSlices, rank, alpha, dropout);
        for (int b = range.Value.Start; b < range.Value.End; b++)
        {
            int qkv = targets & RuntimeEnums.QkvSlices;
            if (qkv != 0)
            {
                if ((qkvClaims[b] & qkv) != 0)
                    Conflict($"LoRA on {Slices(qkvClaims[b] & qkv)} of attn.qkv", b);
                else if (qkvOwner[b] is not null && !ReferenceEquals(qkvOwner[b], l) && !SameSettings(lora[b][0]!, qkvSpec))
                    Conflict("The fused attn.qkv (its slices take one Rank, Alpha and Dropout)", b);
                else
                {
                    qkvClaims[b] |= qkv;
                    qkvOwner[b] = l;
                    lora[b][0] = qkvSpec with { Targets = qkvClaims[b] };
                }
            }
            ClaimLinear(b, 1, RuntimeEnums.Output, "attn.proj", targets, rank, alpha, dropout);
            ClaimLinear(b, 2, RuntimeEnums.MlpFc1, "mlp.fc1", targets, rank, alpha, dropout);
            ClaimLinear(b, 3, RuntimeEnums.MlpFc2, "mlp.fc2", targets, rank, alpha, dropout);
        }
        ReportConflicts(l.Location);
        card.Add($"LoRA r={rank} alpha={Num(alpha)} on {TargetNames(targets)} of {range.Value.Describe()}" +
                 (dropout > 0 ? $", dropout {Num(dropout)}" : ""));
    }

    private void ClaimLinear(int block, int layer, int bit, string name, int targets, int rank, double alpha, double dropout)
    {
        if ((targets & bit) == 0) return;
        if (lora[block][layer] is not null)
            Conflict($"LoRA on {name}", block);
        else
            lora[block][layer] = new LoraLayerSpec(bit, rank, alpha, dropout);
    }

    private void ResolveAdapter(AdapterDeclaration a)
    {
        int placement = a.Placement?.Value ?? (int)AdapterAttributeDefaults.Placement;
        bool parallel = placement == RuntimeEnums.AdaptFormer, houlsby = placement == RuntimeEnums.Houlsby;
        // Unset values take the design's defaults (AdapterDefaults: each reference implementation's).
        var design = (AdapterPlacement)placement;
        int bottleneck = a.Bottleneck?.Value ?? AdapterDefaults.Bottleneck(design, backbone.EmbedDim);
        double scale = a.Scale?.Value is { } s && !double.IsNaN(s) ? s : AdapterDefaults.Scale(design);
        double dropout = a.Dropout?.Value is { } p && !double.IsNaN(p) ? p : AdapterDefaults.Dropout(design);
        int norm = a.Norm?.Value ?? (int)AdapterAttributeDefaults.Norm;
        bool ok = true;
        if (bottleneck < 1) ok = Report(DiagnosticCatalog.NonPositiveSize, a.Bottleneck?.Location ?? a.Location, "Bottleneck", bottleneck);
        if (placement is not (RuntimeEnums.Pfeiffer or RuntimeEnums.AdaptFormer or RuntimeEnums.Houlsby))
            ok = Report(DiagnosticCatalog.ValueOutOfRange, a.Placement?.Location ?? a.Location, "Placement", placement, "Pfeiffer, AdaptFormer or Houlsby");
        if (double.IsInfinity(scale)) ok = Report(DiagnosticCatalog.ValueOutOfRange, a.Scale?.Location ?? a.Location, "Scale", Num(scale), "finite");
        if (!(dropout >= 0 && dropout < 1)) ok = Report(DiagnosticCatalog.ValueOutOfRange, a.Dropout?.Location ?? a.Location, "Dropout", Num(dropout), "in [0, 1)");
        if (norm is not (RuntimeEnums.AdapterNormNone or RuntimeEnums.AdapterNormInput))
            ok = Report(DiagnosticCatalog.ValueOutOfRange, a.Norm?.Location ?? a.Location, "Norm", norm, "None or Input");
        ok &= CheckScale(RuntimeEnums.Adapter, "Adapter", a.LearningRateScale);
        var range = ResolveRange(a.Blocks, a.Location);
        if (!ok || range is null) return;

        var sites = parallel ? new[] { RuntimeEnums.BesideMlp } : houlsby ? new[] { RuntimeEnums.AfterAttention, RuntimeEnums.AfterMlp } : new[] { RuntimeEnums.AfterMlp };
        for (int b = range.Value.Start; b < range.Value.End; b++)
        {
            int taken = Array.Find(sites, site => siteTaken[b][site]);
            if (adapters[b] is not null || sites.Any(site => siteTaken[b][site]))
            {
                Conflict(adapters[b] is not null ? "The adapter" : $"Site {RuntimeEnums.SiteNames[taken]}", b);
                continue;
            }
            adapters[b] = new AdapterSpec(placement, bottleneck, scale, dropout, norm == RuntimeEnums.AdapterNormInput);
            foreach (int site in sites) siteTaken[b][site] = true;
        }
        ReportConflicts(a.Location);
        string options = $"bottleneck {bottleneck}{(scale != 1 || parallel ? $", scale {Num(scale)}" : "")}{(dropout != 0 ? $", dropout {Num(dropout)}" : "")}" +
                         (norm == RuntimeEnums.AdapterNormInput ? ", LayerNorm on its input" : "");
        card.Add(parallel ? $"AdaptFormer adapter ({options}) beside the MLP of {range.Value.Describe()}, on the stream after attention"
            : houlsby ? $"Houlsby adapters ({options}) after the attention and after the MLP of {range.Value.Describe()}"
            : $"Pfeiffer adapter ({options}) after the MLP of {range.Value.Describe()}");
    }

    /// <summary>Field name per (type, site): the type's snake_case name, with the site appended when one type sits at several.</summary>
    private Dictionary<(string Type, int Site), string> AttachmentFieldNames()
    {
        var names = new Dictionary<(string, int), string>();
        var valid = declaration.Attachments.Where(a => a.Module is not null).ToList();
        foreach (var group in valid.GroupBy(a => a.Module!.Value.FullName))
        {
            var sitesOfType = group.Select(a => a.Site?.Value ?? (int)AttachDefaultSite).Distinct().ToList();
            foreach (int site in sitesOfType)
            {
                string name = SnakeCase(group.First().Module!.Value.Name);
                if (sitesOfType.Count > 1 && site >= 0 && site < RuntimeEnums.SiteNames.Length) name += "_" + SnakeCase(RuntimeEnums.SiteNames[site]);
                if (ReservedFieldNames.Contains(name) || Microsoft.CodeAnalysis.CSharp.SyntaxFacts.GetKeywordKind(name) != Microsoft.CodeAnalysis.CSharp.SyntaxKind.None)
                    name += "_module"; // a field and state-dict key that is neither a block field nor a C# keyword
                names[(group.Key, site)] = name;
            }
        }
        return names;
    }

    private void ResolveAttachment(AttachDeclaration a, Dictionary<(string Type, int Site), string> fieldNames)
    {
        if (a.Module is null)
        {
            // typeof of an unknown type: the compiler already says so; a null type is ours to report.
            if (a.IsNullType) Report(DiagnosticCatalog.NotAnAttachment, a.Location, "null");
            return;
        }
        var type = a.Module.Value;
        int site = a.Site?.Value ?? (int)AttachDefaultSite;
        bool ok = true;
        if (!type.IsAttachment) ok = Report(DiagnosticCatalog.NotAnAttachment, a.Module.Location ?? a.Location, type.Name);
        else if (!type.IsConstructible) ok = Report(DiagnosticCatalog.AttachmentNotConstructible, a.Module.Location ?? a.Location, type.Name);
        if (site < 0 || site >= RuntimeEnums.SiteNames.Length)
            ok = Report(DiagnosticCatalog.ValueOutOfRange, a.Site?.Location ?? a.Location, "Site", site, "an AttachSite");
        ok &= CheckScale(RuntimeEnums.Attachment, "Attach", a.LearningRateScale);
        var range = ResolveRange(a.Blocks, a.Location);
        if (!ok || range is null) return;

        string field = fieldNames[(type.FullName, site)];
        for (int b = range.Value.Start; b < range.Value.End; b++)
        {
            if (siteTaken[b][site])
            {
                Conflict($"Site {RuntimeEnums.SiteNames[site]}", b);
                continue;
            }
            siteTaken[b][site] = true;
            sites[b][site] = new AttachSpec(type.FullName, type.Name, site, field);
        }
        ReportConflicts(a.Location);
        card.Add($"{type.Name} {RuntimeEnums.SiteDescriptions[site]} {range.Value.Describe()} ({field})");
    }

    private void Conflict(string what, int block)
    {
        if (!conflicts.TryGetValue(what, out var blocks)) conflicts[what] = blocks = new List<int>();
        blocks.Add(block);
    }

    /// <summary>One diagnostic per conflicting claim of an attribute, naming every block where it conflicts.</summary>
    private void ReportConflicts(LocationInfo? location)
    {
        foreach (var pair in conflicts)
        {
            string blocks = pair.Value.Count == 1 ? $"block {pair.Value[0]}" : $"blocks {Emit.ModelEmitter.Ranges(pair.Value)}";
            Report(DiagnosticCatalog.ConflictingClaims, location, pair.Key, blocks);
        }
        conflicts.Clear();
    }

    private BlockRange? ResolveRange(Declared<string>? blocks, LocationInfo? attributeLocation)
    {
        if (blocks is null) return BlockRange.All(backbone.Depth);
        if (!BlockRange.TryParse(blocks.Value, backbone.Depth, out var range))
        {
            Report(DiagnosticCatalog.InvalidBlockRange, blocks.Location ?? attributeLocation, blocks.Value);
            return null;
        }
        if (range.Start < 0 || range.End > backbone.Depth || range.End <= range.Start)
        {
            string selects = range.End <= range.Start ? "no block" : $"blocks {range.Start} to {range.End - 1}";
            Report(DiagnosticCatalog.BlockRangeOutsideDepth, blocks.Location ?? attributeLocation, blocks.Value, selects, backbone.Depth - 1);
            return null;
        }
        return range;
    }

    private bool CheckProbability(string name, Declared<double>? value)
    {
        if (value is null || (value.Value >= 0 && value.Value < 1)) return true;
        return Report(DiagnosticCatalog.ValueOutOfRange, value.Location, name, Num(value.Value), "at least 0 and below 1");
    }

    private bool CheckScale(int kind, string attribute, Declared<double>? value)
    {
        if (value is null) return true;
        if (!(value.Value > 0) || double.IsInfinity(value.Value))
            return Report(DiagnosticCatalog.ValueOutOfRange, value.Location, "LearningRateScale", Num(value.Value), "positive and finite");
        if (scales.TryGetValue(kind, out double earlier) && earlier != value.Value)
            return Report(DiagnosticCatalog.ValueOutOfRange, value.Location, "LearningRateScale", Num(value.Value),
                $"{Num(earlier)}, the scale an earlier [{attribute}] set for the same parameter group");
        scales[kind] = value.Value;
        return true;
    }

    private bool Report(Microsoft.CodeAnalysis.DiagnosticDescriptor descriptor, LocationInfo? location, params object[] args)
    {
        diagnostics.Add(DiagnosticInfo.Create(descriptor, location ?? declaration.Location, args));
        return false;
    }

    private static bool SameSettings(LoraLayerSpec a, LoraLayerSpec b) => a.Rank == b.Rank && a.Alpha == b.Alpha && a.Dropout == b.Dropout;

    private static string Slices(int mask) =>
        string.Join(", ", new[] { (RuntimeEnums.Query, "q"), (RuntimeEnums.Key, "k"), (RuntimeEnums.Value, "v") }
            .Where(p => (mask & p.Item1) != 0).Select(p => p.Item2));

    private static string TargetNames(int targets) =>
        string.Join(", ", new[]
        {
            (RuntimeEnums.Query, "q"), (RuntimeEnums.Key, "k"), (RuntimeEnums.Value, "v"), (RuntimeEnums.Output, "attn.proj"),
            (RuntimeEnums.MlpFc1, "mlp.fc1"), (RuntimeEnums.MlpFc2, "mlp.fc2"),
        }.Where(p => (targets & p.Item1) != 0).Select(p => p.Item2));

    private static string MarkerLine(string marker) => marker switch
    {
        "TrainBias" => "BitFit: every backbone bias trains",
        "TrainNorms" => "Every LayerNorm trains",
        "LinearProbe" => "Linear probe: only the head trains",
        _ => "Full fine-tune: every parameter trains",
    };

    internal static string SnakeCase(string name)
    {
        var text = new StringBuilder();
        for (int i = 0; i < name.Length; i++)
        {
            char c = name[i];
            if (char.IsUpper(c) && i > 0 && (char.IsLower(name[i - 1]) || (i + 1 < name.Length && char.IsLower(name[i + 1])))) text.Append('_');
            text.Append(char.ToLowerInvariant(c));
        }
        return text.ToString();
    }

    internal static string Num(double value) => value.ToString("R", CultureInfo.InvariantCulture);
}
