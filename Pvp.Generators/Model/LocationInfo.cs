using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Text;

namespace Pvp.Generators.Model;

/// <summary>
/// A source location reduced to values, so models keep no reference to a syntax tree (which would defeat caching
/// and keep whole compilations alive).
/// </summary>
internal sealed record LocationInfo(string FilePath, TextSpan Span, LinePositionSpan LineSpan)
{
    public Location ToLocation() => Location.Create(FilePath, Span, LineSpan);

    public static LocationInfo? From(SyntaxNode? node) => node is null ? null : From(node.GetLocation());

    public static LocationInfo? From(SyntaxToken token) => From(token.GetLocation());

    public static LocationInfo? From(Location location) =>
        location.SourceTree is null ? null : new LocationInfo(location.SourceTree.FilePath, location.SourceSpan,
            location.GetLineSpan().Span);
}
