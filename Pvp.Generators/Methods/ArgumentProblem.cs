namespace Pvp.Generators.Methods;

/// <summary>
/// A method's value it cannot take: <see cref="Property"/> = <see cref="Value"/> must
/// be <see cref="Expected"/> (PVP019), or, for a size, must be positive (PVP004).
/// </summary>
internal sealed record ArgumentProblem(string Property, string Value, string Expected, bool IsSize = false);
