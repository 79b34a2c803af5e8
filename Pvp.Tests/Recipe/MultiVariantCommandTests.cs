using System.Diagnostics;
using Pvp.Recipes;

namespace Pvp.Tests.Recipe;

/// <summary>
/// The <c>pvp</c> commands on a <c>variants:</c> recipe: plan lists every variant's stage 1 and cells, tune takes
/// <c>--variant</c> and ids that name the variant (and says which form a recipe's ids take), status counts per variant.
/// </summary>
public sealed class MultiVariantCommandTests : IDisposable
{
    private readonly string folder = Directory.CreateTempSubdirectory("pvp-methods-cli-").FullName;

    static MultiVariantCommandTests() => VariantRegistry.Load(typeof(Pvp.Models.VptDeepMicro).Assembly);

    public void Dispose() => Directory.Delete(folder, recursive: true);

    private string WriteRecipe(string variants)
    {
        string path = Path.Combine(folder, "methods.yaml");
        File.WriteAllText(path, $"""
            {variants}
            output: run
            workers: 2
            backbone: {"{"} pretrain: {"{"} epochs: 1, batch: 16 {"}"} {"}"}
            source:
              builtin: {"{"} classes: 4, train_per_class: 4, test_per_class: 2 {"}"}
            stage1: {"{"} epochs: 1, lr: 0.01, batch: 16 {"}"}
            stage2:
              tasks:
                - name: shapes
                  builtin: {"{"} classes: 3, train_per_class: 2, test_per_class: 2 {"}"}
              shots: [1, 2]
              seeds: [0]
              epochs: 1
            """);
        return path;
    }

    private static (int Code, string Output) RunPvp(string arguments)
    {
        string dll = Directory.GetFiles(Numerics.TestTensors.RepoPath("Pvp.Cli/bin"), "pvp.dll", SearchOption.AllDirectories)
            .OrderByDescending(File.GetLastWriteTimeUtc).First();
        var start = new ProcessStartInfo("dotnet", $"\"{dll}\" {arguments}")
        {
            RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
        };
        start.Environment["COLUMNS"] = "400";
        using var process = Process.Start(start)!;
        var error = process.StandardError.ReadToEndAsync();
        string output = process.StandardOutput.ReadToEnd();
        Assert.True(process.WaitForExit(180_000), $"pvp {arguments} did not finish");
        return (process.ExitCode, output + error.Result);
    }

    [Fact]
    public void PlanTuneAndStatusCoverTheVariantDimension()
    {
        string recipe = WriteRecipe("variants: [VptDeepMicro, LoraMicro]");
        var runner = new PvpRunner(RecipeParser.Load(recipe), new Quiet());

        var (code, plan) = RunPvp($"plan \"{recipe}\" --no-timing");
        Assert.True(code == 0, plan);
        Assert.Contains("2 variant(s) VptDeepMicro, LoraMicro on one backbone, 8 stage-2 cells (2 variant(s) × 1 task(s)", plan);
        var lines = plan.Split('\n');
        foreach (var (cell, index) in runner.Cells().Select((c, i) => (c, i)))
            Assert.Contains(lines, l => l.TrimStart().StartsWith($"{index}  {cell.Id} ", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.Contains("stage 1 LoraMicro", StringComparison.Ordinal));
        Assert.Contains("stage 1: 2 training run(s)", plan);

        // Timed, stages 1 and 2 are timed on each variant's own model, a line each, and the total adds them up.
        (code, string timed) = RunPvp($"plan \"{recipe}\" --summary --steps 1 --warmup 0");
        Assert.True(code == 0, timed);
        foreach (string variant in new[] { "VptDeepMicro", "LoraMicro" })
        {
            Assert.Contains($"timing stage 1 of {variant}:", timed);
            Assert.Contains($"timing stage 2 of {variant}:", timed);
            Assert.Contains($"stage 1 {variant}: 1 training run(s)", timed);
            Assert.Contains($"stage 2 {variant}: 4 training run(s)", timed);
        }
        var timedLines = timed.Replace("\r", "").Split('\n');
        double Seconds(string line, string pattern) => double.Parse(
            System.Text.RegularExpressions.Regex.Match(line, pattern).Groups[1].Value,
            System.Globalization.CultureInfo.InvariantCulture);
        var stageLines = timedLines.Where(l => l.Contains(" s/step ", StringComparison.Ordinal)).ToList();
        Assert.Equal(5, stageLines.Count); // the backbone, then stage 1 and stage 2 of each variant
        var totalLine = timedLines.Single(l => l.StartsWith("total:", StringComparison.Ordinal));
        Assert.Equal(stageLines.Sum(l => Seconds(l, @"→ ([0-9.]+) s$")), Seconds(totalLine, @", ([0-9.]+) s = "), 0.5);

        // An id without the variant says what the recipe's ids look like; an unknown variant is named.
        (code, string bare) = RunPvp($"tune \"{recipe}\" --cell shapes/1shot-seed0-pvp");
        Assert.NotEqual(0, code);
        Assert.Contains("so its cell ids start with one, e.g. VptDeepMicro/shapes/1shot-seed0-pvp", bare);
        (code, string unknown) = RunPvp($"tune \"{recipe}\" --variant DoraMicro --list");
        Assert.NotEqual(0, code);
        Assert.Contains("--variant DoraMicro: the recipe runs VptDeepMicro, LoraMicro.", unknown);

        (code, string run) = RunPvp($"pretrain \"{recipe}\"");
        Assert.True(code == 0, run);
        (code, run) = RunPvp($"tune \"{recipe}\" --variant LoraMicro --shots 1");
        Assert.True(code == 0, run);
        (code, run) = RunPvp($"tune \"{recipe}\" --cell VptDeepMicro/shapes/2shot-seed0-random");
        Assert.True(code == 0, run);
        (code, string listed) = RunPvp($"tune \"{recipe}\" --variant LoraMicro --list");
        Assert.True(code == 0, listed);
        Assert.Contains("   4  LoraMicro/shapes/1shot-seed0-pvp  (done)", listed);
        Assert.Contains("   7  LoraMicro/shapes/2shot-seed0-random\n", listed.Replace("\r", ""));
        Assert.DoesNotContain("VptDeepMicro/", listed);

        (code, string status) = RunPvp($"status \"{recipe}\"");
        Assert.True(code == 0, status);
        Assert.Contains("stage 1 VptDeepMicro done, LoraMicro done; 8 cells: 3 done, 0 running, 0 stale, 0 failed, 0 interrupted, 5 missing", status);
        Assert.Contains("  VptDeepMicro: 4 cells: 1 done, 3 missing", status);
        Assert.Contains("  LoraMicro: 4 cells: 2 done, 2 missing", status);
        Assert.Contains("  VptDeepMicro/shapes/1shot-seed0-pvp missing", status);

        (code, string report) = RunPvp($"report \"{recipe}\"");
        Assert.True(code == 0, report);
        Assert.Contains("| LoraMicro |", report);
        Assert.Contains("accuracy_vs_shots_shapes.png", report);
        Assert.Contains("**Not finished: 5 of 8 cells**", report);
    }
}
