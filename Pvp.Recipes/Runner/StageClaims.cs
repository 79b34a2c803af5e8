using System.Text.Json;

namespace Pvp.Recipes.Runner;

/// <summary>
/// How a stage (the backbone pre-training, stage 1) knows it is done and keeps to one process: the sidecar record it
/// writes when it ends, with the SHA-256 of the file it made, and a claim on its folder that other processes wait on.
/// </summary>
internal sealed class StageClaims(RunContext run)
{
    /// <summary>The key of a stage's sidecar that records the SHA-256 of the file the stage wrote.</summary>
    public const string OutputHashKey = "sha256";

    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    /// <summary>
    /// Claims a stage's folder so that one process trains it; returns null when it is done (here or by another
    /// process). Another process holding the claim is waited for, since everything after the stage needs it.
    /// </summary>
    public CellClaim? Claim(string folder, Func<bool> done, string what, CancellationToken cancellationToken)
    {
        bool said = false;
        while (true)
        {
            if (done()) return null;
            var claim = CellClaim.TryTake(folder, run.ClaimStaleAfter, out string heldBy);
            if (claim is not null)
            {
                if (!done()) return claim;
                claim.Dispose();
                return null;
            }
            if (!said) run.Reporter.Info($"{what}: {heldBy} is running it; waiting for it to finish");
            said = true;
            cancellationToken.WaitHandle.WaitOne(TimeSpan.FromSeconds(2));
            cancellationToken.ThrowIfCancellationRequested();
        }
    }

    /// <summary>
    /// A stage is done when its sidecar says so and the file it wrote is there with the bytes it wrote (sidecars of an
    /// older Pvp record no hash: then the file's presence counts). Otherwise it runs again, and says why (unless
    /// <paramref name="what"/> is null: a question, not a run).
    /// </summary>
    public bool Done(string sidecar, string file, string? what)
    {
        if (!File.Exists(sidecar)) return false;
        if (!File.Exists(file))
        {
            Say(what, $"'{file}' is missing although '{sidecar}' records the stage as done; running it again");
            return false;
        }
        string? recorded = null;
        try
        {
            using var document = JsonDocument.Parse(File.ReadAllText(sidecar));
            if (document.RootElement.ValueKind == JsonValueKind.Object &&
                document.RootElement.TryGetProperty(OutputHashKey, out var hash))
                recorded = hash.GetString();
        }
        catch (JsonException)
        {
            Say(what, $"its record '{sidecar}' is unreadable; running it again");
            return false;
        }
        if (recorded is null || recorded == Fingerprint.HashFile(file)) return true;
        Say(what, $"'{file}' is not the file the stage wrote (its SHA-256 differs from '{sidecar}'); running it again");
        return false;
    }

    /// <summary>Writes a stage's sidecar record, whole or not at all.</summary>
    public static void WriteRecord(string path, object value) =>
        Checkpoints.AtomicFile.Write(path, temp => File.WriteAllText(temp, JsonSerializer.Serialize(value, Indented)));

    private void Say(string? what, string line)
    {
        if (what is not null) run.Reporter.Info($"{what}: {line}");
    }
}
