using System;
using System.Collections.Generic;
using System.Linq;
using Pvp.Generators.Model;

namespace Pvp.Generators.Methods;

/// <summary>
/// The site methods whose attributes describe themselves (compiled in from the runtime, each implementing
/// <see cref="ISiteMethod"/>): found by reflection over the generator's own types, so adding one registers nothing
/// here.
/// </summary>
internal static class BuiltInSiteMethods
{
    /// <summary>Each self-describing attribute type by its full name (<c>Pvp.AdapterAttribute</c>).</summary>
    public static readonly IReadOnlyDictionary<string, Type> ByName = typeof(ISiteMethod).Assembly.GetTypes()
        .Where(t => typeof(ISiteMethod).IsAssignableFrom(t) && typeof(Attribute).IsAssignableFrom(t) && !t.IsAbstract)
        .ToDictionary(t => t.FullName!, t => t);

    /// <summary>
    /// Every built-in method's kind name → its attribute's full name: the kinds no other method may take.
    /// </summary>
    public static readonly IReadOnlyDictionary<string, string> KindOwners = ByName.Values
        .Select(t => (Kind: ((ISiteMethod)Activator.CreateInstance(t)).KindName, t.FullName))
        .Concat(new[]
        {
            (Kind: PromptsAttribute.KindName, FullName: KnownNames.PromptsAttribute),
            (Kind: LoraAttribute.KindName, FullName: KnownNames.LoraAttribute),
            (Kind: AttachAttribute.KindName, FullName: KnownNames.AttachAttribute),
        })
        .ToDictionary(p => p.Kind, p => p.FullName!, StringComparer.Ordinal);

    /// <summary>
    /// The attribute as declared: an instance of the compiled-in attribute with each named argument set, or
    /// null when the attribute cannot be made. Arguments of the wrong type are left to the compiler's errors.
    /// </summary>
    public static ISiteMethod? Create(SiteMethodDeclaration declaration)
    {
        if (!ByName.TryGetValue(declaration.AttributeName, out var type)) return null;
        try
        {
            var instance = Activator.CreateInstance(type);
            foreach (var argument in declaration.Arguments)
            {
                var property = type.GetProperty(argument.Name);
                if (property is null || !property.CanWrite) continue;
                object? value = Convert(argument.Value, property.PropertyType);
                if (value is not null) property.SetValue(instance, value);
            }
            return instance as ISiteMethod;
        }
        catch (Exception)
        {
            return null; // a generator never throws; nothing is generated and the compiler reports the attribute
        }
    }

    private static object? Convert(object value, Type target)
    {
        var underlying = Nullable.GetUnderlyingType(target) ?? target;
        if (underlying.IsEnum) return value is int number ? Enum.ToObject(underlying, number) : null;
        if (underlying == typeof(double) && value is int whole) return (double)whole;
        return underlying.IsInstanceOfType(value) ? value : null;
    }
}
