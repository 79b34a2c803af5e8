using System.Collections.Generic;
using System.Linq;
using System.Threading;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Pvp.Generators.Model;

namespace Pvp.Generators.Parse;

/// <summary>
/// The parse step: reads an annotated class and its attributes into a <see cref="VariantDeclaration"/>.
/// It records what is written, checks nothing, and never throws on malformed input.
/// </summary>
internal static class DeclarationParser
{
    public static VariantDeclaration Parse(GeneratorAttributeSyntaxContext context, CancellationToken cancellationToken)
    {
        var symbol = (INamedTypeSymbol)context.TargetSymbol;
        var node = (TypeDeclarationSyntax)context.TargetNode;

        string? ns = symbol.ContainingNamespace is { IsGlobalNamespace: false } containing ? containing.ToDisplayString() : null;
        bool isPartial = node.Modifiers.Any(SyntaxKind.PartialKeyword);

        var prompts = new List<PromptsDeclaration>();
        var loras = new List<LoraDeclaration>();
        var adapters = new List<AdapterDeclaration>();
        var attachments = new List<AttachDeclaration>();
        var markers = new List<MarkerDeclaration>();
        foreach (var attribute in symbol.GetAttributes())
        {
            cancellationToken.ThrowIfCancellationRequested();
            string? name = attribute.AttributeClass?.ToDisplayString();
            var syntax = attribute.ApplicationSyntaxReference?.GetSyntax(cancellationToken) as AttributeSyntax;
            var args = new AttributeArguments(attribute, syntax);
            var location = LocationInfo.From(syntax);
            switch (name)
            {
                case KnownNames.PromptsAttribute:
                    prompts.Add(new PromptsDeclaration(location, args.Named<int>("Length"), args.Named<bool>("Deep"),
                        args.Named<double>("Dropout"), args.Named<string>("Blocks"), args.Named<double>("LearningRateScale"),
                        args.Named<bool>("WeightDecay")));
                    break;
                case KnownNames.LoraAttribute:
                    loras.Add(new LoraDeclaration(location, args.Named<int>("Rank"), args.Named<double>("Alpha"), args.Named<int>("Targets"),
                        args.Named<string>("Blocks"), args.Named<double>("Dropout"), args.Named<double>("LearningRateScale")));
                    break;
                case KnownNames.AdapterAttribute:
                    adapters.Add(new AdapterDeclaration(location, args.Named<int>("Bottleneck"), args.Named<int>("Placement"),
                        args.Named<double>("Scale"), args.Named<string>("Blocks"), args.Named<double>("LearningRateScale"),
                        args.Named<double>("Dropout"), args.Named<int>("Norm")));
                    break;
                case KnownNames.AttachAttribute:
                    attachments.Add(new AttachDeclaration(location, args.PositionalType(0, DescribeAttachedType),
                        args.Named<int>("Site"), args.Named<string>("Blocks"), args.Named<double>("LearningRateScale"), args.IsNullPositional(0)));
                    break;
                case KnownNames.TrainBiasAttribute:
                case KnownNames.TrainNormsAttribute:
                case KnownNames.LinearProbeAttribute:
                case KnownNames.FullFineTuneAttribute:
                    markers.Add(new MarkerDeclaration(KnownNames.ShortName(name), location));
                    break;
            }
        }

        return new VariantDeclaration(
            ns,
            symbol.Name,
            LocationInfo.From(node.Identifier),
            isPartial,
            DescribeUnsupportedShape(symbol),
            ParseBackbone(context.Attributes.First(), cancellationToken),
            prompts.ToEquatableArray(),
            loras.ToEquatableArray(),
            adapters.ToEquatableArray(),
            attachments.ToEquatableArray(),
            markers.ToEquatableArray());
    }

    private static string? DescribeUnsupportedShape(INamedTypeSymbol symbol)
    {
        if (symbol.ContainingType is { } outer) return $"it is nested in '{outer.Name}'";
        if (symbol.IsGenericType) return "it is generic";
        if (symbol.IsRecord) return "it is a record";
        if (symbol.TypeKind != TypeKind.Class) return $"it is a {symbol.TypeKind.ToString().ToLowerInvariant()}";
        if (symbol.IsStatic) return "it is static";
        if (symbol.IsAbstract) return "it is abstract";
        return null;
    }

    private static BackboneDeclaration ParseBackbone(AttributeData attribute, CancellationToken cancellationToken)
    {
        var syntax = attribute.ApplicationSyntaxReference?.GetSyntax(cancellationToken) as AttributeSyntax;
        var arguments = new AttributeArguments(attribute, syntax);
        return new BackboneDeclaration(
            LocationInfo.From(syntax),
            arguments.Positional<int>(0),
            arguments.Named<int>("ImageSize"),
            arguments.Named<int>("PatchSize"),
            arguments.Named<int>("InChannels"),
            arguments.Named<int>("EmbedDim"),
            arguments.Named<int>("Depth"),
            arguments.Named<int>("Heads"),
            arguments.Named<double>("MlpRatio"),
            arguments.Named<bool>("QkvBias"),
            arguments.Named<int>("Precision"));
    }

    /// <summary>Reduces the attached type to the facts validation needs.</summary>
    private static AttachedType DescribeAttachedType(ITypeSymbol type)
    {
        bool implementsInterface = type.AllInterfaces.Any(i => i.ToDisplayString() == KnownNames.AttachmentInterface);
        bool isModule = false;
        for (var t = type.BaseType; t is not null; t = t.BaseType)
        {
            if (t.MetadataName == "Module`2" && t.ContainingType?.Name == "nn" && t.ContainingType.ContainingType?.Name == "torch")
            {
                isModule = true;
                break;
            }
        }
        bool constructible = type is INamedTypeSymbol { TypeKind: TypeKind.Class, IsAbstract: false, IsUnboundGenericType: false } named
            && !named.IsGenericType
            && named.InstanceConstructors.Any(c => c.DeclaredAccessibility == Accessibility.Public
                && c.Parameters.Length == 1
                && c.Parameters[0].Type.ToDisplayString() == KnownNames.AttachContext);
        return new AttachedType(
            type.ToDisplayString(SymbolDisplayFormat.FullyQualifiedFormat),
            type.Name,
            implementsInterface && isModule,
            constructible);
    }
}
