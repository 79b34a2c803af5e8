using System.Collections.Generic;
using System.Linq;
using Pvp.Generators.Diagnostics;
using Pvp.Generators.Layout;
using Pvp.Generators.Methods;
using Pvp.Generators.Model;

namespace Pvp.Generators.Validate;

/// <summary>
/// The validate step for the PETuning attributes: checks each value against the backbone (ranges, ranks, sites,
/// scales, training scopes), applies the attributes' defaults, and reports every rule broken at the argument that broke
/// it. Where blocks are claimed twice is the layout step's business (<see cref="Layout.BlockLayoutBuilder"/>).
/// </summary>
internal sealed class PetuningValidator : IMethodChecks
{
    // What an unset attribute argument means: the runtime attributes' own property defaults (compiled in).
    private static readonly AttachAttribute AttachDefaults = new(typeof(object));

    private readonly VariantDeclaration declaration;
    private readonly BackboneSpec backbone;
    private readonly List<DiagnosticInfo> diagnostics;
    private readonly Dictionary<string, double> scales = new(System.StringComparer.Ordinal);
    private readonly Dictionary<string, string> kindOwners =
        new(System.StringComparer.Ordinal); // kind name → the attribute that owns it

    /// <inheritdoc />
    public BackboneSpec Backbone => backbone;

    public PetuningValidator(VariantDeclaration declaration, BackboneSpec backbone, List<DiagnosticInfo> diagnostics)
    {
        this.declaration = declaration;
        this.backbone = backbone;
        this.diagnostics = diagnostics;
    }

    public ResolvedPetuning Validate()
    {
        CheckMarkers();
        var prompts = PromptMethod.Validate(declaration.Prompts, declaration.ClassName, this);
        var loras = declaration.Loras.Select((l, i) => LoraMethod.Validate(l, i, this)).Where(l => l is not null).Select(l => l!)
            .ToEquatableArray();
        var siteMethods = declaration.SiteMethods.Select(ValidateSiteMethod).Where(m => m is not null).Select(m => m!)
            .ToEquatableArray();
        bool decayPrompts = declaration.Prompts.Count > 0 && declaration.Prompts[0].WeightDecay?.Value == true;
        return new ResolvedPetuning(prompts, loras, siteMethods,
            declaration.Markers.Select(m => m.Name).ToEquatableArray(), TrainableKinds(siteMethods),
            scales.OrderBy(p => GroupRank(p.Key, siteMethods)).Select(p => new ScaleEntry(p.Key, p.Value)).ToEquatableArray(),
            decayPrompts);
    }

    /// <summary>
    /// The kinds that train, in group order: the methods' (prompts, LoRA, then
    /// site methods as declared), then the head and the backbone's classes.
    /// </summary>
    private EquatableArray<string> TrainableKinds(EquatableArray<ResolvedSiteMethod> siteMethods)
    {
        bool Has(string marker) => declaration.Markers.Any(m => m.Name == marker);
        string[] backbone = { KindNames.Head, KindNames.Norms, KindNames.Biases, KindNames.Backbone };
        if (Has(KnownNames.FullFineTuneAttribute)) return backbone.ToEquatableArray();
        if (Has(KnownNames.LinearProbeAttribute)) return new[] { KindNames.Head }.ToEquatableArray();
        bool anyPetuning =
            declaration.Prompts.Count + declaration.Loras.Count + declaration.SiteMethods.Count + declaration.Markers.Count > 0;
        if (!anyPetuning) return backbone.ToEquatableArray(); // a plain backbone trains like any module
        var kinds = new List<string>();
        if (declaration.Prompts.Count > 0) kinds.Add(PromptsAttribute.KindName);
        if (declaration.Loras.Count > 0) kinds.Add(LoraAttribute.KindName);
        kinds.AddRange(MethodKinds(siteMethods));
        kinds.Add(KindNames.Head);
        if (Has(KnownNames.TrainNormsAttribute)) kinds.Add(KindNames.Norms);
        if (Has(KnownNames.TrainBiasAttribute)) kinds.Add(KindNames.Biases);
        return kinds.Distinct().ToEquatableArray();
    }

    /// <summary>
    /// The site methods' kinds: the declared ones' (invalid ones too,
    /// so their siblings' groups do not shift), first use first.
    /// </summary>
    private IEnumerable<string> MethodKinds(EquatableArray<ResolvedSiteMethod> siteMethods)
        => siteMethods.Select(m => m.Method.KindName).Distinct();

    private int GroupRank(string kind, EquatableArray<ResolvedSiteMethod> siteMethods)
    {
        if (kind == PromptsAttribute.KindName) return -2;
        if (kind == LoraAttribute.KindName) return -1;
        int index = MethodKinds(siteMethods).ToList().IndexOf(kind);
        return index >= 0 ? index : int.MaxValue;
    }

    private void CheckMarkers()
    {
        var seen = new HashSet<string>();
        foreach (var marker in declaration.Markers)
            if (!seen.Add(marker.Name))
                Report(DiagnosticCatalog.DuplicateAttribute, marker.Location, KnownNames.ShortName(marker.Name),
                    declaration.ClassName);

        foreach (var scope in declaration.Markers
                     .Where(m => m.Name is KnownNames.LinearProbeAttribute or KnownNames.FullFineTuneAttribute)
                     .GroupBy(m => m.Name).Select(g => g.First()))
        {
            string why = scope.Name == KnownNames.LinearProbeAttribute
                ? "a linear probe trains only the head"
                : "a full fine-tune already trains every parameter";
            var others = new List<string>();
            if (declaration.Prompts.Count > 0) others.Add("Prompts");
            if (declaration.Loras.Count > 0) others.Add("Lora");
            others.AddRange(declaration.SiteMethods.Select(m => m.ShortName).Distinct());
            others.AddRange(declaration.Markers
                .Where(m => m.Name is KnownNames.TrainBiasAttribute or KnownNames.TrainNormsAttribute)
                .Select(m => KnownNames.ShortName(m.Name)).Distinct());
            if (scope.Name == KnownNames.FullFineTuneAttribute
                && declaration.Markers.Any(m => m.Name == KnownNames.LinearProbeAttribute))
                others.Add(KnownNames.ShortName(KnownNames.LinearProbeAttribute));
            foreach (string other in others)
                Report(DiagnosticCatalog.ScopeConflict, scope.Location, KnownNames.ShortName(scope.Name), other, why);
        }
    }

    private ResolvedSiteMethod? ValidateSiteMethod(SiteMethodDeclaration declared)
    {
        var context = new MethodContext(backbone.EmbedDim, backbone.MlpHidden, backbone.GridSize, backbone.Heads,
            declared.Arguments.Select(a => a.Name).ToList());
        var method = declared.AttributeName == KnownNames.AttachAttribute ? ReadAttach(declared)
            : declared.Descriptor is { } descriptor ? ReadDescriptor(declared, descriptor)
            : BuiltInSiteMethods.Create(declared);
        if (method is null) return null;
        bool ok = OwnKind(declared, method.KindName);
        foreach (var problem in method.Check(context))
        {
            var at = declared.Arguments.FirstOrDefault(a => a.Name == problem.Property)?.Location ?? declared.Location;
            ok = problem.IsSize
                ? Report(DiagnosticCatalog.NonPositiveSize, at, problem.Property, problem.Value)
                : Report(DiagnosticCatalog.ValueOutOfRange, at, problem.Property, problem.Value, problem.Expected);
        }
        ok &= CheckScale(method.KindName, declared.ShortName,
            declared.Named<double>(nameof(AttachAttribute.LearningRateScale)));
        var range = ResolveRange(declared.Named<string>(nameof(AttachAttribute.Blocks)), declared.Location);
        return ok && range is not null
            ? new ResolvedSiteMethod(declared.ShortName, method, context, range.Value, declared.Location)
            : null;
    }

    /// <summary><c>[Attach(typeof(T), Site = ...)]</c>: the data-described site method with one site.</summary>
    private DeclaredSiteMethod? ReadAttach(SiteMethodDeclaration a)
    {
        if (a.Module is null)
        {
            // typeof of an unknown type: the compiler already says so; a null type is ours to report.
            if (a.IsNullType) Report(DiagnosticCatalog.NotAnAttachment, a.Location, "null");
            return null;
        }
        var type = a.Module.Value;
        var site = a.Named<AttachSite>(nameof(AttachAttribute.Site));
        var where = site?.Value ?? AttachDefaults.Site;
        bool ok = CheckModule(type, a.Module.Location ?? a.Location);
        if (!BlockSites.IsKnown(where))
            ok = Report(DiagnosticCatalog.ValueOutOfRange, site?.Location ?? a.Location, "Site", (int)where,
                "an AttachSite");
        if (!ok) return null;
        var combine = BlockSites.DefaultCombine(where);
        return new DeclaredSiteMethod(AttachAttribute.KindName, type.FullName, type.Name, new[] { (where, combine) },
            a.Named<string>(nameof(AttachAttribute.Blocks))?.Value,
            a.Named<double>(nameof(AttachAttribute.LearningRateScale))?.Value ?? 1.0);
    }

    /// <summary>
    /// An attribute whose class carries <c>[SiteMethod]</c>: its
    /// descriptor checked, as the user's declaration meets it.
    /// </summary>
    private DeclaredSiteMethod? ReadDescriptor(SiteMethodDeclaration d, SiteMethodDescriptor descriptor)
    {
        string name = d.ShortName;
        if (string.IsNullOrWhiteSpace(descriptor.Kind))
            return Incomplete(d, "has no kind name",
                "give it one, e.g. [SiteMethod(\"my_method\", typeof(MyModule), AttachSite.AfterMlp)]");
        if (descriptor.Module is not { } module)
            return Incomplete(d, "names no module type", "give it the module's typeof");
        if (descriptor.Sites.Count == 0)
            return Incomplete(d, "names no site", "list the AttachSite values where the module sits");
        bool ok = CheckModule(module, d.Location);
        var placements = new List<(AttachSite, SiteCombine)>();
        foreach (var where in descriptor.Sites)
        {
            if (!BlockSites.IsKnown(where))
            {
                ok = Report(DiagnosticCatalog.SiteNotActable, d.Location, name, $"site {(int)where}",
                    "it is not an AttachSite; use one of BlockInput, AfterNorm1, AfterQkv, AfterProj, AfterAttention, " +
                    "BesideAttention, AfterNorm2, AfterFc1, AfterActivation, AfterFc2, BesideMlp, AfterMlp, BlockOutput, KeysValues");
                continue;
            }
            var combine = descriptor.Combine
                          ?? (BlockSites.DefaultCombine(where));
            if (!System.Enum.IsDefined(typeof(SiteCombine), combine) || !BlockSites.Accepts(where, combine))
                ok = Report(DiagnosticCatalog.SiteNotActable, d.Location, name, where,
                    $"Combine = {combine} does not join there; use {BlockSites.AcceptedCombines(where)}, " +
                    "or another site");
            else if (placements.Any(p => p.Item1 == where))
                ok = Report(DiagnosticCatalog.SiteNotActable, d.Location, name, where,
                    "its descriptor lists the site twice; list each site once");
            else placements.Add((where, combine));
        }
        if (!ok) return null;
        return new DeclaredSiteMethod(descriptor.Kind!, module.FullName, module.Name, placements,
            d.Named<string>(nameof(AttachAttribute.Blocks))?.Value,
            d.Named<double>(nameof(AttachAttribute.LearningRateScale))?.Value ?? 1.0);
    }

    private DeclaredSiteMethod? Incomplete(SiteMethodDeclaration d, string what, string fix)
    {
        Report(DiagnosticCatalog.IncompleteMethod, d.Location, d.ShortName, what, fix);
        return null;
    }

    /// <summary>The module type is a module with the constructor generated code calls (PVP013, PVP015).</summary>
    private bool CheckModule(AttachedType type, LocationInfo? location)
    {
        if (!type.IsAttachment) return Report(DiagnosticCatalog.NotAnAttachment, location, type.Name);
        if (!type.IsConstructible) return Report(DiagnosticCatalog.AttachmentNotConstructible, location, type.Name);
        return true;
    }

    /// <summary>
    /// A kind name belongs to one attribute type, and never to the backbone or the other built-ins (PVP023).
    /// </summary>
    private bool OwnKind(SiteMethodDeclaration declared, string kind)
    {
        string? owner = KindNames.IsBackbone(kind) ? "the backbone"
            : BuiltInSiteMethods.KindOwners.TryGetValue(kind, out string? builtIn) && builtIn != declared.AttributeName
                ? $"[{KnownNames.ShortName(builtIn)}]"
            : kindOwners.TryGetValue(kind, out string? earlier) && earlier != declared.AttributeName
                ? $"[{KnownNames.ShortName(earlier)}]"
            : null;
        if (owner is not null)
            return Report(DiagnosticCatalog.KindNameTaken, declared.Location, declared.ShortName, kind, owner);
        kindOwners[kind] = declared.AttributeName;
        return true;
    }

    /// <inheritdoc />
    public BlockRange? ResolveRange(Declared<string>? blocks, LocationInfo? attributeLocation)
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
            Report(DiagnosticCatalog.BlockRangeOutsideDepth, blocks.Location ?? attributeLocation, blocks.Value,
                selects, backbone.Depth - 1);
            return null;
        }
        return range;
    }

    /// <inheritdoc />
    public bool CheckProbability(string name, Declared<double>? value)
    {
        if (value is null || (value.Value >= 0 && value.Value < 1)) return true;
        return Report(DiagnosticCatalog.ValueOutOfRange, value.Location, name, Format.Num(value.Value),
            "at least 0 and below 1");
    }

    /// <inheritdoc />
    public bool CheckScale(string kind, string attribute, Declared<double>? value)
    {
        if (value is null) return true;
        if (!(value.Value > 0) || double.IsInfinity(value.Value))
            return Report(DiagnosticCatalog.ValueOutOfRange, value.Location, "LearningRateScale",
                Format.Num(value.Value), "positive and finite");
        if (scales.TryGetValue(kind, out double earlier) && earlier != value.Value)
            return Report(DiagnosticCatalog.ValueOutOfRange, value.Location, "LearningRateScale",
                Format.Num(value.Value),
                $"{Format.Num(earlier)}, the scale an earlier [{attribute}] set for the same parameter group");
        scales[kind] = value.Value;
        return true;
    }

    /// <inheritdoc />
    public bool Report(
        Microsoft.CodeAnalysis.DiagnosticDescriptor descriptor, LocationInfo? location, params object[] args)
    {
        diagnostics.Add(DiagnosticInfo.Create(descriptor, location ?? declaration.Location, args));
        return false;
    }
}

