using System.Runtime.InteropServices;
using Spectre.Console;

namespace Pvp.Cli;

/// <summary>
/// Ctrl+C (SIGINT) and SIGTERM — what Slurm, Kubernetes and systemd send before they kill — both stop a command after its
/// current step, with a checkpoint; running the same command again continues.
/// </summary>
internal sealed class Signals : IDisposable
{
    private readonly CancellationTokenSource cancel;
    private readonly PosixSignalRegistration? term;
    private readonly ConsoleCancelEventHandler interrupt;

    /// <summary>True once SIGTERM arrived (the exit code is then 143, not 130).</summary>
    public static bool Terminated { get; private set; }

    public Signals(CancellationToken outer)
    {
        cancel = CancellationTokenSource.CreateLinkedTokenSource(outer);
        interrupt = (_, e) =>
        {
            e.Cancel = true;
            Stop("Ctrl+C");
        };
        Console.CancelKeyPress += interrupt;
        if (!OperatingSystem.IsWindows())
            term = PosixSignalRegistration.Create(PosixSignal.SIGTERM, context =>
            {
                context.Cancel = true; // not the default exit: finish the step and write the checkpoint first
                Terminated = true;
                Stop("SIGTERM");
            });
    }

    /// <summary>Cancelled when a signal arrives.</summary>
    public CancellationToken Token => cancel.Token;

    private void Stop(string what)
    {
        if (cancel.IsCancellationRequested) return;
        cancel.Cancel();
        AnsiConsole.MarkupLine($"[yellow]{what}: stopping after the current step (a checkpoint is written)…[/]");
    }

    public void Dispose()
    {
        Console.CancelKeyPress -= interrupt;
        term?.Dispose();
        cancel.Dispose();
    }
}
