namespace Pvp.Checkpoints;

/// <summary>Writes files so that a crash never leaves a half-written one: write beside, then rename over.</summary>
public static class AtomicFile
{
    /// <summary>
    /// Calls <paramref name="write"/> with a temporary path next to <paramref name="path"/> (unique to this process and
    /// call), then renames it into place. If anything fails — a full disk, a read-only folder — the temporary file is
    /// removed and the exception names <paramref name="path"/>; the previous file, if any, is untouched.
    /// </summary>
    /// <exception cref="IOException">The file could not be written; the message names it and the cause.</exception>
    public static void Write(string path, Action<string> write)
    {
        string temp = $"{path}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp";
        try
        {
            Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
            write(temp);
            File.Move(temp, path, overwrite: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            try { File.Delete(temp); }
            catch (Exception cleanup) when (cleanup is IOException or UnauthorizedAccessException)
            {
                /* the first error is the one to report */
            }
            throw new IOException(
                $"Could not write '{path}': {e.Message}" +
                (IsDiskFull(e) ? " (the disk is full: free space or choose another output folder)" : ""),
                e);
        }
    }

    /// <summary>
    /// True for "no space left on device" (ENOSPC on Unix, ERROR_DISK_FULL / ERROR_HANDLE_DISK_FULL on Windows).
    /// </summary>
    public static bool IsDiskFull(Exception e) =>
        e is IOException
        && ((e.HResult & 0xFFFF) is 28 or 0x70 or 0x27
            || e.Message.Contains("No space left", StringComparison.OrdinalIgnoreCase));
}
