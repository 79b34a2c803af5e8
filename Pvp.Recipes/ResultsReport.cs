using System.Globalization;
using System.Text;

namespace Pvp.Recipes;

/// <summary>One row of the summary: a task and shot count, PVP and random init over seeds.</summary>
public sealed record ShotSummary(string Task, int Shots, double PvpMean, double PvpStd, int PvpSeeds,
    double? RandomMean, double? RandomStd, int RandomSeeds)
{
    /// <summary>PVP minus random init, in accuracy points (0–1 scale), or null without a baseline.</summary>
    public double? Difference => RandomMean is { } r ? PvpMean - r : null;
}

/// <summary>
/// Stage 2's results: the CSV of every cell, the markdown table per shot (mean ± std over seeds), and a plot.
/// </summary>
/// <param name="results">The finished cells.</param>
/// <param name="unfinished">
/// The recipe's cells without a result, each with its state ("… failed: …"), named in the markdown.
/// </param>
public sealed class ResultsReport(IReadOnlyList<CellResult> results, IReadOnlyList<string>? unfinished = null)
{
    /// <summary>The recipe's cells that have no result yet, with their state.</summary>
    public IReadOnlyList<string> Unfinished { get; } = unfinished ?? Array.Empty<string>();

    private static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;

    /// <summary>
    /// Each grouped task's group (<c>group:</c>), in recipe order; with any, the markdown adds the grouped view
    /// (<see cref="GroupSummary"/>: group means, the mean over tasks and the mean of group means).
    /// </summary>
    public IReadOnlyList<KeyValuePair<string, string>> Groups { get; init; } = Array.Empty<KeyValuePair<string, string>>();

    /// <summary>The grouped view of the results, or null when no task has a group.</summary>
    public GroupSummary? Grouped() => Groups.Count == 0 ? null : new GroupSummary(Results, Groups);

    /// <summary>Every finished cell.</summary>
    public IReadOnlyList<CellResult> Results { get; } = results
        .OrderBy(r => r.Task, StringComparer.Ordinal)
        .ThenBy(r => r.Shots)
        .ThenBy(r => r.Seed)
        .ThenBy(r => r.Init, StringComparer.Ordinal)
        .ToList();

    /// <summary>Per task and shot count: mean and sample standard deviation of top-1 over seeds.</summary>
    public IReadOnlyList<ShotSummary> Summary() =>
        Results.GroupBy(r => (r.Task, r.Shots))
            .OrderBy(g => g.Key.Task, StringComparer.Ordinal)
            .ThenBy(g => g.Key.Shots)
            .Select(g =>
            {
                var pvp = g.Where(r => r.Init == "pvp").Select(r => r.Top1).ToList();
                var random = g.Where(r => r.Init == "random").Select(r => r.Top1).ToList();
                return new ShotSummary(g.Key.Task, g.Key.Shots, Mean(pvp), Std(pvp), pvp.Count,
                    random.Count > 0 ? Mean(random) : null, random.Count > 0 ? Std(random) : null, random.Count);
            }).ToList();

    /// <summary>
    /// "mean ± std" in percent; one seed has no spread to show, so it says n = 1 rather than a measured "± 0.0".
    /// </summary>
    private static string Spread(double mean, double std, int seeds) =>
        seeds == 1
            ? string.Create(Invariant, $"{100 * mean:F1} (n = 1)")
            : string.Create(Invariant, $"{100 * mean:F1} ± {100 * std:F1}");

    /// <summary>The markdown table.</summary>
    public string Markdown(string title)
    {
        var text = new StringBuilder($"## {title}\n\nTop-1 accuracy on each task's test split, " +
                                     "mean ± standard deviation over seeds.");
        var precisions = Results.Select(r => r.Precision).Distinct().Order(StringComparer.Ordinal).ToList();
        if (precisions.Count > 0)
            text.Append($" Frozen backbone in {string.Join(" and ", precisions)}{(precisions.Count > 1 ? " (cells differ)" : "")}.");
        text.Append('\n');
        foreach (var task in Summary().GroupBy(s => s.Task))
        {
            text.Append($"\n### {task.Key}\n\n| shots | PVP init | random init | PVP − random | seeds |\n| ---: " +
                        "| ---: | ---: | ---: | ---: |\n");
            foreach (var s in task)
            {
                string random = s.RandomMean is { } r ? Spread(r, s.RandomStd!.Value, s.RandomSeeds) : "—";
                string difference = s.Difference is { } d ? $"{(d >= 0 ? "+" : "−")}{100 * Math.Abs(d):F1}" : "—";
                string shots = s.Shots == 0 ? "all" : s.Shots.ToString(Invariant);
                string pvp = Spread(s.PvpMean, s.PvpStd, s.PvpSeeds);
                text.Append(Invariant, $"| {shots} | {pvp} | {random} | {difference} | {Math.Max(s.PvpSeeds, s.RandomSeeds)} |\n");
            }
        }
        if (Grouped() is { } grouped) text.Append(grouped.Markdown(Groups.Count));
        if (Unfinished.Count > 0)
        {
            text.Append($"\n**Not finished: {Unfinished.Count} of {Unfinished.Count + Results.Count} cells** " +
                        "(not in the table above):\n\n");
            foreach (string line in Unfinished) text.Append($"- {line}\n");
        }
        return text.ToString();
    }

    /// <summary>Writes results.csv, results.md and accuracy_vs_shots.png into <paramref name="folder"/>.</summary>
    public void Write(string folder, string title)
    {
        Directory.CreateDirectory(folder);
        var csv = new StringBuilder("task,shots,seed,init,top1,top5,loss,steps,seconds,precision\n");
        foreach (var r in Results)
            csv.Append(Invariant, $"{r.Task},{r.Shots},{r.Seed},{r.Init},{r.Top1:F6},{r.Top5:F6},{r.Loss:F6},{r.Steps},{r.Seconds:F1},{r.Precision}\n");
        File.WriteAllText(Path.Combine(folder, "results.csv"), csv.ToString());
        File.WriteAllText(Path.Combine(folder, "results.md"), Markdown(title));
        // Accuracy against shots has nothing to plot for whole-list tasks (VTAB-1k: shots 0).
        if (Results.Any(r => r.Shots > 0)) Plot(Path.Combine(folder, "accuracy_vs_shots.png"), title);
    }

    private void Plot(string path, string title)
    {
        var plot = new ScottPlot.Plot();
        var palette = new ScottPlot.Palettes.Category10();
        int colour = 0;
        var summary = Summary().Where(s => s.Shots > 0).ToList();
        foreach (var task in summary.GroupBy(s => s.Task))
        {
            var rows = task.ToList();
            double[] xs = rows.Select(s => Math.Log2(s.Shots)).ToArray();
            // Each task gets a pair of colours: PVP solid, random init dashed in the next colour.
            AddSeries(plot, xs, rows.Select(s => 100 * s.PvpMean).ToArray(), rows.Select(s => 100 * s.PvpStd).ToArray(),
                $"{task.Key}: PVP init", palette.GetColor(2 * colour), dashed: false);
            if (rows.All(s => s.RandomMean is not null))
                AddSeries(plot, xs, rows.Select(s => 100 * s.RandomMean!.Value).ToArray(),
                    rows.Select(s => 100 * s.RandomStd!.Value).ToArray(), $"{task.Key}: random init",
                    palette.GetColor(2 * colour + 1), dashed: true);
            colour++;
        }
        var shots = summary.Select(s => s.Shots).Distinct().OrderBy(s => s).ToArray();
        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericManual(
            shots.Select(s => Math.Log2(s)).ToArray(), shots.Select(s => s.ToString(Invariant)).ToArray());
        int seeds = summary.Max(s => Math.Max(s.PvpSeeds, s.RandomSeeds));
        // What the bars are, and over how many seeds: a reader of the picture alone must not take them for a confidence interval.
        plot.Axes.Bottom.Label.Text = seeds > 1
            ? $"shots per class (log2 axis); points: mean over {seeds} seeds, bars: ± 1 standard deviation"
            : "shots per class (log2 axis); one seed per point, so no spread is shown";
        plot.Axes.Left.Label.Text = "top-1 accuracy (%)";
        plot.Title(title);
        plot.ShowLegend(ScottPlot.Edge.Right); // beside the axes, where it covers no point
        plot.SavePng(path, 960, 500);
    }

    private static void AddSeries(ScottPlot.Plot plot, double[] xs, double[] ys, double[] errors, string label,
        ScottPlot.Color color, bool dashed)
    {
        var line = plot.Add.Scatter(xs, ys);
        line.LegendText = label;
        line.Color = color;
        line.LineWidth = 2;
        line.MarkerSize = 7;
        if (dashed) line.LinePattern = ScottPlot.LinePattern.Dashed;
        var bars = plot.Add.ErrorBar(xs, ys, errors);
        bars.Color = color;
    }

    private static double Mean(IReadOnlyList<double> values) => values.Count == 0 ? double.NaN : values.Average();

    private static double Std(IReadOnlyList<double> values)
    {
        if (values.Count < 2) return 0;
        double mean = values.Average();
        return Math.Sqrt(values.Sum(v => (v - mean) * (v - mean)) / (values.Count - 1));
    }
}
