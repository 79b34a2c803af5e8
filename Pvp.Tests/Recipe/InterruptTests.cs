using System.Diagnostics;

namespace Pvp.Tests.Recipe;

/// <summary>
/// Ctrl+C on the real quick-start process: it saves a checkpoint and exits with 130; running the same command again
/// resumes from that checkpoint and finishes.
/// </summary>
public sealed class InterruptTests : IDisposable
{
    private readonly string output = Directory.CreateTempSubdirectory("pvp-interrupt-").FullName;

    public void Dispose() => Directory.Delete(output, recursive: true);

    private static string QuickStartDll()
    {
        string? dll = Directory.GetFiles(Numerics.TestTensors.RepoPath("examples/QuickStart/bin"), "QuickStart.dll", SearchOption.AllDirectories)
            .OrderByDescending(File.GetLastWriteTimeUtc).FirstOrDefault();
        return dll ?? throw new InvalidOperationException("Build the solution first: examples/QuickStart has no QuickStart.dll.");
    }

    private Process Start()
    {
        // A test run started as a background job of a non-interactive shell (or under nohup) has SIGINT ignored, and a child
        // inherits that (as it should): env resets it to the default, so the child hears Ctrl+C however this run was started.
        var start = new ProcessStartInfo("env", $"--default-signal=INT dotnet \"{QuickStartDll()}\" --smoke --output \"{output}\"")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        return Process.Start(start)!;
    }

    [Fact]
    public void SigintSavesACheckpointAndTheSameCommandContinues()
    {
        string interrupted;
        using (var first = Start())
        {
            // Signal once training has begun (the first stage header), then collect everything it says.
            string? line;
            var seen = new List<string>();
            while ((line = first.StandardOutput.ReadLine()) is not null)
            {
                seen.Add(line);
                if (line.StartsWith("== ", StringComparison.Ordinal))
                {
                    Thread.Sleep(300);
                    using var kill = Process.Start("/bin/sh", $"-c \"kill -INT {first.Id}\""); // the shell builtin: no procps needed
                    kill.WaitForExit();
                    break;
                }
            }
            seen.Add(first.StandardOutput.ReadToEnd());
            first.WaitForExit(60_000);
            interrupted = string.Join("\n", seen);
            Assert.True(first.ExitCode == 130, $"exit code {first.ExitCode}; output:\n{interrupted}\n{first.StandardError.ReadToEnd()}");
        }
        Assert.Contains("Interrupted during", interrupted);
        Assert.Contains("Run the same command again to continue", interrupted);
        var pointers = Directory.GetFiles(output, "latest.json", SearchOption.AllDirectories);
        Assert.NotEmpty(pointers);

        using var second = Start();
        string resumed = second.StandardOutput.ReadToEnd();
        second.WaitForExit(120_000);
        Assert.True(second.ExitCode == 0, $"exit code {second.ExitCode}; output:\n{resumed}\n{second.StandardError.ReadToEnd()}");
        Assert.True(File.Exists(Path.Combine(output, "results.md")));
        // The run that was interrupted logged it, and the second command resumed that same run.
        var logs = Directory.GetFiles(output, "metrics.jsonl", SearchOption.AllDirectories).Select(File.ReadAllText).ToList();
        string metrics = Assert.Single(logs, l => l.Contains("\"event\":\"interrupted\"", StringComparison.Ordinal));
        Assert.Contains("\"event\":\"resume\"", metrics);
    }
}
