using System.Collections.Generic;
using System.Linq;
using Pvp.Generators.Diagnostics;
using Pvp.Generators.Methods;
using Pvp.Generators.Model;
using Pvp.Generators.Validate;

namespace Pvp.Generators.Layout;

/// <summary>
/// The layout step: lays each valid attribute onto the blocks it names, in declaration order, and reports a claim on a
/// layer or site that an earlier attribute holds (one diagnostic per attribute and kind of claim, naming the blocks).
/// </summary>
internal sealed class BlockLayoutBuilder
{
    private readonly BlockClaims[] blocks;
    private readonly List<DiagnosticInfo> diagnostics;
    private readonly LocationInfo? fallback;
    private readonly Dictionary<string, List<int>> conflicts = new();

    public BlockLayoutBuilder(int depth, List<DiagnosticInfo> diagnostics, LocationInfo? fallback)
    {
        blocks = Enumerable.Range(0, depth).Select(_ => new BlockClaims()).ToArray();
        this.diagnostics = diagnostics;
        this.fallback = fallback;
    }

    /// <summary>Lays out every attribute; returns each block's shape.</summary>
    public EquatableArray<BlockShape> Build(
        IEnumerable<ResolvedLora> loras, IEnumerable<ResolvedSiteMethod> siteMethods)
    {
        foreach (var lora in loras) Claim(lora);
        foreach (var method in siteMethods) Claim(method);
        return blocks.Select(b => b.ToShape()).ToEquatableArray();
    }

    private void Claim(ResolvedLora lora)
    {
        Methods.LoraMethod.Claim(lora, blocks, Conflict);
        ReportConflicts(lora.Location);
    }

    /// <summary>
    /// A site method's modules in each of its blocks: each site and field of a block goes to one module.
    /// </summary>
    private void Claim(ResolvedSiteMethod resolved)
    {
        var method = resolved.Method;
        var modules = method.Modules(resolved.Context);
        var part = new BlockMethod(method.KindName, method.ClassNamePart, method.Summary(resolved.Context),
            modules.ToEquatableArray());
        for (int b = resolved.Range.Start; b < resolved.Range.End; b++)
        {
            var block = blocks[b];
            var takenSite = modules.Select(m => m.Site).FirstOrDefault(block.TakenSites.Contains);
            var takenField = modules.Select(m => m.Field).FirstOrDefault(block.TakenFields.Contains);
            if (modules.Any(m => block.TakenSites.Contains(m.Site)))
            {
                Conflict($"Site {takenSite}", b);
                continue;
            }
            if (takenField is not null)
            {
                Conflict($"Field {takenField}", b);
                continue;
            }
            foreach (var module in modules)
            {
                block.TakenSites.Add(module.Site);
                block.TakenFields.Add(module.Field);
            }
            block.Methods.Add(part);
        }
        ReportConflicts(resolved.Location);
    }

    private void Conflict(string what, int block)
    {
        if (!conflicts.TryGetValue(what, out var list)) conflicts[what] = list = new List<int>();
        list.Add(block);
    }

    /// <summary>One diagnostic per conflicting claim of an attribute, naming every block where it conflicts.</summary>
    private void ReportConflicts(LocationInfo? location)
    {
        foreach (var pair in conflicts)
        {
            string where = pair.Value.Count == 1 ? $"block {pair.Value[0]}" : $"blocks {Format.Ranges(pair.Value)}";
            diagnostics.Add(DiagnosticInfo.Create(DiagnosticCatalog.ConflictingClaims, location ?? fallback, pair.Key,
                where));
        }
        conflicts.Clear();
    }

}
