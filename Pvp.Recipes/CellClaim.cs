using System.Diagnostics;
using System.Text.Json;

namespace Pvp.Recipes;

/// <summary>
/// One process's claim on one stage-2 cell, so that any number of <c>pvp tune</c> processes on one run folder (a job
/// array, two terminals) run each cell once. The claim is a file created atomically (create-new) in the cell's folder,
/// naming the owner (host, process, start time); its modification time is the heartbeat, renewed while the cell runs. A
/// claim whose heartbeat is older than the stale timeout — or whose process is gone from this host, or that an earlier
/// run of the same scheduler job made (a requeued Slurm job keeps its <c>SLURM_JOB_ID</c>; a Kubernetes pod gets
/// <c>PVP_CLAIM_KEY</c> from its manifest) — is taken over.
/// </summary>
internal sealed class CellClaim : IDisposable
{
    /// <summary>The claim file's name in a cell's folder.</summary>
    public const string FileName = "claim.json";

    private readonly string path;
    private readonly string content;
    private readonly Timer heartbeat;
    private int lost;

    private CellClaim(string path, string content, TimeSpan staleAfter)
    {
        this.path = path;
        this.content = content;
        var period = TimeSpan.FromTicks(Math.Max(TimeSpan.FromMilliseconds(200).Ticks, staleAfter.Ticks / 4));
        heartbeat = new Timer(_ => Beat(), null, period, period);
    }

    /// <summary>
    /// True when another process took the claim over (this one's heartbeat stalled past the timeout).
    /// </summary>
    public bool Lost => Volatile.Read(ref lost) != 0;

    /// <summary>Claims the cell folder <paramref name="folder"/>, or returns null and says who holds it.</summary>
    public static CellClaim? TryTake(string folder, TimeSpan staleAfter, out string heldBy)
    {
        Directory.CreateDirectory(folder);
        string path = Path.Combine(folder, FileName);
        string mine = JsonSerializer.Serialize(new Dictionary<string, object>
        {
            ["host"] = Environment.MachineName, ["pid"] = Environment.ProcessId, ["started"] = DateTime.UtcNow.ToString("O"),
            ["nonce"] = Guid.NewGuid().ToString("N"), ["job"] = Job ?? "", ["restart"] = Restart,
        });
        for (int attempt = 0; attempt < 5; attempt++)
        {
            try
            {
                using (var stream = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.Read))
                using (var writer = new StreamWriter(stream)) writer.Write(mine);
                heldBy = "";
                return new CellClaim(path, mine, staleAfter);
            }
            catch (IOException)
            {
                if (!File.Exists(path)) continue; // released or moved aside just now: try again
                string current = ReadOrEmpty(path);
                if (!IsStale(path, current, staleAfter, out heldBy)) return null;
                // Take the stale claim over: move it aside (one mover
                // wins), check it is the one judged stale, then retry.
                string aside = $"{path}.stale.{Environment.ProcessId}.{Guid.NewGuid():N}";
                try
                {
                    File.Move(path, aside);
                }
                catch (IOException)
                {
                    continue; // another process moved it first
                }
                if (ReadOrEmpty(aside) != current)
                {
                    // A fresh claim slipped in between: put it back and leave the cell to its owner.
                    try { File.Move(aside, path); } catch (IOException) { File.Delete(aside); }
                    heldBy = Describe(current);
                    return null;
                }
                File.Delete(aside);
            }
        }
        heldBy = "(several processes contend for it)";
        return null;
    }

    /// <summary>
    /// Whether a live process holds <paramref name="folder"/>'s claim (its heartbeat is fresh
    /// and, on this host, its process is alive): what <c>pvp status</c> reports as running.
    /// </summary>
    public static bool IsHeld(string folder, TimeSpan staleAfter, out string heldBy)
    {
        heldBy = "";
        string path = Path.Combine(folder, FileName);
        string content;
        try { content = File.ReadAllText(path); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return false; }
        return !IsStale(path, content, staleAfter, out heldBy);
    }

    private static bool IsStale(string path, string content, TimeSpan staleAfter, out string heldBy)
    {
        heldBy = Describe(content);
        DateTime beat;
        try { beat = File.GetLastWriteTimeUtc(path); }
        catch (IOException) { return false; }
        if (DateTime.UtcNow - beat > staleAfter) return true;
        // On this host a dead owner needs no timeout (kill -9, a crash); nor does an earlier run of this same
        // scheduler job, which the scheduler has ended before starting this one (a requeue, a preemption).
        try
        {
            using var document = JsonDocument.Parse(content);
            // An earlier incarnation of this scheduler job: Slurm counts requeues (SLURM_RESTART_COUNT), so a claim of
            // the same job with a lower count is one Slurm has already ended; processes of one allocation share the job
            // id but not more, so they never take each other's live claims. PVP_CLAIM_KEY (one pod per index at a time)
            // needs no count.
            if (Job is { } job && document.RootElement.TryGetProperty("job", out var owner) && owner.GetString() == job)
            {
                bool keyed = Environment.GetEnvironmentVariable("PVP_CLAIM_KEY") is { Length: > 0 };
                int theirs = document.RootElement.TryGetProperty("restart", out var r) && r.TryGetInt32(out int n) ? n : 0;
                if (keyed || theirs < Restart) return true;
            }
            if (document.RootElement.GetProperty("host").GetString() == Environment.MachineName)
            {
                int pid = document.RootElement.GetProperty("pid").GetInt32();
                if (pid != Environment.ProcessId && !IsAlive(pid)) return true;
            }
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException)
        {
            // Being written right now (create-new, then the content): a fresh claim.
        }
        return false;
    }

    /// <summary>
    /// The scheduler job this process runs as (<c>PVP_CLAIM_KEY</c>, else Slurm's <c>SLURM_JOB_ID</c>), or null.
    /// </summary>
    private static string? Job =>
        Environment.GetEnvironmentVariable("PVP_CLAIM_KEY") is { Length: > 0 } key ? key
        : Environment.GetEnvironmentVariable("SLURM_JOB_ID") is { Length: > 0 } slurm ? "slurm:" + slurm : null;

    /// <summary>How often Slurm has restarted this job (<c>SLURM_RESTART_COUNT</c>; 0 on its first run).</summary>
    private static int Restart
        => int.TryParse(Environment.GetEnvironmentVariable("SLURM_RESTART_COUNT"), out int count) ? count : 0;

    private static bool IsAlive(int pid)
    {
        try
        {
            using var process = Process.GetProcessById(pid);
            return !process.HasExited;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }

    private static string Describe(string content)
    {
        try
        {
            using var document = JsonDocument.Parse(content);
            var root = document.RootElement;
            return $"process {root.GetProperty("pid").GetInt32()} on {root.GetProperty("host").GetString()} " +
                   $"(since {root.GetProperty("started").GetString()})";
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException)
        {
            return "another process (its claim is being written)";
        }
    }

    private static string ReadOrEmpty(string path)
    {
        try { return File.ReadAllText(path); }
        catch (IOException) { return ""; }
    }

    private void Beat()
    {
        if (Lost) return;
        try
        {
            // A read that fails is a missed beat (a flaky shared
            // filesystem, a contender's brief rename), not a lost claim.
            if (File.ReadAllText(path) != content)
            {
                Interlocked.Exchange(ref lost, 1);
                return;
            }
            File.SetLastWriteTimeUtc(path, DateTime.UtcNow);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // A missed beat; the next one retries.
        }
    }

    /// <summary>Stops the heartbeat and removes the claim if it is still this process's.</summary>
    public void Dispose()
    {
        heartbeat.Dispose();
        if (!Lost && ReadOrEmpty(path) == content)
        {
            try { File.Delete(path); }
            catch (IOException) { /* gone already */ }
        }
    }
}
