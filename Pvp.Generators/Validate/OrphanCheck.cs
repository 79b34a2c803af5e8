using System.Linq;
using System.Threading;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Pvp.Generators.Diagnostics;
using Pvp.Generators.Model;

namespace Pvp.Generators.Validate;

/// <summary>Reports a PETuning attribute on a class that declares no backbone (PVP017).</summary>
internal static class OrphanCheck
{
    /// <summary>
    /// Each attribute on a class without a backbone whose attribute class carries <c>[SiteMethod]</c>.
    /// </summary>
    public static EquatableArray<DiagnosticInfo> FindDescribed(
        GeneratorSyntaxContext context, CancellationToken cancellationToken)
    {
        if (context.SemanticModel.GetDeclaredSymbol(context.Node, cancellationToken) is not INamedTypeSymbol type)
            return EquatableArray<DiagnosticInfo>.Empty;
        var attributes = type.GetAttributes();
        if (attributes.Any(a => a.AttributeClass?.ToDisplayString() == KnownNames.VisionTransformerAttribute))
            return EquatableArray<DiagnosticInfo>.Empty;
        return attributes
            .Where(a => a.AttributeClass is { } c
                        && c.GetAttributes().Any(m => m.AttributeClass?.ToDisplayString() == KnownNames.SiteMethodAttribute)
                        && a.ApplicationSyntaxReference?.SyntaxTree == context.Node.SyntaxTree)
            .Select(a => DiagnosticInfo.Create(DiagnosticCatalog.NoBackbone,
                LocationInfo.From(a.ApplicationSyntaxReference?.GetSyntax(cancellationToken)), type.Name,
                KnownNames.ShortName(a.AttributeClass!.ToDisplayString())))
            .ToEquatableArray();
    }

    public static DiagnosticInfo? Find(GeneratorAttributeSyntaxContext context, CancellationToken cancellationToken)
    {
        bool hasBackbone = context.TargetSymbol.GetAttributes()
            .Any(a => a.AttributeClass?.ToDisplayString() == KnownNames.VisionTransformerAttribute);
        if (hasBackbone) return null;
        var attribute = context.Attributes.First();
        var syntax = attribute.ApplicationSyntaxReference?.GetSyntax(cancellationToken) as AttributeSyntax;
        string name = KnownNames.ShortName(attribute.AttributeClass?.ToDisplayString() ?? "?");
        return DiagnosticInfo.Create(DiagnosticCatalog.NoBackbone, LocationInfo.From(syntax), context.TargetSymbol.Name,
            name);
    }
}
