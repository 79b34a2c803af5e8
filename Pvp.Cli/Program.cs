using System.Reflection;
using Pvp;
using Pvp.Cli;
using Pvp.Cli.Commands;
using Pvp.Cli.Commands.Submit;
using Spectre.Console.Cli;

// Before anything loads libtorch: its OpenMP threads sleep while waiting instead of spinning (see OpenMpWaitPolicy).
Pvp.Threading.OpenMpWaitPolicy.PreferPassive();

// Variants declared in Pvp.Models register themselves when their assembly loads; load it before any command runs.
VariantRegistry.Load(typeof(Pvp.Models.VptDeepB16).Assembly);

// Written to a file or a cluster log: no wrapping at 80 columns in the middle of paths and messages (help, which is
// laid out in columns, keeps a readable width).
if (Console.IsOutputRedirected)
{
    bool help = args.Length == 0 || args.Any(a => a is "-h" or "--help" or "-?");
    Spectre.Console.AnsiConsole.Profile.Width =
        int.TryParse(Environment.GetEnvironmentVariable("COLUMNS"), out int columns) && columns > 0
        ? columns : help ? 120 : 400;
}

string version = typeof(PetModel).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion
    .Split('+')[0] ?? "unknown";
Failure.Arguments = args;
var app = new CommandApp();
app.Configure(config =>
{
    config.SetApplicationName("pvp");
    config.SetApplicationVersion(version);
    config.SetExceptionHandler((e, _) => Failure.Report(e)); // the one place every failure ends
    config.UseStrictParsing(); // a misspelt option (--froce) is an error, not silently ignored
    config.AddCommand<RunCommand>("run").WithDescription("Run a recipe end to end: backbone (if needed), stage 1, " +
                                                         "stage 2, report.")
        .WithExample("run", "recipes/builtin.yaml");
    config.AddCommand<PretrainCommand>("pretrain")
        .WithDescription("Stage 1: pre-train the PETuning modules on the source data " +
                         "(after pre-training a backbone when the recipe gives no weights).");
    config.AddCommand<TuneCommand>("tune")
        .WithDescription("Stage 2: few-shot runs from the stage-1 modules and from random ones; all cells, a filter, " +
                         "or one --cell.")
        .WithExample("tune", "recipes/builtin.yaml", "--shots", "1", "--seed", "0")
        .WithExample("tune", "recipes/builtin.yaml", "--cell", "shapes/4shot-seed1-pvp");
    config.AddCommand<PlanCommand>("plan")
        .WithDescription("Print the recipe's cells (search included), each run's training steps and, from a few " +
                         "measured steps, each stage's time on this device and the total in device-hours; trains nothing.")
        .WithExample("plan", "recipes/builtin.yaml")
        .WithExample("plan", "recipes/paper-vitb16-fgvc.yaml", "--max-batch", "16", "--source-images", "1281167");
    config.AddBranch("submit", submit =>
    {
        submit.SetDescription("Submit the recipe's grid to a cluster: Slurm jobs or Kubernetes Jobs " +
                              "(stage 1, the cells, the report).");
        submit.AddCommand<SlurmCommand>("slurm")
            .WithDescription("Slurm: stage 1, a requeueable job array over the stage-2 cells (afterok), " +
                             "the report (afterany).")
            .WithExample("submit", "slurm", "recipes/paper-vitb16-fgvc.yaml", "--partition", "gpu", "--gpus-per-task",
                "1", "--time", "04:00:00");
        submit.AddCommand<KubernetesCommand>("kubernetes")
            .WithDescription("Kubernetes: the stage-1 Job, an Indexed Job over the cells and the report Job " +
                             "(written, or printed with --dry-run).")
            .WithExample("submit", "kubernetes", "recipes/builtin.yaml", "--dry-run");
    });
    config.AddCommand<StatusCommand>("status")
        .WithDescription("Show the run folder's cells: done, running, stale, failed, interrupted, missing " +
                         "(from the folder alone).");
    config.AddCommand<ReportCommand>("report")
        .WithDescription("Merge every finished cell of the run folder into results.csv, " +
                         "results.md and accuracy_vs_shots.png.");
    config.AddCommand<EvalCommand>("eval")
        .WithDescription("Evaluate a finished cell's saved model on its task's test split.");
    config.AddCommand<ExportCommand>("export")
        .WithDescription("Write a finished cell's model as ONNX, for ONNX Runtime without libtorch " +
                         "(class names and preprocessing in its metadata).")
        .WithExample("export", "recipes/builtin.yaml", "--cell", "shapes/16shot-seed0-pvp", "--onnx", "shapes.onnx");
    config.AddCommand<VariantsCommand>("variants").WithDescription("List the registered PETuning variants.");
    config.AddCommand<InspectCommand>("inspect").WithDescription("Print a variant's model card and optimizer groups.")
        .WithExample("inspect", "VptDeepB16", "--classes", "200");
});
return app.Run(args);
