using Pvp.Recipes;

namespace Pvp.Tests.Recipe;

/// <summary>Claims: one holder at a time; a requeued Slurm job takes its earlier incarnation's claim, its siblings do not.</summary>
public sealed class CellClaimTests : IDisposable
{
    private readonly string folder = Directory.CreateTempSubdirectory("pvp-claim-").FullName;

    public void Dispose()
    {
        Environment.SetEnvironmentVariable("SLURM_JOB_ID", null);
        Environment.SetEnvironmentVariable("SLURM_RESTART_COUNT", null);
        Directory.Delete(folder, recursive: true);
    }

    [Fact]
    public void AFreshClaimIsHeldAndAnEarlierIncarnationOfTheJobIsTakenOver()
    {
        Environment.SetEnvironmentVariable("SLURM_JOB_ID", "4242");
        using var first = CellClaim.TryTake(folder, TimeSpan.FromMinutes(10), out _);
        Assert.NotNull(first);

        // Another process of the same allocation (same job id, same restart count) must not take a live claim.
        Assert.Null(CellClaim.TryTake(folder, TimeSpan.FromMinutes(10), out string heldBy));
        Assert.Contains($"process {Environment.ProcessId}", heldBy);

        // The job requeued by Slurm (its restart count went up): the earlier incarnation is gone, its claim is taken.
        Environment.SetEnvironmentVariable("SLURM_RESTART_COUNT", "1");
        using var second = CellClaim.TryTake(folder, TimeSpan.FromMinutes(10), out _);
        Assert.NotNull(second);
        Assert.Contains("\"restart\":1", File.ReadAllText(Path.Combine(folder, CellClaim.FileName)));
    }

    [Fact]
    public void ANoHeartbeatClaimIsStaleAfterTheTimeout()
    {
        using var held = CellClaim.TryTake(folder, TimeSpan.FromMinutes(10), out _);
        Assert.NotNull(held);
        File.SetLastWriteTimeUtc(Path.Combine(folder, CellClaim.FileName), DateTime.UtcNow.AddMinutes(-11));
        using var taken = CellClaim.TryTake(folder, TimeSpan.FromMinutes(10), out _);
        Assert.NotNull(taken);
    }

    [Fact]
    public void TheFirstHolderSeesItsClaimLostAndLeavesTheTakersClaimInPlace()
    {
        // Heartbeats every 500 ms: the first holder's next beat finds another process's claim in the file.
        var staleAfter = TimeSpan.FromSeconds(2);
        var first = CellClaim.TryTake(folder, staleAfter, out _);
        Assert.NotNull(first);
        Assert.False(first.Lost);
        string path = Path.Combine(folder, CellClaim.FileName);
        CellClaim? taker = null;
        for (int attempt = 0; taker is null && attempt < 20; attempt++)
        {
            File.SetLastWriteTimeUtc(path, DateTime.UtcNow.AddMinutes(-1)); // as if its heartbeat had stopped (a beat may refresh it: retry)
            taker = CellClaim.TryTake(folder, staleAfter, out _);
        }
        Assert.NotNull(taker);
        string takersClaim = File.ReadAllText(path);
        var waited = System.Diagnostics.Stopwatch.StartNew();
        while (!first.Lost && waited.Elapsed < TimeSpan.FromSeconds(10)) Thread.Sleep(50);
        Assert.True(first.Lost, "the first holder never noticed that its claim was taken over");
        first.Dispose();
        Assert.Equal(takersClaim, File.ReadAllText(path)); // the loser removes nothing that is not its own
        taker.Dispose();
        Assert.False(File.Exists(path));
    }
}
