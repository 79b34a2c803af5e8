using Pvp.Recipe;

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
}
