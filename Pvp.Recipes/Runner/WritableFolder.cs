namespace Pvp.Recipes.Runner;

/// <summary>Proves a folder writable before any work goes there, so that a run does not fail hours in.</summary>
internal static class WritableFolder
{
    /// <summary>Creates <paramref name="folder"/> if needed and proves it writable with a probe file.</summary>
    /// <exception cref="IOException">
    /// It is a file, cannot be created, or cannot be written; the message names it and <paramref name="fix"/>.
    /// </exception>
    public static void Ensure(string folder, string what, string fix)
    {
        if (File.Exists(folder)) throw new IOException($"{what} '{folder}' is a file; {fix}.");
        try
        {
            Directory.CreateDirectory(folder);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new IOException($"{what} '{folder}' cannot be created ({e.Message}); {fix}.", e);
        }
        string probe = Path.Combine(folder, $".write-test-{Environment.ProcessId}");
        try
        {
            File.WriteAllText(probe, "pvp");
            File.Delete(probe);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new IOException($"{what} '{folder}' is not writable ({e.Message}); {fix}.", e);
        }
    }
}
