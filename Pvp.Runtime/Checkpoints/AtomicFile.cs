namespace Pvp.Checkpoints;

/// <summary>Writes files so that a crash never leaves a half-written one: write beside, then rename over.</summary>
public static class AtomicFile
{
    /// <summary>Calls <paramref name="write"/> with a temporary path next to <paramref name="path"/>, then renames it into place.</summary>
    public static void Write(string path, Action<string> write)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        string temp = path + ".tmp";
        write(temp);
        File.Move(temp, path, overwrite: true);
    }
}
