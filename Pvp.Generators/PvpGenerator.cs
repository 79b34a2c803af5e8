using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using System.Linq;
using Pvp.Generators.Emit;
using Pvp.Generators.Methods;
using Pvp.Generators.Model;
using Pvp.Generators.Parse;
using Pvp.Generators.Validate;

namespace Pvp.Generators;

/// <summary>
/// Turns classes annotated with <c>[VisionTransformer]</c> into TorchSharp modules. Pipeline: parse (syntax → value
/// model) → <see cref="SpecBuilder"/> (validate, name, lay out, card: → spec + diagnostics) → emit (→ source).
/// </summary>
[Generator(LanguageNames.CSharp)]
public sealed class PvpGenerator : IIncrementalGenerator
{
    /// <inheritdoc />
    /// <summary>
    /// The PETuning attributes, each of which needs a <c>[VisionTransformer]</c>
    /// beside it: the self-describing site methods' too.
    /// </summary>
    private static readonly string[] PetuningAttributes = new[]
    {
        KnownNames.PromptsAttribute, KnownNames.LoraAttribute, KnownNames.AttachAttribute, KnownNames.TrainBiasAttribute,
        KnownNames.TrainNormsAttribute, KnownNames.LinearProbeAttribute, KnownNames.FullFineTuneAttribute,
    }.Concat(BuiltInSiteMethods.ByName.Keys.OrderBy(n => n, System.StringComparer.Ordinal)).ToArray();

    public void Initialize(IncrementalGeneratorInitializationContext context)
    {
        var declarations = context.SyntaxProvider
            .ForAttributeWithMetadataName(
                KnownNames.VisionTransformerAttribute,
                predicate: static (node, _) => node is TypeDeclarationSyntax,
                transform: DeclarationParser.Parse)
            .WithTrackingName(TrackingNames.Parse);

        var validated = declarations
            .Select(static (declaration, _) => SpecBuilder.Build(declaration))
            .WithTrackingName(TrackingNames.Validate);

        context.RegisterSourceOutput(validated, static (output, result) =>
        {
            foreach (var diagnostic in result.Diagnostics)
                output.ReportDiagnostic(diagnostic.ToDiagnostic());
        });

        var files = validated
            .Where(static result => result.Spec is not null)
            .Select(static (result, _) => ModelEmitter.Emit(result.Spec!))
            .WithTrackingName(TrackingNames.Emit);

        context.RegisterSourceOutput(files, static (output, file) => output.AddSource(file.HintName, file.Source));

        // A PETuning attribute on a class without [VisionTransformer] would otherwise be silently ignored.
        foreach (string attribute in PetuningAttributes)
        {
            var orphans = context.SyntaxProvider
                .ForAttributeWithMetadataName(attribute, static (node, _) => node is TypeDeclarationSyntax,
                    OrphanCheck.Find)
                .Where(static diagnostic => diagnostic is not null)
                .WithTrackingName(TrackingNames.Orphans);
            context.RegisterSourceOutput(orphans,
                static (output, diagnostic) => output.ReportDiagnostic(diagnostic!.ToDiagnostic()));
        }

        // The same for a site method from another assembly or this one: an attribute whose class carries [SiteMethod].
        var describedOrphans = context.SyntaxProvider
            .CreateSyntaxProvider(static (node, _) => node is TypeDeclarationSyntax { AttributeLists.Count: > 0 },
                OrphanCheck.FindDescribed)
            .SelectMany(static (diagnostics, _) => diagnostics)
            .WithTrackingName(TrackingNames.Orphans);
        context.RegisterSourceOutput(describedOrphans,
            static (output, diagnostic) => output.ReportDiagnostic(diagnostic.ToDiagnostic()));
    }
}
