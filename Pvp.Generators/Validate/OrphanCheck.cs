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
    public static DiagnosticInfo? Find(GeneratorAttributeSyntaxContext context, CancellationToken cancellationToken)
    {
        bool hasBackbone = context.TargetSymbol.GetAttributes()
            .Any(a => a.AttributeClass?.ToDisplayString() == KnownNames.VisionTransformerAttribute);
        if (hasBackbone) return null;
        var attribute = context.Attributes.First();
        var syntax = attribute.ApplicationSyntaxReference?.GetSyntax(cancellationToken) as AttributeSyntax;
        string name = KnownNames.ShortName(attribute.AttributeClass?.ToDisplayString() ?? "?");
        return DiagnosticInfo.Create(DiagnosticCatalog.NoBackbone, LocationInfo.From(syntax), context.TargetSymbol.Name, name);
    }
}
