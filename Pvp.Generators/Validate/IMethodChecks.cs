using Microsoft.CodeAnalysis;
using Pvp.Generators.Model;

namespace Pvp.Generators.Validate;

/// <summary>
/// The validate step's shared checks, as a method that reads its own values uses them (LoRA, VPT): the backbone, a
/// diagnostic at an argument, probabilities, learning-rate scales (one per parameter group) and block ranges.
/// </summary>
internal interface IMethodChecks
{
    /// <summary>The backbone the declaration's values are checked against.</summary>
    BackboneSpec Backbone { get; }

    /// <summary>Reports <paramref name="descriptor"/> at <paramref name="location"/> (or the class); returns false.</summary>
    bool Report(DiagnosticDescriptor descriptor, LocationInfo? location, params object[] args);

    /// <summary>True if <paramref name="value"/> is unset or in [0, 1); reports PVP019 otherwise.</summary>
    bool CheckProbability(string name, Declared<double>? value);

    /// <summary>
    /// True if <paramref name="value"/> is unset, or positive, finite and the one scale of group <paramref name="kind"/>.
    /// </summary>
    bool CheckScale(string kind, string attribute, Declared<double>? value);

    /// <summary>The blocks a <c>Blocks</c> argument names (all when unset); null, reported, when it names none.</summary>
    BlockRange? ResolveRange(Declared<string>? blocks, LocationInfo? attributeLocation);
}
