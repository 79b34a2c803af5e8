using System;
using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Pvp.Generators.Model;

namespace Pvp.Generators.Parse;

/// <summary>An attribute's constant arguments paired with the syntax each was written in.</summary>
internal sealed class AttributeArguments
{
    private readonly AttributeData attribute;
    private readonly AttributeSyntax? syntax;

    public AttributeArguments(AttributeData attribute, AttributeSyntax? syntax)
    {
        this.attribute = attribute;
        this.syntax = syntax;
    }

    /// <summary>
    /// The constructor argument at <paramref name="index"/>, or null when absent or not a constant of type T.
    /// </summary>
    public Declared<T>? Positional<T>(int index)
    {
        if (index >= attribute.ConstructorArguments.Length) return null;
        return Convert<T>(attribute.ConstructorArguments[index], PositionalSyntax(index));
    }

    /// <summary>
    /// True when the constructor argument at <paramref name="index"/> is a null constant (e.g. <c>[Attach(null!)]</c>).
    /// </summary>
    public bool IsNullPositional(int index) =>
        index < attribute.ConstructorArguments.Length
        && attribute.ConstructorArguments[index] is { IsNull: true, Kind: not TypedConstantKind.Error };

    /// <summary>
    /// The <c>typeof</c> constructor argument at <paramref name="index"/>, described by <paramref name="describe"/>.
    /// </summary>
    public Declared<T>? PositionalType<T>(int index, Func<ITypeSymbol, T> describe)
    {
        if (index >= attribute.ConstructorArguments.Length) return null;
        var constant = attribute.ConstructorArguments[index];
        if (constant.Kind != TypedConstantKind.Type || constant.Value is not ITypeSymbol type
            || type.TypeKind == TypeKind.Error)
            return null;
        return new Declared<T>(describe(type), LocationInfo.From((SyntaxNode?)PositionalSyntax(index) ?? syntax));
    }

    /// <summary>The named argument <paramref name="name"/>, or null when absent or not a constant of type T.</summary>
    public Declared<T>? Named<T>(string name)
    {
        foreach (var pair in attribute.NamedArguments)
        {
            if (pair.Key != name) continue;
            var argumentSyntax =
                syntax?.ArgumentList?.Arguments.FirstOrDefault(a => a.NameEquals?.Name.Identifier.ValueText == name);
            return Convert<T>(pair.Value, argumentSyntax);
        }
        return null;
    }

    /// <summary>
    /// Every named argument whose value is a constant of a simple
    /// type (a number, bool, string or enum), in source order.
    /// </summary>
    public EquatableArray<NamedArgument> AllNamed() => attribute.NamedArguments
        .Where(pair => pair.Value.Kind is TypedConstantKind.Primitive or TypedConstantKind.Enum
                       && pair.Value.Value is not null)
        .Select(pair => new NamedArgument(pair.Key, pair.Value.Value!,
            LocationInfo.From((SyntaxNode?)syntax?.ArgumentList?.Arguments
                .FirstOrDefault(a => a.NameEquals?.Name.Identifier.ValueText == pair.Key) ?? syntax)))
        .ToEquatableArray();

    private AttributeArgumentSyntax? PositionalSyntax(int index) =>
        syntax?.ArgumentList?.Arguments.Where(a => a.NameEquals is null && a.NameColon is null)
            .ElementAtOrDefault(index);

    private Declared<T>? Convert<T>(TypedConstant constant, AttributeArgumentSyntax? argumentSyntax)
    {
        if (constant.Kind == TypedConstantKind.Error || constant.IsNull) return null;
        object? raw = constant.Value is int i && typeof(T) == typeof(double) ? (double)i : constant.Value;
        if (!ConstantValue.TryAs(raw, out T value)) return null;
        return new Declared<T>(value, LocationInfo.From((SyntaxNode?)argumentSyntax ?? syntax));
    }
}
