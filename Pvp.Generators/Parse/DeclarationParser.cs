using System.Collections.Immutable;
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
        cancellationToken.ThrowIfCancellationRequested();

        string? ns = symbol.ContainingNamespace is { IsGlobalNamespace: false } containing ? containing.ToDisplayString() : null;
        bool isPartial = node.Modifiers.Any(SyntaxKind.PartialKeyword);
        return new VariantDeclaration(
            ns,
            symbol.Name,
            LocationInfo.From(node.Identifier),
            isPartial,
            DescribeUnsupportedShape(symbol),
            ParseBackbone(context.Attributes.First(), cancellationToken));
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
        var arguments = AttributeArguments.Read(attribute, syntax);
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
            arguments.Named<bool>("QkvBias"));
    }
}

/// <summary>An attribute's constant arguments paired with the syntax each was written in.</summary>
internal sealed class AttributeArguments
{
    private readonly AttributeData attribute;
    private readonly AttributeSyntax? syntax;

    private AttributeArguments(AttributeData attribute, AttributeSyntax? syntax)
    {
        this.attribute = attribute;
        this.syntax = syntax;
    }

    public static AttributeArguments Read(AttributeData attribute, AttributeSyntax? syntax) => new(attribute, syntax);

    /// <summary>The constructor argument at <paramref name="index"/>, or null when absent or not a constant of type T.</summary>
    public Declared<T>? Positional<T>(int index)
    {
        if (index >= attribute.ConstructorArguments.Length) return null;
        var value = attribute.ConstructorArguments[index];
        var argumentSyntax = syntax?.ArgumentList?.Arguments
            .Where(a => a.NameEquals is null && a.NameColon is null)
            .ElementAtOrDefault(index);
        return Convert<T>(value, argumentSyntax);
    }

    /// <summary>The named argument <paramref name="name"/>, or null when absent or not a constant of type T.</summary>
    public Declared<T>? Named<T>(string name)
    {
        foreach (var pair in attribute.NamedArguments)
        {
            if (pair.Key != name) continue;
            var argumentSyntax = syntax?.ArgumentList?.Arguments.FirstOrDefault(a => a.NameEquals?.Name.Identifier.ValueText == name);
            return Convert<T>(pair.Value, argumentSyntax);
        }
        return null;
    }

    private Declared<T>? Convert<T>(TypedConstant constant, AttributeArgumentSyntax? argumentSyntax)
    {
        if (constant.Kind == TypedConstantKind.Error || constant.IsNull) return null;
        object? raw = constant.Value;
        object? converted = raw switch
        {
            T exact => exact,
            int i when typeof(T) == typeof(double) => (double)i,
            _ => null,
        };
        if (converted is not T value) return null;
        return new Declared<T>(value, LocationInfo.From((SyntaxNode?)argumentSyntax ?? syntax));
    }
}
