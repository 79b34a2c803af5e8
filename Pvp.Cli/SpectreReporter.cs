using Pvp.Recipes;
using Pvp.Training;
using Spectre.Console;

namespace Pvp.Cli;

/// <summary>Shows each training run as a progress bar, and stage headers and lines above them.</summary>
internal sealed class SpectreReporter(ProgressContext context) : IRunReporter
{
    public void Stage(string title) => AnsiConsole.MarkupLineInterpolated($"[bold blue]==[/] [bold]{Pad(title, 3)}[/]");

    public void Info(string line) => Log(line);

    /// <summary>
    /// A line written above the live bars. It lands where the bars were drawn, and a shorter line would leave the rest
    /// of the bar's characters behind it (a setting then reads as another value); padded to the width, it leaves none.
    /// </summary>
    internal static void Log(string line) => AnsiConsole.WriteLine(Pad(line, 0));

    /// <summary>
    /// On a live terminal, <paramref name="line"/> padded to the width
    /// less <paramref name="prefix"/>; elsewhere (a log file) as it is.
    /// </summary>
    private static string Pad(string line, int prefix) =>
        AnsiConsole.Profile.Capabilities.Interactive && AnsiConsole.Profile.Capabilities.Ansi
            ? line.PadRight(Math.Max(0, AnsiConsole.Profile.Width - 1 - prefix))
            : line;

    public ITrainingObserver Observer(string run, bool gridCell) => new BarObserver(context, run);

    private sealed class BarObserver(ProgressContext context, string run) : ITrainingObserver
    {
        private ProgressTask? task;

        public void Started(string name, long firstStep, long totalSteps)
        {
            task = context.AddTask(Markup.Escape(run), maxValue: Math.Max(1, totalSteps));
            task.Value = firstStep;
        }

        public void Step(long step, double loss, double learningRate)
        {
            if (task is null) return;
            task.Value = step;
            task.Description = Markup.Escape($"{run}  loss {loss:F3}");
        }

        public void Message(string text)
        {
            if (!text.StartsWith("checkpoint", StringComparison.Ordinal)) Log($"  {run}: {text}");
        }
    }
}
