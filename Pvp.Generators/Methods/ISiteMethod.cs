using System.Collections.Generic;
using Pvp.Generators.Model;

namespace Pvp.Generators.Methods;

/// <summary>
/// A PETuning method that places modules at sites of the blocks it names, as every generator step reads it: its kind,
/// its values' checks, its modules, its name in block classes and its card line. Built-in site methods implement it on
/// their own attribute (compiled in under <c>PVP_GENERATOR</c>, beside the defaults); <c>[Attach]</c> and a
/// <c>[SiteMethod]</c> attribute from any assembly come through <see cref="DeclaredSiteMethod"/>. No step names a
/// method.
/// </summary>
internal interface ISiteMethod
{
    /// <summary>The kind name: the parameter group and freezing class of its parameters.</summary>
    string KindName { get; }

    /// <summary>The attribute's block range as written; null: every block.</summary>
    string? Blocks { get; }

    /// <summary>The attribute's learning-rate multiplier for its group.</summary>
    double LearningRateScale { get; }

    /// <summary>Values the method cannot take (checked after its defaults are applied).</summary>
    IEnumerable<ArgumentProblem> Check(MethodContext context);

    /// <summary>What it places in each block it names, in forward order within each site.</summary>
    IReadOnlyList<SiteModule> Modules(MethodContext context);

    /// <summary>Its part of a block class's name (<c>AdaptFormer</c> in <c>AdaptFormerBlock</c>).</summary>
    string ClassNamePart { get; }

    /// <summary>Its part of a block class's summary.</summary>
    string Summary(MethodContext context);

    /// <summary>Its model-card line; <paramref name="blocks"/> describes the blocks ("blocks 0 to 11").</summary>
    string CardLine(MethodContext context, string blocks);
}
