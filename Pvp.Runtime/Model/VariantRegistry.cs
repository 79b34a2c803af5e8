using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using static TorchSharp.torch;

namespace Pvp;

/// <summary>Makes a model of a declared variant.</summary>
/// <param name="numClasses">Classes of the head (0: none).</param>
/// <param name="device">Where to allocate it.</param>
/// <param name="dtype">Its element type.</param>
public delegate PetModel VariantFactory(int numClasses, Device? device, ScalarType dtype);

/// <summary>A registered variant.</summary>
/// <param name="Name">The class name.</param>
/// <param name="Type">The class.</param>
/// <param name="Backbone">Its backbone.</param>
/// <param name="Attachments">What its declaration attaches (model-card lines).</param>
/// <param name="IsPlainBackbone">No PETuning modules and every parameter trains: usable to pre-train a backbone.</param>
/// <param name="Factory">Builds one.</param>
public sealed record VariantInfo(string Name, Type Type, VitConfig Backbone, IReadOnlyList<string> Attachments, bool IsPlainBackbone, VariantFactory Factory);

/// <summary>
/// Every declared variant of the loaded assemblies, by class name, so that a recipe file can name one as a string.
/// Generated code registers each variant when its assembly loads.
/// </summary>
public static class VariantRegistry
{
    private static readonly ConcurrentDictionary<string, VariantInfo> Variants = new(StringComparer.Ordinal);

    /// <summary>Registers a variant (generated code calls this; a second registration of a name keeps the first).</summary>
    public static void Register(string name, Type type, VitConfig backbone, IReadOnlyList<string> attachments, bool isPlainBackbone, VariantFactory factory) =>
        Variants.TryAdd(name, new VariantInfo(name, type, backbone, attachments, isPlainBackbone, factory));

    /// <summary>Runs the registrations of <paramref name="assembly"/> (its module initializer) if it has not run yet.</summary>
    public static void Load(System.Reflection.Assembly assembly) => RuntimeHelpers.RunModuleConstructor(assembly.ManifestModule.ModuleHandle);

    /// <summary>The registered names, sorted.</summary>
    public static IReadOnlyList<string> Names => Variants.Keys.OrderBy(n => n, StringComparer.Ordinal).ToList();

    /// <summary>The class of a registered variant.</summary>
    public static Type TypeOf(string name) => Find(name).Type;

    /// <summary>What is known of a registered variant without building it.</summary>
    /// <exception cref="KeyNotFoundException">No such variant; the message lists the close names.</exception>
    public static VariantInfo Describe(string name) => Find(name);

    /// <summary>Every registered variant, by name.</summary>
    public static IReadOnlyList<VariantInfo> All => Variants.Values.OrderBy(v => v.Name, StringComparer.Ordinal).ToList();

    /// <summary>Creates a model of the variant called <paramref name="name"/>.</summary>
    /// <exception cref="KeyNotFoundException">No such variant; the message lists the close names.</exception>
    public static PetModel Create(string name, int numClasses, Device? device = null, ScalarType dtype = ScalarType.Float32) =>
        Find(name).Factory(numClasses, device, dtype);

    /// <summary>A registered plain backbone (no PETuning modules, everything trains) with exactly this configuration, or null.</summary>
    public static VariantInfo? FindPlainBackbone(VitConfig config) =>
        Variants.Values.Where(v => v.IsPlainBackbone && v.Backbone == config).OrderBy(v => v.Name, StringComparer.Ordinal).FirstOrDefault();

    private static VariantInfo Find(string name)
    {
        if (Variants.TryGetValue(name, out var entry)) return entry;
        // Close names: the same up to two edits, comparing the typed name with each name's prefix of the same length.
        var close = Variants.Keys
            .Select(k => (Name: k, Distance: EditDistance(name.ToLowerInvariant(), k[..Math.Min(k.Length, name.Length)].ToLowerInvariant())))
            .Where(p => p.Distance <= 2).OrderBy(p => p.Distance).ThenBy(p => p.Name, StringComparer.Ordinal).Take(8).Select(p => p.Name).ToList();
        string hint = close.Count > 0 ? $" Did you mean: {string.Join(", ", close)}?" : $" Known variants: {string.Join(", ", Names.Take(20))}{(Variants.Count > 20 ? ", …" : "")}.";
        throw new KeyNotFoundException($"No PETuning variant named '{name}' is registered.{hint} (Is the assembly that declares it loaded?)");
    }

    private static int EditDistance(string a, string b)
    {
        var row = Enumerable.Range(0, b.Length + 1).ToArray();
        for (int i = 1; i <= a.Length; i++)
        {
            int previous = row[0];
            row[0] = i;
            for (int j = 1; j <= b.Length; j++)
            {
                int current = row[j];
                row[j] = Math.Min(Math.Min(row[j] + 1, row[j - 1] + 1), previous + (a[i - 1] == b[j - 1] ? 0 : 1));
                previous = current;
            }
        }
        return row[b.Length];
    }
}
