using System.Collections.Generic;
using System.Linq;
using Pvp.Generators.Methods;
using Pvp.Generators.Model;

namespace Pvp.Generators.Layout;

/// <summary>
/// What one block holds while the layout is built: which LoRA covers each layer, which module sits at each site, and
/// which declaration claimed it first. Becomes a <see cref="BlockShape"/>.
/// </summary>
internal sealed class BlockClaims
{
    /// <summary>LoRA on the fused qkv (its <c>Targets</c> are the slices claimed so far).</summary>
    public LoraLayerSpec? Qkv { get; set; }

    /// <summary>The <c>[Lora]</c> (by its order) whose Rank, Alpha and Dropout the fused qkv took.</summary>
    public int? QkvOwner { get; set; }

    /// <summary>LoRA on attn.proj.</summary>
    public LoraLayerSpec? Proj { get; set; }

    /// <summary>LoRA on mlp.fc1.</summary>
    public LoraLayerSpec? Fc1 { get; set; }

    /// <summary>LoRA on mlp.fc2.</summary>
    public LoraLayerSpec? Fc2 { get; set; }

    /// <summary>The site methods placed in the block, in declaration order.</summary>
    public List<BlockMethod> Methods { get; } = new();

    /// <summary>Sites taken, by any site method's module.</summary>
    public HashSet<AttachSite> TakenSites { get; } = new();

    /// <summary>Field names taken by site methods' modules.</summary>
    public HashSet<string> TakenFields { get; } = new();

    /// <summary>The block's shape, as the emitter reads it.</summary>
    public BlockShape ToShape() => new(Qkv, Proj, Fc1, Fc2, Methods.ToEquatableArray());
}
