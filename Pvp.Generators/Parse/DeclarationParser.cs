using System.Collections.Generic;
using System.Linq;
using System.Threading;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Pvp.Generators.Methods;
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

        string? ns = symbol.ContainingNamespace is { IsGlobalNamespace: false } containing
            ? containing.ToDisplayString()
            : null;
        bool isPartial = node.Modifiers.Any(SyntaxKind.PartialKeyword);

        var prompts = new List<PromptsDeclaration>();
        var loras = new List<LoraDeclaration>();
        var siteMethods = new List<SiteMethodDeclaration>();
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
                    prompts.Add(PromptMethod.Parse(args, location));
                    break;
                case KnownNames.LoraAttribute:
                    loras.Add(LoraMethod.Parse(args, location));
                    break;
                case KnownNames.AttachAttribute:
                    siteMethods.Add(new SiteMethodDeclaration(name, KnownNames.ShortName(name), location,
                        args.AllNamed(),
                        args.PositionalType(0, DescribeAttachedType), args.IsNullPositional(0)));
                    break;
                case KnownNames.TrainBiasAttribute:
                case KnownNames.TrainNormsAttribute:
                case KnownNames.LinearProbeAttribute:
                case KnownNames.FullFineTuneAttribute:
                    markers.Add(new MarkerDeclaration(name, location));
                    break;
                case not null when Methods.BuiltInSiteMethods.ByName.ContainsKey(name):
                    siteMethods.Add(new SiteMethodDeclaration(name, KnownNames.ShortName(name), location,
                        args.AllNamed()));
                    break;
                case not null when ReadDescriptor(attribute.AttributeClass!) is { } descriptor:
                    siteMethods.Add(new SiteMethodDeclaration(name, KnownNames.ShortName(name), location,
                        args.AllNamed(), Descriptor: descriptor));
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
            siteMethods.ToEquatableArray(),
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
            arguments.Named<int>(nameof(VisionTransformerAttribute.ImageSize)),
            arguments.Named<int>(nameof(VisionTransformerAttribute.PatchSize)),
            arguments.Named<int>(nameof(VisionTransformerAttribute.InChannels)),
            arguments.Named<int>(nameof(VisionTransformerAttribute.EmbedDim)),
            arguments.Named<int>(nameof(VisionTransformerAttribute.Depth)),
            arguments.Named<int>(nameof(VisionTransformerAttribute.Heads)),
            arguments.Named<double>(nameof(VisionTransformerAttribute.MlpRatio)),
            arguments.Named<bool>(nameof(VisionTransformerAttribute.QkvBias)),
            arguments.Named<PrecisionPlan>(nameof(VisionTransformerAttribute.Precision)));
    }

    /// <summary>The <c>[SiteMethod]</c> on an attribute class, as values; null when the class carries none.</summary>
    public static SiteMethodDescriptor? ReadDescriptor(INamedTypeSymbol attributeClass)
    {
        foreach (var meta in attributeClass.GetAttributes())
        {
            if (meta.AttributeClass?.ToDisplayString() != KnownNames.SiteMethodAttribute) continue;
            var arguments = meta.ConstructorArguments;
            string? kind = arguments.Length > 0 && arguments[0] is { Kind: TypedConstantKind.Primitive, Value: string k }
                ? k
                : null;
            AttachedType? module = arguments.Length > 1
                                   && arguments[1] is { Kind: TypedConstantKind.Type, Value: ITypeSymbol type }
                                   && type.TypeKind != TypeKind.Error
                ? DescribeAttachedType(type)
                : null;
            var sites = arguments.Length > 2 && arguments[2].Kind == TypedConstantKind.Array && !arguments[2].IsNull
                ? arguments[2].Values.Where(v => v.Value is int).Select(v => (AttachSite)(int)v.Value!)
                : Enumerable.Empty<AttachSite>();
            SiteCombine? combine = meta.NamedArguments.FirstOrDefault(p => p.Key == nameof(SiteMethodAttribute.Combine)).Value.Value
                is int c ? (SiteCombine)c : null;
            return new SiteMethodDescriptor(kind, module, sites.ToEquatableArray(), combine);
        }
        return null;
    }

    /// <summary>Reduces the attached type to the facts validation needs.</summary>
    internal static AttachedType DescribeAttachedType(ITypeSymbol type)
    {
        bool implementsInterface = type.AllInterfaces.Any(i => i.ToDisplayString() == KnownNames.AttachmentInterface);
        bool isModule = false;
        for (var t = type.BaseType; t is not null; t = t.BaseType)
        {
            if (t.MetadataName == "Module`2" && t.ContainingType?.Name == "nn"
                && t.ContainingType.ContainingType?.Name == "torch")
            {
                isModule = true;
                break;
            }
        }
        bool constructible =
            type is INamedTypeSymbol { TypeKind: TypeKind.Class, IsAbstract: false, IsUnboundGenericType: false } named
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
