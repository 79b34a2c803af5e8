using System.Globalization;
using System.Text;

namespace Pvp.Recipes;

/// <summary>One group's mean top-1 over its tasks (each task's own mean over seeds), for PVP and random init.</summary>
/// <param name="Group">The group's name (<c>group:</c> of its tasks).</param>
/// <param name="Tasks">Its tasks that have results, in recipe order.</param>
/// <param name="PvpMean">Mean over those tasks of their PVP-init top-1 (0–1), or null when none has PVP results.</param>
/// <param name="RandomMean">The same for random init, or null without a baseline.</param>
public sealed record GroupMean(string Group, IReadOnlyList<string> Tasks, double? PvpMean, double? RandomMean);

/// <summary>
/// The grouped view of a run's results, as VTAB-1k is reported: per-task top-1 (mean over seeds), each group's mean, and
/// two overall figures that published tables mix — the <b>mean over tasks</b> (every task weighs the same: VTAB's
/// 19-task mean) and the <b>mean of the group means</b> (every group weighs the same). Computed per init.
/// </summary>
public sealed class GroupSummary
{
    private static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;

    /// <summary>
    /// Groups <paramref name="results"/> by <paramref name="groups"/> (task → group, in the recipe's task order); tasks
    /// without a group or without results are left out.
    /// </summary>
    public GroupSummary(IReadOnlyList<CellResult> results, IReadOnlyList<KeyValuePair<string, string>> groups)
    {
        double? TaskMean(string task, string init)
        {
            var values = results.Where(r => r.Task == task && r.Init == init).Select(r => r.Top1).ToList();
            return values.Count == 0 ? null : values.Average();
        }
        var tasks = groups.Where(g => results.Any(r => r.Task == g.Key)).ToList();
        TaskMeans = tasks.ToDictionary(g => g.Key, g => (TaskMean(g.Key, "pvp"), TaskMean(g.Key, "random")), StringComparer.Ordinal);
        Groups = tasks.GroupBy(g => g.Value, StringComparer.Ordinal).Select(g =>
        {
            var names = g.Select(t => t.Key).ToList();
            return new GroupMean(g.Key, names, MeanOf(names.Select(n => TaskMeans[n].Pvp)), MeanOf(names.Select(n => TaskMeans[n].Random)));
        }).ToList();
        TaskOrder = tasks.Select(t => t.Key).ToList();
    }

    /// <summary>Each grouped task's mean top-1 over seeds, PVP and random init (null where that init has no result).</summary>
    public IReadOnlyDictionary<string, (double? Pvp, double? Random)> TaskMeans { get; }

    /// <summary>The tasks with results, in recipe order.</summary>
    public IReadOnlyList<string> TaskOrder { get; }

    /// <summary>Each group's mean, in the order groups first appear among the tasks.</summary>
    public IReadOnlyList<GroupMean> Groups { get; }

    /// <summary>The mean over tasks (each task weighs the same), PVP init; null without results.</summary>
    public double? PvpMeanOfTasks => MeanOf(TaskOrder.Select(t => TaskMeans[t].Pvp));

    /// <summary>The mean over tasks, random init.</summary>
    public double? RandomMeanOfTasks => MeanOf(TaskOrder.Select(t => TaskMeans[t].Random));

    /// <summary>The mean of the group means (each group weighs the same), PVP init.</summary>
    public double? PvpMeanOfGroups => MeanOf(Groups.Select(g => g.PvpMean));

    /// <summary>The mean of the group means, random init.</summary>
    public double? RandomMeanOfGroups => MeanOf(Groups.Select(g => g.RandomMean));

    private static double? MeanOf(IEnumerable<double?> values)
    {
        var present = values.Where(v => v is not null).Select(v => v!.Value).ToList();
        return present.Count == 0 ? null : present.Average();
    }

    /// <summary>The markdown section: a per-task table by group, then the group means and both overall means, labelled.</summary>
    /// <param name="expectedTasks">How many grouped tasks the recipe has, so that a partial run says what its means cover.</param>
    public string Markdown(int expectedTasks)
    {
        static string Pct(double? v) => v is { } x ? string.Create(Invariant, $"{100 * x:F2}") : "—";
        static string Diff(double? a, double? b) => a is { } x && b is { } y
            ? string.Create(Invariant, $"{(x - y >= 0 ? "+" : "−")}{100 * Math.Abs(x - y):F2}") : "—";
        var text = new StringBuilder("\n## By group\n\nTop-1 (%) on each task's test split, mean over seeds.\n\n");
        text.Append("| group | task | PVP init | random init | PVP − random |\n| --- | --- | ---: | ---: | ---: |\n");
        foreach (var g in Groups)
            foreach (string task in g.Tasks)
            {
                var (pvp, random) = TaskMeans[task];
                text.Append($"| {g.Group} | {task} | {Pct(pvp)} | {Pct(random)} | {Diff(pvp, random)} |\n");
            }
        text.Append("\n| mean | PVP init | random init | PVP − random |\n| --- | ---: | ---: | ---: |\n");
        foreach (var g in Groups)
            text.Append($"| {g.Group} ({g.Tasks.Count} task{(g.Tasks.Count == 1 ? "" : "s")}) | " +
                        $"{Pct(g.PvpMean)} | {Pct(g.RandomMean)} | {Diff(g.PvpMean, g.RandomMean)} |\n");
        text.Append($"| **mean over the {TaskOrder.Count} tasks** (each task weighs the same) | " +
                    $"{Pct(PvpMeanOfTasks)} | {Pct(RandomMeanOfTasks)} | {Diff(PvpMeanOfTasks, RandomMeanOfTasks)} |\n");
        text.Append($"| **mean of the {Groups.Count} group means** (each group weighs the same) | " +
                    $"{Pct(PvpMeanOfGroups)} | {Pct(RandomMeanOfGroups)} | {Diff(PvpMeanOfGroups, RandomMeanOfGroups)} |\n");
        if (TaskOrder.Count < expectedTasks)
            text.Append($"\nOnly {TaskOrder.Count} of the recipe's {expectedTasks} grouped tasks have results: the means cover those.\n");
        return text.ToString();
    }
}
