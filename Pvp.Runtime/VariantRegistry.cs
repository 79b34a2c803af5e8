using System.Collections.Concurrent;
using System.Reflection;
using System.Runtime.CompilerServices;
using System.Runtime.Loader;
using static TorchSharp.torch;
using Pvp.MixedPrecision;

namespace Pvp;

/// <summary>Makes a model of a declared variant.</summary>
/// <param name="numClasses">Classes of the head (0: none).</param>
/// <param name="device">Where to allocate it.</param>
/// <param name="dtype">Its element type.</param>
public delegate PetModel VariantFactory(int numClasses, Device? device, ScalarType dtype);

/// <summary>Makes a model of a variant that allows a bf16 backbone, in the precision asked for.</summary>
/// <param name="numClasses">Classes of the head (0: none).</param>
/// <param name="device">Where to allocate it.</param>
/// <param name="dtype">The trainable modules' element type.</param>
/// <param name="precision">The frozen backbone's precision (auto: bf16 where the device computes it natively).</param>
public delegate PetModel PrecisionVariantFactory(int numClasses, Device? device, ScalarType dtype, BackbonePrecision precision);

/// <summary>A registered variant.</summary>
/// <param name="Name">The class name.</param>
/// <param name="Type">The class.</param>
/// <param name="Backbone">Its backbone.</param>
/// <param name="Attachments">What its declaration attaches (model-card lines).</param>
/// <param name="IsPlainBackbone">No PETuning modules and every parameter trains: usable to pre-train a backbone.</param>
/// <param name="Factory">Builds one.</param>
public sealed record VariantInfo(string Name, Type Type, VitConfig Backbone, IReadOnlyList<string> Attachments, bool IsPlainBackbone, VariantFactory Factory)
{
    /// <summary>Builds one in a chosen backbone precision; null when the declaration allows float32 only.</summary>
    public PrecisionVariantFactory? PrecisionFactory { get; init; }

    /// <summary>The declaration allows a bf16 backbone (<c>Precision = PrecisionPlan.BackboneBf16</c>).</summary>
    public bool AllowsBf16Backbone => PrecisionFactory is not null;

    /// <summary>Builds one in <paramref name="precision"/>.</summary>
    /// <exception cref="ArgumentException">bf16 asked of a variant that allows float32 only.</exception>
    public PetModel Create(int numClasses, Device? device = null, ScalarType dtype = ScalarType.Float32, BackbonePrecision precision = BackbonePrecision.Auto)
    {
        if (PrecisionFactory is { } withPrecision) return withPrecision(numClasses, device, dtype, precision);
        PrecisionChoice.Decide(allowsBf16: false, precision, device, Name); // throws for bf16
        return Factory(numClasses, device, dtype);
    }
}

/// <summary>
/// Every declared variant of the loaded assemblies, by class name, so that a recipe file can name one as a string.
/// Generated code registers each variant when its assembly loads.
/// </summary>
public static class VariantRegistry
{
    private static readonly ConcurrentDictionary<string, VariantInfo> Variants = new(StringComparer.Ordinal);
    private static readonly ConcurrentDictionary<string, Assembly> Searched = new(StringComparer.Ordinal);

    /// <summary>Registers a variant (generated code calls this; a second registration of a name keeps the first).</summary>
    public static void Register(string name, Type type, VitConfig backbone, IReadOnlyList<string> attachments, bool isPlainBackbone, VariantFactory factory)
    {
        Searched.TryAdd(type.Assembly.FullName ?? type.Assembly.GetName().Name!, type.Assembly);
        if (!Variants.TryAdd(name, new VariantInfo(name, type, backbone, attachments, isPlainBackbone, factory))) RecordClash(name, type);
    }

    /// <summary>Registers a variant that allows a bf16 backbone (generated code calls this; a second registration of a name keeps the first).</summary>
    public static void Register(string name, Type type, VitConfig backbone, IReadOnlyList<string> attachments, bool isPlainBackbone, PrecisionVariantFactory factory)
    {
        Searched.TryAdd(type.Assembly.FullName ?? type.Assembly.GetName().Name!, type.Assembly);
        if (!Variants.TryAdd(name, new VariantInfo(name, type, backbone, attachments, isPlainBackbone,
                (numClasses, device, dtype) => factory(numClasses, device, dtype, BackbonePrecision.Auto)) { PrecisionFactory = factory }))
            RecordClash(name, type);
    }

    /// <summary>
    /// A second class registering a taken name keeps the first; <see cref="Load"/> and <see cref="LoadFrom"/> refuse
    /// the assembly, since recipes name variants by class name.
    /// </summary>
    private static void RecordClash(string name, Type type)
    {
        var kept = Variants[name].Type;
        if (kept != type) ClashBag.Add((name, kept, type));
    }

    /// <summary>Runs the registrations of <paramref name="assembly"/> (its module initializer) if it has not run yet.</summary>
    /// <exception cref="InvalidDataException">
    /// A variant name it declares is declared by another class too (in it or in another assembly); the message names
    /// both.
    /// </exception>
    public static void Load(Assembly assembly)
    {
        Searched.TryAdd(assembly.FullName ?? assembly.GetName().Name!, assembly);
        RuntimeHelpers.RunModuleConstructor(assembly.ManifestModule.ModuleHandle);
        ThrowOnClash(assembly);
    }

    /// <summary>
    /// Refuses an assembly one of whose variant names another class also declares: a recipe names a variant by class
    /// name, so the first registration would otherwise win without a word.
    /// </summary>
    private static void ThrowOnClash(Assembly assembly)
    {
        foreach (var clash in Clashes.Where(c => c.Added.Assembly == assembly || c.Kept.Assembly == assembly))
        {
            string kept = clash.Kept.Assembly.GetName().Name!, added = clash.Added.Assembly.GetName().Name!;
            throw new InvalidDataException(
                $"The variant name '{clash.Name}' is declared by {clash.Kept.FullName} ({kept}) and by " +
                $"{clash.Added.FullName} ({added}); recipes name variants by class name: rename one.");
        }
    }

    /// <summary>
    /// Loads the assembly file at <paramref name="path"/> — a user's library or program that declares variants — and
    /// registers its variants. Its own dependencies resolve from its folder (and its <c>.deps.json</c>); Pvp, TorchSharp and
    /// whatever else this process already has are shared, never loaded twice, so its variants are the types this process
    /// uses. It is checked first: a .NET implementation assembly, built against versions of this process's assemblies no
    /// newer than the ones loaded, and declaring no variant name that another assembly already declares.
    /// </summary>
    /// <returns>The loaded assembly.</returns>
    /// <exception cref="FileNotFoundException">No such file.</exception>
    /// <exception cref="InvalidDataException">Not a usable assembly, built against newer Pvp assemblies, or a name clash; the message says which.</exception>
    public static Assembly LoadFrom(string path)
    {
        string full = Path.GetFullPath(path);
        if (!File.Exists(full)) throw new FileNotFoundException($"Variant assembly '{full}' does not exist.", full);
        var name = CheckLoadable(full);
        lock (LoadLock)
        {
            var loaded = AssemblyLoadContext.Default.Assemblies.FirstOrDefault(a => a.GetName().Name == name.Name);
            if (loaded is not null && !string.Equals(loaded.Location, full, StringComparison.Ordinal))
                throw new InvalidDataException($"Cannot load '{full}': an assembly named {name.Name} is already loaded from '{loaded.Location}'. Rename one of them.");
            if (loaded is null)
            {
                Resolvers.Add((Path.GetDirectoryName(full)!, new AssemblyDependencyResolver(full)));
                if (Resolvers.Count == 1)
                {
                    AssemblyLoadContext.Default.Resolving += ResolveManaged;
                    AssemblyLoadContext.Default.ResolvingUnmanagedDll += ResolveNative;
                }
                try
                {
                    loaded = AssemblyLoadContext.Default.LoadFromAssemblyPath(full);
                }
                catch (Exception e) when (e is BadImageFormatException or FileLoadException)
                {
                    throw new InvalidDataException($"'{full}' could not be loaded: {e.Message}", e);
                }
            }
            try
            {
                Load(loaded);
            }
            catch (Exception e) when (e is TypeInitializationException or MissingMethodException or TypeLoadException or FileLoadException or FileNotFoundException)
            {
                throw new InvalidDataException(
                    $"'{full}' could not register its variants ({(e.InnerException ?? e).Message}). It was probably built against another " +
                    $"Pvp.Runtime than this process's {typeof(VariantRegistry).Assembly.GetName().Version}; rebuild it against that version.", e);
            }
            return loaded; // Load refused it if one of its names is taken
        }
    }

    private static readonly object LoadLock = new();
    private static readonly List<(string Folder, AssemblyDependencyResolver Resolver)> Resolvers = new();
    private static readonly ConcurrentBag<(string Name, Type Kept, Type Added)> ClashBag = new();
    private static IEnumerable<(string Name, Type Kept, Type Added)> Clashes => ClashBag;

    /// <summary>Reads the file's metadata without loading it: a .NET implementation assembly whose references are no newer than what is loaded.</summary>
    private static AssemblyName CheckLoadable(string full)
    {
        try
        {
            using var pe = new System.Reflection.PortableExecutable.PEReader(File.OpenRead(full));
            if (!pe.HasMetadata) throw NotAssembly(full);
            var metadata = System.Reflection.Metadata.PEReaderExtensions.GetMetadataReader(pe);
            if (!metadata.IsAssembly) throw NotAssembly(full);
            foreach (var handle in metadata.GetAssemblyDefinition().GetCustomAttributes())
            {
                var attribute = metadata.GetCustomAttribute(handle);
                if (attribute.Constructor.Kind == System.Reflection.Metadata.HandleKind.MemberReference
                    && metadata.GetMemberReference((System.Reflection.Metadata.MemberReferenceHandle)attribute.Constructor).Parent is { Kind: System.Reflection.Metadata.HandleKind.TypeReference } parent
                    && metadata.GetString(metadata.GetTypeReference((System.Reflection.Metadata.TypeReferenceHandle)parent).Name) == "ReferenceAssemblyAttribute")
                    throw new InvalidDataException($"'{full}' is a reference assembly (from obj/.../ref): give the one in the project's bin/ folder.");
            }
            foreach (var handle in metadata.AssemblyReferences)
            {
                var reference = metadata.GetAssemblyReference(handle);
                string referenced = metadata.GetString(reference.Name);
                var have = AssemblyLoadContext.Default.Assemblies.Select(a => a.GetName()).FirstOrDefault(a => a.Name == referenced);
                if (have?.Version is { } version && reference.Version > version)
                    throw new InvalidDataException($"'{full}' was built against {referenced} {reference.Version}, newer than this process's {version}: " +
                                                   $"update the pvp tool (or the program loading it) to that version, or build the project against {version}.");
            }
            return AssemblyName.GetAssemblyName(full);
        }
        catch (BadImageFormatException)
        {
            throw NotAssembly(full);
        }
    }

    private static InvalidDataException NotAssembly(string full) =>
        new($"'{full}' is not a .NET assembly; give the .dll of the project that declares the variants (or the project itself).");

    private static Assembly? ResolveManaged(AssemblyLoadContext context, AssemblyName wanted)
    {
        // A name this process already has (in another version): never a second copy, whose types would not be ours.
        if (context.Assemblies.Any(a => a.GetName().Name == wanted.Name)) return null;
        lock (LoadLock)
        {
            foreach (var (folder, resolver) in Resolvers)
            {
                string? candidate = resolver.ResolveAssemblyToPath(wanted) ?? Path.Combine(folder, wanted.Name + ".dll");
                if (File.Exists(candidate)) return context.LoadFromAssemblyPath(candidate);
            }
        }
        return null;
    }

    private static IntPtr ResolveNative(Assembly requesting, string library)
    {
        // Only for the user's assemblies: the rest of the process keeps its own native lookup.
        lock (LoadLock)
        {
            foreach (var (folder, resolver) in Resolvers)
                if (requesting.Location.StartsWith(folder + Path.DirectorySeparatorChar, StringComparison.Ordinal)
                    && resolver.ResolveUnmanagedDllToPath(library) is { } native)
                    return System.Runtime.InteropServices.NativeLibrary.Load(native);
        }
        return IntPtr.Zero;
    }

    /// <summary>The assemblies searched for variants so far, with how many each declares: "Name (path): N variants".</summary>
    public static IReadOnlyList<string> SearchedAssemblies =>
        Searched.Values.OrderBy(a => a.GetName().Name, StringComparer.Ordinal)
            .Select(a => (Assembly: a, Count: Variants.Values.Count(v => v.Type.Assembly == a)))
            .Select(p => $"{p.Assembly.GetName().Name} ({(p.Assembly.Location.Length > 0 ? p.Assembly.Location : "in memory")}): {p.Count} variant{(p.Count == 1 ? "" : "s")}")
            .ToList();

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
    /// <exception cref="ArgumentException">bf16 asked of a variant that allows float32 only.</exception>
    public static PetModel Create(string name, int numClasses, Device? device = null, ScalarType dtype = ScalarType.Float32,
        BackbonePrecision precision = BackbonePrecision.Auto) =>
        Find(name).Create(numClasses, device, dtype, precision);

    /// <summary>A registered plain backbone (no PETuning modules, everything trains) with exactly this configuration, or null.</summary>
    public static VariantInfo? FindPlainBackbone(VitConfig config) =>
        Variants.Values.Where(v => v.IsPlainBackbone && v.Backbone == config).OrderBy(v => v.Name, StringComparer.Ordinal).FirstOrDefault();

    private static VariantInfo Find(string name)
    {
        if (Variants.TryGetValue(name, out var entry)) return entry;
        // Close names: the same up to two edits, comparing the typed name with each name's prefix of the same length.
        var close = Variants.Keys
            .Select(k => (Name: k, Distance: Text.EditDistance.Between(name.ToLowerInvariant(), k[..Math.Min(k.Length, name.Length)].ToLowerInvariant())))
            .Where(p => p.Distance <= 2).OrderBy(p => p.Distance).ThenBy(p => p.Name, StringComparer.Ordinal).Take(8).Select(p => p.Name).ToList();
        string hint = close.Count > 0 ? $" Did you mean: {string.Join(", ", close)}?" : $" Known variants: {string.Join(", ", Names.Take(20))}{(Variants.Count > 20 ? ", …" : "")}.";
        string looked = Searched.IsEmpty ? "no assembly has been searched yet" : "looked in " + string.Join("; ", SearchedAssemblies);
        throw new KeyNotFoundException($"No PETuning variant named '{name}' is registered.{hint} ({looked}. Is the assembly that declares it loaded?)");
    }
}
