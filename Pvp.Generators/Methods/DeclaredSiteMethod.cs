using System.Collections.Generic;
using System.Linq;
using Pvp.Generators.Model;

using static Pvp.Generators.Emit.TypeNames;

namespace Pvp.Generators.Methods;

/// <summary>
/// A site method described by data rather than code: <c>[Attach(typeof(T), Site = ...)]</c>, or an attribute whose
/// class carries <c>[SiteMethod(kind, typeof(T), sites...)]</c> (in this compilation or another package). Its module is
/// built from an <c>AttachContext</c> and computes in the trainable type; its fields are named by the naming step.
/// </summary>
internal sealed class DeclaredSiteMethod : ISiteMethod
{
    private readonly IReadOnlyList<(AttachSite Site, SiteCombine Combine)> placements;
    private readonly IReadOnlyDictionary<AttachSite, string> fields;

    public DeclaredSiteMethod(string kindName, string typeFullName, string typeName,
        IReadOnlyList<(AttachSite Site, SiteCombine Combine)> placements,
        string? blocks, double learningRateScale, IReadOnlyDictionary<AttachSite, string>? fields = null)
    {
        KindName = kindName;
        TypeFullName = typeFullName;
        TypeName = typeName;
        this.placements = placements;
        Blocks = blocks;
        LearningRateScale = learningRateScale;
        this.fields = fields ?? new Dictionary<AttachSite, string>();
    }

    public string KindName { get; }

    /// <summary>The module type, with <c>global::</c>.</summary>
    public string TypeFullName { get; }

    /// <summary>The module type's simple name.</summary>
    public string TypeName { get; }

    /// <summary>Its sites, in the order declared.</summary>
    public IEnumerable<AttachSite> Sites => placements.Select(p => p.Site);

    public string? Blocks { get; }

    public double LearningRateScale { get; }

    public string ClassNamePart => TypeName;

    /// <summary>The same method with its modules' field names (the naming step's).</summary>
    public DeclaredSiteMethod WithFields(IReadOnlyDictionary<AttachSite, string> names) =>
        new(KindName, TypeFullName, TypeName, placements, Blocks, LearningRateScale, names);

    public IEnumerable<ArgumentProblem> Check(MethodContext context) => Enumerable.Empty<ArgumentProblem>();

    public IReadOnlyList<SiteModule> Modules(MethodContext context) => placements.Select(p =>
    {
        int width = context.WidthAt(p.Site);
        // The grid and the heads always: a module beside or inside attention may need the patch layout or the heads.
        string arguments = $"new {AttachContext}({context.EmbedDim}, index, {AttachSiteEnum}.{p.Site}, device, dtype) {{ " +
                           (width != context.EmbedDim ? $"Width = {width}, " : "") +
                           $"GridSize = {context.GridSize}, Heads = {context.Heads} }}";
        return new SiteModule(p.Site, p.Combine, fields[p.Site], TypeFullName, arguments,
            $"{TypeName} {Layout.BlockSites.Phrase(p.Site)}", CastsUnderBf16: true);
    }).ToList();

    public string Summary(MethodContext context) => $"{TypeName} ({string.Join(", ", Sites)})";

    public string CardLine(MethodContext context, string blocks) =>
        $"{TypeName} {string.Join(" and ", Sites.Select(Layout.BlockSites.CardPhrase))} of {blocks} " +
        $"({string.Join(", ", Sites.Select(s => fields[s]))})";
}
