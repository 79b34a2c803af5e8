using System.Collections.Generic;
using System.Linq;
using Pvp.Generators.Diagnostics;
using Pvp.Generators.Model;

namespace Pvp.Generators.Validate;

/// <summary>
/// The validate step for the PETuning attributes: checks each value against the backbone (ranges, ranks, sites,
/// scales, training scopes), applies the attributes' defaults, and reports every rule broken at the argument that broke
/// it. Where blocks are claimed twice is the layout step's business (<see cref="Layout.BlockLayoutBuilder"/>).
/// </summary>
internal sealed class PetuningValidator
{
    // What an unset attribute argument means: the runtime attributes' own property defaults (compiled in).
    private static readonly PromptsAttribute PromptDefaults = new();
    private static readonly LoraAttribute LoraDefaults = new();
    private static readonly AdapterAttribute AdapterAttributeDefaults = new();
    private static readonly AttachSite AttachDefaultSite = new AttachAttribute(typeof(object)).Site;

    private readonly VariantDeclaration declaration;
    private readonly BackboneSpec backbone;
    private readonly List<DiagnosticInfo> diagnostics;
    private readonly Dictionary<ParameterKinds, double> scales = new();

    public PetuningValidator(VariantDeclaration declaration, BackboneSpec backbone, List<DiagnosticInfo> diagnostics)
    {
        this.declaration = declaration;
        this.backbone = backbone;
        this.diagnostics = diagnostics;
    }

    public ResolvedPetuning Validate()
    {
        CheckMarkers();
        var prompts = ValidatePrompts();
        var loras = declaration.Loras.Select((l, i) => ValidateLora(l, i)).Where(l => l is not null).Select(l => l!).ToEquatableArray();
        var adapters = declaration.Adapters.Select(ValidateAdapter).Where(a => a is not null).Select(a => a!).ToEquatableArray();
        var attachments = declaration.Attachments.Select(ValidateAttachment).Where(a => a is not null).Select(a => a!).ToEquatableArray();
        var ssfs = declaration.Ssfs.Select(ValidateSsf).Where(s => s is not null).Select(s => s!).ToEquatableArray();
        bool decayPrompts = declaration.Prompts.Count > 0 && declaration.Prompts[0].WeightDecay?.Value == true;
        return new ResolvedPetuning(prompts, loras, adapters, attachments, ssfs,
            declaration.Markers.Select(m => m.Name).ToEquatableArray(), TrainableKinds(),
            scales.OrderBy(p => p.Key).Select(p => new ScaleEntry((int)p.Key, p.Value)).ToEquatableArray(), decayPrompts);
    }

    private int TrainableKinds()
    {
        bool Has(string marker) => declaration.Markers.Any(m => m.Name == marker);
        if (Has(KnownNames.FullFineTuneAttribute)) return (int)ParameterKinds.All;
        if (Has(KnownNames.LinearProbeAttribute)) return (int)ParameterKinds.Head;
        bool anyPetuning = declaration.Prompts.Count + declaration.Loras.Count + declaration.Adapters.Count
                           + declaration.Attachments.Count + declaration.Ssfs.Count + declaration.Markers.Count > 0;
        if (!anyPetuning) return (int)ParameterKinds.All; // a plain backbone trains like any module
        var kinds = ParameterKinds.Head;
        if (declaration.Prompts.Count > 0) kinds |= ParameterKinds.Prompt;
        if (declaration.Loras.Count > 0) kinds |= ParameterKinds.Lora;
        if (declaration.Adapters.Count > 0) kinds |= ParameterKinds.Adapter;
        if (declaration.Attachments.Count > 0) kinds |= ParameterKinds.Attachment;
        if (declaration.Ssfs.Count > 0) kinds |= ParameterKinds.Ssf;
        if (Has(KnownNames.TrainBiasAttribute)) kinds |= ParameterKinds.Bias;
        if (Has(KnownNames.TrainNormsAttribute)) kinds |= ParameterKinds.Norm;
        return (int)kinds;
    }

    private void CheckMarkers()
    {
        var seen = new HashSet<string>();
        foreach (var marker in declaration.Markers)
            if (!seen.Add(marker.Name))
                Report(DiagnosticCatalog.DuplicateAttribute, marker.Location, KnownNames.ShortName(marker.Name), declaration.ClassName);

        foreach (var scope in declaration.Markers.Where(m => m.Name is KnownNames.LinearProbeAttribute or KnownNames.FullFineTuneAttribute).GroupBy(m => m.Name).Select(g => g.First()))
        {
            string why = scope.Name == KnownNames.LinearProbeAttribute
                ? "a linear probe trains only the head"
                : "a full fine-tune already trains every parameter";
            var others = new List<string>();
            if (declaration.Prompts.Count > 0) others.Add("Prompts");
            if (declaration.Loras.Count > 0) others.Add("Lora");
            if (declaration.Adapters.Count > 0) others.Add("Adapter");
            if (declaration.Attachments.Count > 0) others.Add("Attach");
            if (declaration.Ssfs.Count > 0) others.Add("Ssf");
            others.AddRange(declaration.Markers.Where(m => m.Name is KnownNames.TrainBiasAttribute or KnownNames.TrainNormsAttribute).Select(m => KnownNames.ShortName(m.Name)).Distinct());
            if (scope.Name == KnownNames.FullFineTuneAttribute && declaration.Markers.Any(m => m.Name == KnownNames.LinearProbeAttribute)) others.Add(KnownNames.ShortName(KnownNames.LinearProbeAttribute));
            foreach (string other in others)
                Report(DiagnosticCatalog.ScopeConflict, scope.Location, KnownNames.ShortName(scope.Name), other, why);
        }
    }

    private PromptSpec? ValidatePrompts()
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
        ok &= CheckScale(ParameterKinds.Prompt, "Prompts", p.LearningRateScale);
        var range = ResolveRange(p.Blocks, p.Location);
        if (!ok || range is null) return null;
        return new PromptSpec(length, p.Deep?.Value ?? PromptDefaults.Deep, dropout, range.Value.Start, range.Value.End - 1);
    }

    private ResolvedLora? ValidateLora(LoraDeclaration l, int order)
    {
        int rank = l.Rank?.Value ?? LoraDefaults.Rank;
        double alpha = l.Alpha?.Value ?? LoraDefaults.Alpha;
        int targets = l.Targets?.Value ?? (int)LoraDefaults.Targets;
        double dropout = l.Dropout?.Value ?? LoraDefaults.Dropout;
        const int allTargets = (int)(LoraTargets.Query | LoraTargets.Key | LoraTargets.Value | LoraTargets.Output | LoraTargets.MlpFc1 | LoraTargets.MlpFc2);
        bool ok = true;
        if (rank < 1 || rank > backbone.EmbedDim) ok = Report(DiagnosticCatalog.InvalidLoraRank, l.Rank?.Location ?? l.Location, rank, backbone.EmbedDim);
        if (!(alpha > 0)) ok = Report(DiagnosticCatalog.ValueOutOfRange, l.Alpha?.Location ?? l.Location, "Alpha", Format.Num(alpha), "positive");
        if (targets == 0 || (targets & ~allTargets) != 0)
            ok = Report(DiagnosticCatalog.ValueOutOfRange, l.Targets?.Location ?? l.Location, "Targets", targets,
                "a combination of Query, Key, Value, Output, MlpFc1 and MlpFc2");
        ok &= CheckProbability("Dropout", l.Dropout);
        ok &= CheckScale(ParameterKinds.Lora, "Lora", l.LearningRateScale);
        var range = ResolveRange(l.Blocks, l.Location);
        return ok && range is not null ? new ResolvedLora(order, rank, alpha, targets, dropout, range.Value, l.Location) : null;
    }

    private ResolvedAdapter? ValidateAdapter(AdapterDeclaration a)
    {
        var placement = (AdapterPlacement)(a.Placement?.Value ?? (int)AdapterAttributeDefaults.Placement);
        // Unset values take the design's defaults (AdapterDefaults: each reference implementation's).
        int bottleneck = a.Bottleneck?.Value ?? AdapterDefaults.Bottleneck(placement, backbone.EmbedDim);
        double scale = a.Scale?.Value is { } s && !double.IsNaN(s) ? s : AdapterDefaults.Scale(placement);
        double dropout = a.Dropout?.Value is { } p && !double.IsNaN(p) ? p : AdapterDefaults.Dropout(placement);
        var norm = (AdapterNorm)(a.Norm?.Value ?? (int)AdapterAttributeDefaults.Norm);
        bool ok = true;
        if (bottleneck < 1) ok = Report(DiagnosticCatalog.NonPositiveSize, a.Bottleneck?.Location ?? a.Location, "Bottleneck", bottleneck);
        if (placement is not (AdapterPlacement.Pfeiffer or AdapterPlacement.AdaptFormer or AdapterPlacement.Houlsby))
            ok = Report(DiagnosticCatalog.ValueOutOfRange, a.Placement?.Location ?? a.Location, "Placement", (int)placement, "Pfeiffer, AdaptFormer or Houlsby");
        if (double.IsInfinity(scale)) ok = Report(DiagnosticCatalog.ValueOutOfRange, a.Scale?.Location ?? a.Location, "Scale", Format.Num(scale), "finite");
        if (!(dropout >= 0 && dropout < 1)) ok = Report(DiagnosticCatalog.ValueOutOfRange, a.Dropout?.Location ?? a.Location, "Dropout", Format.Num(dropout), "in [0, 1)");
        if (norm is not (AdapterNorm.None or AdapterNorm.Input))
            ok = Report(DiagnosticCatalog.ValueOutOfRange, a.Norm?.Location ?? a.Location, "Norm", (int)norm, "None or Input");
        ok &= CheckScale(ParameterKinds.Adapter, "Adapter", a.LearningRateScale);
        var range = ResolveRange(a.Blocks, a.Location);
        return ok && range is not null ? new ResolvedAdapter(placement, bottleneck, scale, dropout, norm == AdapterNorm.Input, range.Value, a.Location) : null;
    }

    private ResolvedAttachment? ValidateAttachment(AttachDeclaration a)
    {
        if (a.Module is null)
        {
            // typeof of an unknown type: the compiler already says so; a null type is ours to report.
            if (a.IsNullType) Report(DiagnosticCatalog.NotAnAttachment, a.Location, "null");
            return null;
        }
        var type = a.Module.Value;
        int site = a.Site?.Value ?? (int)AttachDefaultSite;
        bool ok = true;
        if (!type.IsAttachment) ok = Report(DiagnosticCatalog.NotAnAttachment, a.Module.Location ?? a.Location, type.Name);
        else if (!type.IsConstructible) ok = Report(DiagnosticCatalog.AttachmentNotConstructible, a.Module.Location ?? a.Location, type.Name);
        if (site < (int)AttachSite.BlockInput || site > (int)AttachSite.BlockOutput)
            ok = Report(DiagnosticCatalog.ValueOutOfRange, a.Site?.Location ?? a.Location, "Site", site, "an AttachSite");
        ok &= CheckScale(ParameterKinds.Attachment, "Attach", a.LearningRateScale);
        var range = ResolveRange(a.Blocks, a.Location);
        return ok && range is not null ? new ResolvedAttachment(type.FullName, type.Name, (AttachSite)site, range.Value, a.Location) : null;
    }

    private ResolvedSsf? ValidateSsf(SsfDeclaration s)
    {
        bool ok = CheckScale(ParameterKinds.Ssf, "Ssf", s.LearningRateScale);
        var range = ResolveRange(s.Blocks, s.Location);
        return ok && range is not null ? new ResolvedSsf(range.Value, s.Location) : null;
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
        return Report(DiagnosticCatalog.ValueOutOfRange, value.Location, name, Format.Num(value.Value), "at least 0 and below 1");
    }

    private bool CheckScale(ParameterKinds kind, string attribute, Declared<double>? value)
    {
        if (value is null) return true;
        if (!(value.Value > 0) || double.IsInfinity(value.Value))
            return Report(DiagnosticCatalog.ValueOutOfRange, value.Location, "LearningRateScale", Format.Num(value.Value), "positive and finite");
        if (scales.TryGetValue(kind, out double earlier) && earlier != value.Value)
            return Report(DiagnosticCatalog.ValueOutOfRange, value.Location, "LearningRateScale", Format.Num(value.Value),
                $"{Format.Num(earlier)}, the scale an earlier [{attribute}] set for the same parameter group");
        scales[kind] = value.Value;
        return true;
    }

    private bool Report(Microsoft.CodeAnalysis.DiagnosticDescriptor descriptor, LocationInfo? location, params object[] args)
    {
        diagnostics.Add(DiagnosticInfo.Create(descriptor, location ?? declaration.Location, args));
        return false;
    }
}

