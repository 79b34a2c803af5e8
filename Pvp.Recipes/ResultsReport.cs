using System.Globalization;
using System.Text;

namespace Pvp.Recipes;

/// <summary>One row of the summary: a task and shot count, PVP and random init over seeds.</summary>
public sealed record ShotSummary(string Task, int Shots, double PvpMean, double PvpStd, int PvpSeeds,
    double? RandomMean, double? RandomStd, int RandomSeeds)
{
    /// <summary>PVP minus random init, in accuracy points (0–1 scale), or null without a baseline.</summary>
    public double? Difference => RandomMean is { } r ? PvpMean - r : null;

    /// <summary>The variant of a <c>variants:</c> recipe's row (<see cref="CellResult.Variant"/>), or null.</summary>
    public string? Variant { get; init; }

    /// <summary>
    /// Parameters trained in the row's cells, head included, and the head's share, as their results record them (null
    /// when they do not: results of an older Pvp).
    /// </summary>
    public (long Trainable, long Head)? Parameters { get; init; }
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

    /// <summary>
    /// The grouped view of the results, or null when no task has a group, or for a <c>variants:</c> report (whose
    /// markdown groups each method's results apart: one method's means are never mixed with another's).
    /// </summary>
    public GroupSummary? Grouped() => Groups.Count == 0 || Variants.Count > 0 ? null : new GroupSummary(Results, Groups);

    /// <summary>
    /// The variants of a <c>variants:</c> recipe, in its order (<see cref="PvpRecipe.Variants"/>); with any, the markdown
    /// gives per task a methods × shots table and the plot one figure per task with a line per method
    /// (<see cref="Write"/>). Empty for a one-variant recipe.
    /// </summary>
    public IReadOnlyList<string> Variants { get; init; } = Array.Empty<string>();

    /// <summary>The one variant of a one-variant recipe: results.csv's <c>variant</c> for results that name none.</summary>
    public string? Variant { get; init; }

    /// <summary>The report's title for <paramref name="recipe"/>: its variant (or variants) and the comparison.</summary>
    public static string TitleOf(PvpRecipe recipe) =>
        recipe.NamesVariants
            ? $"{string.Join(", ", recipe.Variants)}: PVP vs random init"
            : $"{recipe.Variant}: PVP vs random init";

    private IReadOnlyList<CellResult>? ordered;

    /// <summary>Every finished cell (by variant in the recipe's order, then task, shots, seed and init).</summary>
    public IReadOnlyList<CellResult> Results => ordered ??= results
        .OrderBy(r => VariantOrder(r.Variant))
        .ThenBy(r => r.Variant ?? "", StringComparer.Ordinal)
        .ThenBy(r => r.Task, StringComparer.Ordinal)
        .ThenBy(r => r.Shots)
        .ThenBy(r => r.Seed)
        .ThenBy(r => r.Init, StringComparer.Ordinal)
        .ToList();

    private int VariantOrder(string? variant) =>
        variant is null ? -1 : Variants.ToList().IndexOf(variant) is >= 0 and var i ? i : Variants.Count;

    /// <summary>
    /// Per variant (in a <c>variants:</c> recipe), task and shot count: mean and sample standard deviation of top-1 over
    /// seeds.
    /// </summary>
    public IReadOnlyList<ShotSummary> Summary() =>
        Results.GroupBy(r => (r.Variant, r.Task, r.Shots))
            .OrderBy(g => VariantOrder(g.Key.Variant))
            .ThenBy(g => g.Key.Variant ?? "", StringComparer.Ordinal)
            .ThenBy(g => g.Key.Task, StringComparer.Ordinal)
            .ThenBy(g => g.Key.Shots)
            .Select(g =>
            {
                var pvp = g.Where(r => r.Init == "pvp").Select(r => r.Top1).ToList();
                var random = g.Where(r => r.Init == "random").Select(r => r.Top1).ToList();
                var counted = g.FirstOrDefault(r => r.TrainableParameters is not null && r.HeadParameters is not null);
                return new ShotSummary(g.Key.Task, g.Key.Shots, Mean(pvp), Std(pvp), pvp.Count,
                    random.Count > 0 ? Mean(random) : null, random.Count > 0 ? Std(random) : null, random.Count)
                {
                    Variant = g.Key.Variant,
                    Parameters = counted is null ? null : (counted.TrainableParameters!.Value, counted.HeadParameters!.Value),
                };
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
        if (Variants.Count > 0) return MethodsMarkdown(text);
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
        AppendUnfinished(text);
        return text.ToString();
    }

    private void AppendUnfinished(StringBuilder text)
    {
        if (Unfinished.Count > 0)
        {
            text.Append($"\n**Not finished: {Unfinished.Count} of {Unfinished.Count + Results.Count} cells** " +
                        "(not in the table above):\n\n");
            foreach (string line in Unfinished) text.Append($"- {line}\n");
        }
    }

    /// <summary>
    /// A <c>variants:</c> recipe's markdown: per task one methods × shots table, three rows per method (PVP init, random
    /// init, their difference) and its trainable parameters; then, with groups, each method's grouped view.
    /// </summary>
    private string MethodsMarkdown(StringBuilder text)
    {
        var summary = Summary();
        foreach (var task in summary.GroupBy(s => s.Task).OrderBy(g => g.Key, StringComparer.Ordinal))
        {
            var shots = task.Select(s => s.Shots).Distinct().Order().ToList();
            int seeds = task.Max(s => Math.Max(s.PvpSeeds, s.RandomSeeds));
            text.Append($"\n### {task.Key}\n\nTop-1 (%) by shots per class; up to {seeds} seed(s) per entry. " +
                        "Trainable: the parameters that train in the method's model, the task's head included " +
                        "(its share after the +).\n\n");
            text.Append("| method | trainable | init | " +
                        string.Join(" | ", shots.Select(k => k == 0 ? "all" : k.ToString(Invariant))) + " |\n");
            text.Append("| --- | ---: | --- |" + string.Concat(shots.Select(_ => " ---: |")) + "\n");
            var byVariant = task.GroupBy(s => s.Variant ?? Variant ?? "")
                .OrderBy(g => VariantOrder(g.Key)).ToList();
            foreach (var method in byVariant)
            {
                var row = method.ToDictionary(s => s.Shots);
                string Entry(int k, Func<ShotSummary, string> show) => row.TryGetValue(k, out var s) ? show(s) : "—";
                var counted = method.FirstOrDefault(s => s.Parameters is not null)?.Parameters;
                string trainable = counted is { } c
                    ? string.Create(Invariant, $"{c.Trainable - c.Head:N0} + {c.Head:N0}")
                    : "—";
                text.Append($"| {method.Key} | {trainable} | PVP | " +
                            string.Join(" | ", shots.Select(k => Entry(k, s => Spread(s.PvpMean, s.PvpStd, s.PvpSeeds)))) +
                            " |\n");
                if (method.Any(s => s.RandomMean is not null))
                {
                    text.Append("| | | random | " + string.Join(" | ", shots.Select(k => Entry(k, s =>
                        s.RandomMean is { } r ? Spread(r, s.RandomStd!.Value, s.RandomSeeds) : "—"))) + " |\n");
                    text.Append("| | | PVP − random | " + string.Join(" | ", shots.Select(k => Entry(k, s =>
                        s.Difference is { } d ? $"{(d >= 0 ? "+" : "−")}{(100 * Math.Abs(d)).ToString("F1", Invariant)}" : "—"))) +
                                " |\n");
                }
            }
        }
        if (Groups.Count > 0)
            foreach (string variant in Results.Select(r => r.Variant ?? Variant ?? "").Distinct()
                         .OrderBy(VariantOrder))
            {
                string grouped = new GroupSummary(Results.Where(r => (r.Variant ?? Variant ?? "") == variant).ToList(), Groups)
                    .Markdown(Groups.Count);
                text.Append(grouped.Replace("\n## By group\n", $"\n## By group: {variant}\n", StringComparison.Ordinal));
            }
        AppendUnfinished(text);
        return text.ToString();
    }

    /// <summary>
    /// Writes results.csv (a row per cell, its variant first), results.md and the plot into <paramref name="folder"/>:
    /// accuracy_vs_shots.png, or for a <c>variants:</c> recipe one figure per task with a line per method,
    /// <c>accuracy_vs_shots_{task}.png</c> (<see cref="PlotFiles"/>).
    /// </summary>
    public void Write(string folder, string title)
    {
        Directory.CreateDirectory(folder);
        var csv = new StringBuilder("variant,task,shots,seed,init,top1,top5,loss,steps,seconds,precision\n");
        foreach (var r in Results)
            csv.Append(Invariant, $"{r.Variant ?? Variant},{r.Task},{r.Shots},{r.Seed},{r.Init},{r.Top1:F6},{r.Top5:F6},{r.Loss:F6},{r.Steps},{r.Seconds:F1},{r.Precision}\n");
        File.WriteAllText(Path.Combine(folder, "results.csv"), csv.ToString());
        File.WriteAllText(Path.Combine(folder, "results.md"), Markdown(title));
        if (Variants.Count == 0)
        {
            // Accuracy against shots has nothing to plot for whole-list tasks (VTAB-1k: shots 0).
            if (Results.Any(r => r.Shots > 0)) Plot(Path.Combine(folder, "accuracy_vs_shots.png"), title);
            return;
        }
        // The methods are in the legend: the figure's title names the task and the comparison.
        foreach (var (task, file) in PlotFiles())
            MethodsPlot(Path.Combine(folder, file), task, $"{task}: PVP init (solid) vs random init (dashed), by method");
    }

    /// <summary>
    /// The plot files <see cref="Write"/> makes: <c>accuracy_vs_shots.png</c>, or for a <c>variants:</c> recipe one per
    /// task with shot counts, by task.
    /// </summary>
    public IReadOnlyList<(string Task, string File)> PlotFiles() =>
        Variants.Count == 0
            ? Results.Any(r => r.Shots > 0) ? new[] { ("", "accuracy_vs_shots.png") } : Array.Empty<(string, string)>()
            : Results.Where(r => r.Shots > 0).Select(r => r.Task).Distinct().Order(StringComparer.Ordinal)
                .Select(t => (t, $"accuracy_vs_shots_{t}.png")).ToList();

    /// <summary>
    /// One task's figure of a <c>variants:</c> recipe: a line per method from its PVP init (solid), its random init in
    /// the same colour (dashed), error bars ± 1 standard deviation over seeds.
    /// </summary>
    private void MethodsPlot(string path, string task, string title)
    {
        var plot = new ScottPlot.Plot();
        var palette = new ScottPlot.Palettes.Category10();
        var summary = Summary().Where(s => s.Task == task && s.Shots > 0).ToList();
        int colour = 0;
        foreach (var method in summary.GroupBy(s => s.Variant ?? Variant ?? "").OrderBy(g => VariantOrder(g.Key)))
        {
            var rows = method.OrderBy(s => s.Shots).ToList();
            double[] xs = rows.Select(s => Math.Log2(s.Shots)).ToArray();
            var color = palette.GetColor(colour++ % palette.Colors.Length);
            AddSeries(plot, xs, rows.Select(s => 100 * s.PvpMean).ToArray(), rows.Select(s => 100 * s.PvpStd).ToArray(),
                $"{method.Key}: PVP init", color, dashed: false);
            if (rows.All(s => s.RandomMean is not null))
                AddSeries(plot, xs, rows.Select(s => 100 * s.RandomMean!.Value).ToArray(),
                    rows.Select(s => 100 * s.RandomStd!.Value).ToArray(), $"{method.Key}: random init", color,
                    dashed: true);
        }
        Axes(plot, summary, title);
        plot.SavePng(path, 1200, 600); // wider than the one-method figure: its legend holds two lines per method
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
        Axes(plot, summary, title);
        plot.SavePng(path, 960, 500);
    }

    private static void Axes(ScottPlot.Plot plot, IReadOnlyList<ShotSummary> summary, string title)
    {
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
