using System.Diagnostics;

namespace Pvp.Recipes;

/// <summary>
/// Variants declared outside Pvp's catalog: a recipe's <c>assemblies:</c> or the command's <c>--assembly</c> name the
/// user's assembly, or the project that builds it, and its variants register before the recipe's variant is looked up.
/// </summary>
public static class VariantSources
{
    private static readonly string[] ProjectExtensions = { ".csproj", ".fsproj", ".vbproj" };

    /// <summary>
    /// Loads the variants of <paramref name="path"/>: an assembly (<c>.dll</c>) is loaded as it is; a project file, or
    /// a folder holding exactly one, is built first (<c>dotnet build -c Release</c>) and its output assembly is loaded.
    /// </summary>
    /// <param name="path">The assembly, project file or project folder.</param>
    /// <param name="log">Told what is built and loaded (null: silent).</param>
    /// <returns>The assembly file that was loaded.</returns>
    /// <exception cref="FileNotFoundException">Nothing at <paramref name="path"/>.</exception>
    /// <exception cref="InvalidDataException">
    /// Not an assembly, a project, or a folder with exactly one project.
    /// </exception>
    /// <exception cref="InvalidOperationException">
    /// The project did not build; the message holds the build's last lines.
    /// </exception>
    public static string Load(string path, Action<string>? log = null)
    {
        string source = Locate(path);
        string assembly = ProjectExtensions.Contains(Path.GetExtension(source), StringComparer.OrdinalIgnoreCase)
            ? Build(source, log)
            : source;
        var loaded = VariantRegistry.LoadFrom(assembly);
        log?.Invoke($"variants from {loaded.GetName().Name}: " +
                    $"{string.Join(", ", VariantRegistry.All.Where(v => v.Type.Assembly == loaded).Select(v => v.Name))}");
        return assembly;
    }

    /// <summary>
    /// Loads the assemblies <paramref name="recipe"/> names under <c>assemblies:</c> (building projects, see
    /// <see cref="Load(string, Action{string})"/>), then checks the recipe's variant and precision against what they
    /// declare. Reading a recipe runs nothing; this is the step that does.
    /// </summary>
    /// <param name="recipe">A recipe read by <see cref="RecipeParser"/>.</param>
    /// <param name="log">Told what is built and loaded (null: silent).</param>
    /// <returns>The assembly files that were loaded, one per entry.</returns>
    /// <exception cref="RecipeException">
    /// An entry did not build or load, or the variant is not registered or does not allow the precision; the message
    /// names the recipe's file, line and column.
    /// </exception>
    public static IReadOnlyList<string> Load(PvpRecipe recipe, Action<string>? log = null)
    {
        var loaded = new List<string>();
        for (int i = 0; i < recipe.Assemblies.Count; i++)
        {
            try
            {
                loaded.Add(Load(recipe.Assemblies[i], log));
            }
            catch (Exception e) when (e is FileNotFoundException or InvalidDataException or InvalidOperationException
                                          or FileLoadException or BadImageFormatException)
            {
                string at = recipe.Marks is { } marks ? marks.Assemblies[i] : recipe.Path;
                throw new RecipeException($"{at}: assemblies: {e.Message}");
            }
        }
        var variantMarks = recipe.Variants
            .Select((_, i) => recipe.Marks is { } m && i < m.Variants.Count ? m.Variants[i] : recipe.Path).ToList();
        for (int i = 0; i < recipe.Variants.Count; i++)
            RecipeParser.CheckVariant(recipe.Variants[i], variantMarks[i], recipe.NamesVariants);
        foreach (string variant in recipe.Variants)
            RecipeParser.CheckPrecision(variant, recipe.Precision, recipe.Marks?.Precision ?? recipe.Path);
        RecipeVariants.CheckSameBackbone(recipe.Variants, variantMarks);
        return loaded;
    }

    /// <summary>
    /// The assembly or project file <paramref name="path"/> names (a folder: the one project in it), without building
    /// or loading anything.
    /// </summary>
    /// <exception cref="FileNotFoundException">Nothing at <paramref name="path"/>.</exception>
    /// <exception cref="InvalidDataException">A folder without exactly one project.</exception>
    internal static string Locate(string path)
    {
        string full = Path.GetFullPath(path);
        return Directory.Exists(full) ? SingleProjectIn(full)
            : File.Exists(full) ? full
            : throw new FileNotFoundException($"'{full}' does not exist: name the assembly (.dll) or the project " +
                                              "(.csproj, or its folder) that declares your variants.", full);
    }

    private static string SingleProjectIn(string folder)
    {
        var projects = Directory.EnumerateFiles(folder)
            .Where(f => ProjectExtensions.Contains(Path.GetExtension(f), StringComparer.OrdinalIgnoreCase))
            .ToList();
        return projects.Count == 1 ? projects[0]
            : throw new InvalidDataException(projects.Count == 0
                ? $"'{folder}' holds no project file (.csproj); name the project file or the assembly " +
                  "(.dll) that declares your variants."
                : $"'{folder}' holds {projects.Count} project files " +
                  $"({string.Join(", ", projects.Select(Path.GetFileName))}); name one of them.");
    }

    private static string Build(string project, Action<string>? log)
    {
        log?.Invoke($"building {project} (Release) for its variants…");
        var (code, output) = Dotnet($"build \"{project}\" -c Release -nologo -v q -clp:NoSummary");
        if (code != 0)
        {
            string tail = string.Join(Environment.NewLine,
                output.Split('\n').Select(l => l.TrimEnd()).Where(l => l.Length > 0).TakeLast(20));
            throw new InvalidOperationException($"Building '{project}' failed " +
                                                $"(dotnet build exited {code}):{Environment.NewLine}{tail}");
        }
        var (_, targetPath) = Dotnet($"msbuild \"{project}\" -getProperty:TargetPath -p:Configuration=Release -nologo");
        string assembly = targetPath.Trim();
        return File.Exists(assembly) ? assembly
            : throw new InvalidOperationException($"'{project}' built, but its output assembly '{assembly}' " +
                                                  "is not there.");
    }

    private static (int Code, string Output) Dotnet(string arguments)
    {
        var start = new ProcessStartInfo("dotnet", arguments)
        {
            RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
        };
        using var process = Process.Start(start)
            ?? throw new InvalidOperationException("Could not start 'dotnet'; is the .NET SDK on PATH?");
        var error = process.StandardError.ReadToEndAsync();
        string output = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        return (process.ExitCode, output + error.Result);
    }
}
