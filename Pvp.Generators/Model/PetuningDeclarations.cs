namespace Pvp.Generators.Model;

/// <summary>
/// What the parser learned about the type given to <c>[Attach(typeof(T))]</c>; the symbol itself is not kept.
/// </summary>
/// <param name="FullName">Fully qualified with <c>global::</c>, for emitted code.</param>
/// <param name="Name">The simple name, for field names and messages.</param>
/// <param name="IsAttachment">
/// Implements <c>Pvp.IPetAttachment</c> and derives from <c>nn.Module&lt;Tensor, Tensor&gt;</c>.
/// </param>
/// <param name="IsConstructible">
/// Non-abstract, non-generic class with a public constructor taking <c>Pvp.AttachContext</c>.
/// </param>
internal sealed record AttachedType(string FullName, string Name, bool IsAttachment, bool IsConstructible);

/// <summary>A named attribute argument as written: its constant (an enum as its number), and where.</summary>
internal sealed record NamedArgument(string Name, object Value, LocationInfo? Location);

/// <summary>
/// A <c>[SiteMethod]</c> descriptor as read from an attribute class (in this compilation or a referenced assembly).
/// </summary>
/// <param name="Kind">Its kind name, or null when not a constant.</param>
/// <param name="Module">Its module type's facts, or null when the type is missing or unknown.</param>
/// <param name="Sites">Its sites as written (validation checks that each is one the generator knows).</param>
/// <param name="Combine">Its combine mode, null when not written.</param>
internal sealed record SiteMethodDescriptor(
    string? Kind, AttachedType? Module, EquatableArray<AttachSite> Sites, SiteCombine? Combine);

/// <summary>
/// A site method's attribute as written: a built-in whose attribute describes itself, <c>[Attach]</c>, or an attribute
/// whose class carries <c>[SiteMethod]</c>.
/// </summary>
/// <param name="AttributeName">The attribute class's full name.</param>
/// <param name="ShortName">Its name without "Attribute", as messages write it.</param>
/// <param name="Location">The attribute in the declaration.</param>
/// <param name="Arguments">Its named arguments.</param>
/// <param name="Module">For <c>[Attach]</c>: the <c>typeof</c> argument.</param>
/// <param name="IsNullType">For <c>[Attach]</c>: the type argument is a null constant.</param>
/// <param name="Descriptor">For an attribute class with <c>[SiteMethod]</c>: its descriptor.</param>
internal sealed record SiteMethodDeclaration(
    string AttributeName,
    string ShortName,
    LocationInfo? Location,
    EquatableArray<NamedArgument> Arguments,
    Declared<AttachedType>? Module = null,
    bool IsNullType = false,
    SiteMethodDescriptor? Descriptor = null)
{
    /// <summary>The named argument <paramref name="name"/> when it is a <typeparamref name="T"/>.</summary>
    public Declared<T>? Named<T>(string name)
    {
        foreach (var argument in Arguments)
            if (argument.Name == name && ConstantValue.TryAs(argument.Value, out T value))
                return new Declared<T>(value, argument.Location);
        return null;
    }
}

/// <summary>
/// The argument-less attributes (<c>[TrainBias]</c>, <c>[TrainNorms]</c>, <c>[LinearProbe]</c>, <c>[FullFineTune]</c>).
/// </summary>
internal sealed record MarkerDeclaration(string Name, LocationInfo? Location); // Name: the attribute's metadata name (KnownNames)
