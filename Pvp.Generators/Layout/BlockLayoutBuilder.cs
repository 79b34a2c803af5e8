using System.Collections.Generic;
using System.Linq;
using Pvp.Generators.Diagnostics;
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
    public EquatableArray<BlockShape> Build(ResolvedPetuning petuning, IReadOnlyDictionary<(string Type, AttachSite Site), string> fieldNames)
    {
        foreach (var lora in petuning.Loras) Claim(lora);
        foreach (var adapter in petuning.Adapters) Claim(adapter);
        foreach (var attachment in petuning.Attachments) Claim(attachment, fieldNames[(attachment.TypeFullName, attachment.Site)]);
        foreach (var ssf in petuning.Ssfs) Claim(ssf);
        return blocks.Select(b => b.ToShape()).ToEquatableArray();
    }

    private void Claim(ResolvedLora lora)
    {
        int slices = lora.Targets & (int)(LoraTargets.Query | LoraTargets.Key | LoraTargets.Value);
        var qkvSpec = new LoraLayerSpec(slices, lora.Rank, lora.Alpha, lora.Dropout);
        for (int b = lora.Range.Start; b < lora.Range.End; b++)
        {
            var block = blocks[b];
            if (slices != 0)
            {
                int taken = block.Qkv?.Targets ?? 0;
                if ((taken & slices) != 0)
                    Conflict($"LoRA on {Format.LoraTargets(taken & slices)} of attn.qkv", b);
                else if (block.QkvOwner is { } owner && owner != lora.Order && !SameSettings(block.Qkv!, qkvSpec))
                    Conflict("The fused attn.qkv (its slices take one Rank, Alpha and Dropout)", b);
                else
                {
                    block.Qkv = qkvSpec with { Targets = taken | slices };
                    block.QkvOwner = lora.Order;
                }
            }
            block.Proj = ClaimLinear(block.Proj, b, LoraTargets.Output, "attn.proj", lora);
            block.Fc1 = ClaimLinear(block.Fc1, b, LoraTargets.MlpFc1, "mlp.fc1", lora);
            block.Fc2 = ClaimLinear(block.Fc2, b, LoraTargets.MlpFc2, "mlp.fc2", lora);
        }
        ReportConflicts(lora.Location);
    }

    private LoraLayerSpec? ClaimLinear(LoraLayerSpec? current, int block, LoraTargets layer, string name, ResolvedLora lora)
    {
        if ((lora.Targets & (int)layer) == 0) return current;
        if (current is null) return new LoraLayerSpec((int)layer, lora.Rank, lora.Alpha, lora.Dropout);
        Conflict($"LoRA on {name}", block);
        return current;
    }

    private void Claim(ResolvedAdapter adapter)
    {
        for (int b = adapter.Range.Start; b < adapter.Range.End; b++)
        {
            var block = blocks[b];
            var taken = adapter.Sites.Where(block.TakenSites.Contains).ToList();
            if (block.Adapter is not null || taken.Count > 0)
            {
                Conflict(block.Adapter is not null ? "The adapter" : $"Site {taken[0]}", b);
                continue;
            }
            block.Adapter = new AdapterSpec((int)adapter.Placement, adapter.Bottleneck, adapter.Scale, adapter.Dropout, adapter.NormInput);
            foreach (var site in adapter.Sites) block.TakenSites.Add(site);
        }
        ReportConflicts(adapter.Location);
    }

    private void Claim(ResolvedAttachment attachment, string field)
    {
        for (int b = attachment.Range.Start; b < attachment.Range.End; b++)
        {
            var block = blocks[b];
            if (!block.TakenSites.Add(attachment.Site))
            {
                Conflict($"Site {attachment.Site}", b);
                continue;
            }
            block.Attached[attachment.Site] = new AttachSpec(attachment.TypeFullName, attachment.TypeName, (int)attachment.Site, field);
        }
        ReportConflicts(attachment.Location);
    }

    private void Claim(ResolvedSsf ssf)
    {
        for (int b = ssf.Range.Start; b < ssf.Range.End; b++)
        {
            if (blocks[b].Ssf) Conflict("SSF", b);
            blocks[b].Ssf = true;
        }
        ReportConflicts(ssf.Location);
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
            diagnostics.Add(DiagnosticInfo.Create(DiagnosticCatalog.ConflictingClaims, location ?? fallback, pair.Key, where));
        }
        conflicts.Clear();
    }

    private static bool SameSettings(LoraLayerSpec a, LoraLayerSpec b) => a.Rank == b.Rank && a.Alpha == b.Alpha && a.Dropout == b.Dropout;
}
