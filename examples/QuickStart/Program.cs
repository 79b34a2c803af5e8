// The quick start: both PVP stages on the built-in dataset with a micro ViT, then the results table.
//
//   dotnet run --project examples/QuickStart                 # the full recipe (recipes/builtin.yaml), a few minutes on 2 cores
//   dotnet run --project examples/QuickStart -- --smoke      # a reduced run (few steps) that checks the whole path
//   dotnet run --project examples/QuickStart -- --output DIR # where the run folder goes (default runs/quickstart)
using System.Diagnostics;
using Pvp;
using Pvp.Recipes;

Pvp.Threading.OpenMpWaitPolicy.PreferPassive(); // before libtorch loads (see its doc: spinning threads starve the rest)
VariantRegistry.Load(typeof(Pvp.Models.VptDeepMicro).Assembly);
bool smoke = args.Contains("--smoke");
int outputIndex = Array.IndexOf(args, "--output");
string output = Path.GetFullPath(outputIndex >= 0 && outputIndex + 1 < args.Length ? args[outputIndex + 1] : Path.Combine("runs", smoke ? "quickstart-smoke" : "quickstart"));

var recipe = RecipeParser.Load(Path.Combine(AppContext.BaseDirectory, "builtin.yaml")) with { Output = output };
if (smoke)
{
    // Same path, a fraction of the work: tiny epochs, two shot counts, one seed.
    recipe = recipe with
    {
        BackbonePretrain = recipe.BackbonePretrain with { Epochs = 1 },
        Stage1 = recipe.Stage1 with { Epochs = 1 },
        Stage2 = recipe.Stage2 with { Shots = new[] { 1, 2 }, Seeds = new[] { 0 }, Settings = recipe.Stage2.Settings with { Epochs = 2 } },
    };
}

// Ctrl+C or SIGTERM: stop after the current step, with a checkpoint; running again continues.
using var signals = new StopSignals(Console.WriteLine);

var clock = Stopwatch.StartNew();
Console.WriteLine($"Pvp quick start: {recipe.Variant}, run folder {recipe.Output}{(smoke ? " (smoke run)" : "")}");
try
{
    var report = new PvpRunner(recipe, new ConsoleReporter(cellEpochs: false)).Run(signals.Token);
    Console.WriteLine();
    Console.WriteLine(report.Markdown($"{recipe.Variant} on the built-in dataset"));
    Console.WriteLine($"results: {Path.Combine(recipe.Output, "results.md")}, results.csv, accuracy_vs_shots.png ({clock.Elapsed.TotalMinutes:F1} min)");
}
catch (OperationCanceledException e)
{
    Console.WriteLine(e.Message);
    return signals.ExitCode == 0 ? 130 : signals.ExitCode;
}
return 0;
