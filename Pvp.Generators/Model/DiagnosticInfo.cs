using System.Linq;
using Microsoft.CodeAnalysis;

namespace Pvp.Generators.Model;

/// <summary>A diagnostic to report, held as values (descriptor id, location, message arguments).</summary>
internal sealed record DiagnosticInfo(
    DiagnosticDescriptor Descriptor, LocationInfo? Location, EquatableArray<string> Arguments)
{
    public static DiagnosticInfo Create(
        DiagnosticDescriptor descriptor, LocationInfo? location, params object[] arguments) =>
        new(descriptor, location, arguments.Select(a => a?.ToString() ?? "").ToEquatableArray());

    public Diagnostic ToDiagnostic() =>
        Diagnostic.Create(Descriptor, Location?.ToLocation(), Arguments.Cast<object>().ToArray());
}
