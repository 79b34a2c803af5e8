using Pvp.Recipes;

namespace Pvp.Tests.Recipe;

/// <summary>The report of a <c>variants:</c> recipe from results alone: the methods table, figures, CSV and groups.</summary>
public sealed class MethodsReportTests : IDisposable
{
    private readonly string folder = Directory.CreateTempSubdirectory("pvp-methods-report-").FullName;

    public void Dispose() => Directory.Delete(folder, recursive: true);

    private static CellResult Result(string variant, string task, int shots, int seed, string init, double top1) =>
        new(task, shots, seed, init, top1, Math.Min(1, top1 + 0.05), 0.5, 10, 1.0)
        {
            Variant = variant, TrainableParameters = variant == "LoraMicro" ? 1_218 : 4_170, HeadParameters = 650,
        };

    [Fact]
    public void EachTaskHasAMethodsByShotsTableAndAFigure()
    {
        var results = new List<CellResult>();
        foreach (var (variant, offset) in new[] { ("LoraMicro", 0.0), ("VptDeepMicro", 0.1) })
            foreach (string task in new[] { "shapes", "dots" })
                foreach (int shots in new[] { 1, 4 })
                    foreach (int seed in new[] { 0, 1 })
                    {
                        results.Add(Result(variant, task, shots, seed, "pvp", 0.6 + offset + 0.02 * seed));
                        results.Add(Result(variant, task, shots, seed, "random", 0.5 + offset + 0.02 * seed));
                    }
        var report = new ResultsReport(results)
        {
            Variants = new[] { "VptDeepMicro", "LoraMicro" },
            Groups = new[] { KeyValuePair.Create("shapes", "natural"), KeyValuePair.Create("dots", "structured") },
        };
        string md = report.Markdown("methods");
        // The recipe's order of methods, a table per task, three rows per method.
        Assert.True(md.IndexOf("| VptDeepMicro | 3,520 + 650 | PVP | 71.0 ± 1.4 | 71.0 ± 1.4 |", StringComparison.Ordinal)
                    < md.IndexOf("| LoraMicro | 568 + 650 | PVP | 61.0 ± 1.4 |", StringComparison.Ordinal), md);
        Assert.Contains("| | | random | 51.0 ± 1.4 | 51.0 ± 1.4 |", md);
        Assert.Contains("| | | PVP − random | +10.0 | +10.0 |", md);
        Assert.Contains("### dots", md);
        Assert.Contains("### shapes", md);
        Assert.Contains("| method | trainable | init | 1 | 4 |", md);
        // Groups per method: one method's means are not mixed with another's.
        Assert.Contains("## By group: VptDeepMicro", md);
        Assert.Contains("## By group: LoraMicro", md);
        Assert.Null(report.Grouped());
        Assert.Equal(4, report.Summary().Count(s => s.Variant == "LoraMicro"));

        report.Write(folder, "methods");
        Assert.Equal(new[] { ("dots", "accuracy_vs_shots_dots.png"), ("shapes", "accuracy_vs_shots_shapes.png") }, report.PlotFiles());
        foreach (var (_, file) in report.PlotFiles()) Assert.True(new FileInfo(Path.Combine(folder, file)).Length > 1000);
        var csv = File.ReadAllLines(Path.Combine(folder, "results.csv"));
        Assert.StartsWith("variant,task,", csv[0]);
        Assert.StartsWith("VptDeepMicro,dots,1,0,pvp,", csv[1]);
        Assert.Equal(33, csv.Length);
    }

    [Fact]
    public void AOneVariantReportKeepsItsTableAndFillsTheVariantColumn()
    {
        var results = new[] { new CellResult("shapes", 1, 0, "pvp", 0.8, 0.9, 0.4, 5, 1), new CellResult("shapes", 1, 0, "random", 0.7, 0.9, 0.4, 5, 1) };
        var report = new ResultsReport(results) { Variant = "VptDeepMicro" };
        Assert.Contains("| shots | PVP init | random init | PVP − random | seeds |", report.Markdown("t"));
        report.Write(folder, "t");
        Assert.Equal("VptDeepMicro,shapes,1,0,pvp,0.800000,0.900000,0.400000,5,1.0,float32",
            File.ReadAllLines(Path.Combine(folder, "results.csv"))[1]);
        Assert.True(File.Exists(Path.Combine(folder, "accuracy_vs_shots.png")));
        Assert.Equal(new[] { ("", "accuracy_vs_shots.png") }, report.PlotFiles());
    }
}
