using System.Runtime.InteropServices;

namespace Pvp.Recipes;

/// <summary>
/// Ctrl+C (SIGINT) and SIGTERM — what Slurm, Kubernetes and systemd send before they kill — both cancel
/// <see cref="Token"/>, so a run stops after its current step with a checkpoint; running the same command again
/// continues. By convention the process then exits 130 after Ctrl+C and 143 after SIGTERM (<see cref="ExitCode"/>).
/// </summary>
public sealed class StopSignals : IDisposable
{
    private readonly CancellationTokenSource cancel;
    private readonly PosixSignalRegistration? term;
    private readonly ConsoleCancelEventHandler interrupt;
    private readonly Action<string> say;
    private int signal;

    /// <summary>Listens for both signals until disposed; <paramref name="say"/> is told when one arrives.</summary>
    public StopSignals(Action<string> say, CancellationToken outer = default)
    {
        this.say = say;
        cancel = CancellationTokenSource.CreateLinkedTokenSource(outer);
        interrupt = (_, e) =>
        {
            e.Cancel = true;
            Stop(130, "Ctrl+C");
        };
        Console.CancelKeyPress += interrupt;
        if (!OperatingSystem.IsWindows())
            term = PosixSignalRegistration.Create(PosixSignal.SIGTERM, context =>
            {
                context.Cancel = true; // not the default exit: finish the step and write the checkpoint first
                Stop(143, "SIGTERM");
            });
    }

    /// <summary>Cancelled when a signal arrives.</summary>
    public CancellationToken Token => cancel.Token;

    /// <summary>130 after Ctrl+C, 143 after SIGTERM, 0 while neither arrived.</summary>
    public int ExitCode => Volatile.Read(ref signal);

    /// <summary>
    /// While true (reading the recipe, building the user's project: nothing to checkpoint yet), a
    /// signal ends the process at once instead of waiting for a training step that may never come.
    /// </summary>
    public bool ExitAtOnce { get; set; }

    private void Stop(int code, string what)
    {
        if (Interlocked.CompareExchange(ref signal, code, 0) != 0)
        {
            // A second signal: the user will not wait for the step. Say what is lost, then go.
            say($"{what} again: exiting now; training since the last checkpoint is not saved " +
                "(the next run resumes from that checkpoint).");
            Environment.Exit(code);
        }
        if (ExitAtOnce)
        {
            say($"{what}: stopped before any training started; nothing needed saving.");
            Environment.Exit(code);
        }
        cancel.Cancel();
        say($"{what}: stopping after the current step (a checkpoint is written); {what} again exits at once…");
    }

    /// <inheritdoc />
    public void Dispose()
    {
        Console.CancelKeyPress -= interrupt;
        term?.Dispose();
        cancel.Dispose();
    }
}
