using System.Collections.Generic;
using System.Linq;
using Pvp.Generators.Card;
using Pvp.Generators.Layout;
using Pvp.Generators.Model;
using Pvp.Generators.Naming;
using Pvp.Generators.Validate;

namespace Pvp.Generators;

/// <summary>
/// From a parsed declaration to the spec the emitter formats, one step after another, each using only what the steps
/// before it made: validate (backbone, PETuning values, precision) → name (attached modules' fields) → lay out (what
/// each block holds, claims checked) → card (the prose). A declaration with any error yields no spec, so nothing is
/// emitted for it and the user sees only Pvp's diagnostics, not a cascade of compiler errors.
/// </summary>
internal static class SpecBuilder
{
    public static ValidationResult Build(VariantDeclaration declaration)
    {
        var diagnostics = new List<DiagnosticInfo>();
        var backbone = DeclarationValidator.ValidateBackbone(declaration, diagnostics);
        if (backbone is null) return new ValidationResult(null, diagnostics.ToEquatableArray());

        var petuning = new PetuningValidator(declaration, backbone, diagnostics).Validate();
        backbone = DeclarationValidator.ValidatePrecision(declaration, backbone, petuning.TrainableKinds, diagnostics);
        var siteMethods = AttachmentNames.Assign(petuning.SiteMethods.ToList()).ToList();
        var blocks = new BlockLayoutBuilder(backbone.Depth, diagnostics, declaration.Location)
            .Build(petuning.Loras, siteMethods);
        var card = ModelCardLines.Write(petuning, siteMethods, backbone);

        var spec = diagnostics.Count == 0
            ? new VariantSpec(declaration.Namespace, declaration.ClassName, backbone, petuning.Prompts, blocks,
                petuning.TrainableKinds, petuning.LearningRateScales, petuning.DecayPrompts, card)
            : null;
        return new ValidationResult(spec, diagnostics.ToEquatableArray());
    }
}
