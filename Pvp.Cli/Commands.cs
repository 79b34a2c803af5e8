using System.ComponentModel;
using Pvp.Checkpoints;
using Pvp.Data;
using Pvp.Recipe;
using Pvp.Training;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Pvp.Cli;

/// <summary>Settings of every command that looks variants up: the user's assemblies or projects that declare more.</summary>
public class VariantSettings : CommandSettings
{
    /// <summary>Assemblies or projects whose variants are loaded besides the catalog's.</summary>
    [CommandOption("-a|--assembly <PATH>")]
    [Description("An assembly (.dll), project (.csproj) or project folder that declares your own variants; repeat for more. A recipe can name them under 'assemblies:'.")]
    public string[] Assemblies { get; init; } = Array.Empty<string>();

    /// <summary>Loads <see cref="Assemblies"/> (building projects), telling the console what was found.</summary>
    public void LoadAssemblies()
    {
        foreach (var path in Assemblies) VariantSources.Load(path, line => AnsiConsole.WriteLine(line));
    }
}

/// <summary>Settings of the commands that take a recipe file.</summary>
public class RecipeSettings : VariantSettings
{
    /// <summary>The recipe.</summary>
    [CommandArgument(0, "<recipe>")]
    [Description("The YAML recipe file (see recipes/).")]
    public string Recipe { get; init; } = "";

    /// <summary>Overrides the recipe's output folder.</summary>
    [CommandOption("-o|--output <DIR>")]
    [Description("Run folder; overrides the recipe's 'output'.")]
    public string? Output { get; init; }

    /// <summary>Overrides the recipe's device.</summary>
    [CommandOption("-d|--device <DEVICE>")]
    [Description("auto, cpu, cuda or cuda:N; overrides the recipe's 'device'.")]
    public string? Device { get; init; }

    /// <summary>Redo stages and cells that another recipe made.</summary>
    [CommandOption("--force")]
    [Description("Redo the stages and cells whose recorded fingerprint (variant, data, settings, weights…) differs from the recipe's; their old files are kept beside, renamed. Without it such a run folder is an error that names the differences.")]
    public bool Force { get; init; }

    /// <summary>Overrides the recipe's backbone precision.</summary>
    [CommandOption("-p|--precision <PRECISION>")]
    [Description("auto, float32 or bf16; overrides the recipe's 'precision' (bf16 only for variants declared with Precision = BackboneBf16).")]
    public string? Precision { get; init; }

    /// <summary>The recipe with command-line overrides applied.</summary>
    public PvpRecipe Load()
    {
        LoadAssemblies();
        var recipe = RecipeParser.Load(Recipe);
        VariantSources.Load(recipe); // the recipe's assemblies: reading it builds and loads nothing
        if (Output is not null) recipe = recipe with { Output = Path.GetFullPath(Output) };
        if (Device is not null) recipe = recipe with { Device = Device };
        if (Precision is not null)
        {
            var precision = Pvp.Precision.BackbonePrecisionNames.Parse(Precision)
                            ?? throw new ArgumentException($"--precision: expected {Pvp.Precision.BackbonePrecisionNames.Expected}, got '{Precision}'.");
            if (precision == Pvp.Precision.BackbonePrecision.Bf16 && !VariantRegistry.Describe(recipe.Variant).AllowsBf16Backbone)
                throw new ArgumentException($"--precision bf16: {recipe.Variant} allows float32 only (declare it with Precision = PrecisionPlan.BackboneBf16).");
            recipe = recipe with { Precision = precision };
        }
        return recipe;
    }
}

/// <summary>Shared error handling and Ctrl+C for recipe commands.</summary>
public abstract class RecipeCommand<TSettings> : Command<TSettings> where TSettings : RecipeSettings
{
    /// <inheritdoc />
    public override int Execute(CommandContext context, TSettings settings, CancellationToken cancellationToken)
    {
        using var signals = new StopSignals(line => AnsiConsole.MarkupLineInterpolated($"[yellow]{line}[/]"), cancellationToken) { ExitAtOnce = true };
        try
        {
            var recipe = settings.Load(); // may build the user's project: a signal ends it at once
            signals.ExitAtOnce = false;
            return Run(recipe, settings, signals.Token);
        }
        catch (OperationCanceledException e) when (signals.ExitCode != 0)
        {
            AnsiConsole.MarkupLineInterpolated($"[yellow]{e.Message}[/]");
            return signals.ExitCode;
        }
        catch (Exception e)
        {
            return Failure.Report(e);
        }
    }

    /// <summary>The command's work.</summary>
    protected abstract int Run(PvpRecipe recipe, TSettings settings, CancellationToken cancellationToken);

    /// <summary>Runs <paramref name="work"/> with a live progress display: one bar per training run.</summary>
    protected static T WithProgress<T>(Func<IRunReporter, T> work) =>
        AnsiConsole.Progress()
            .AutoClear(false)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn(), new SpinnerColumn())
            .Start(context => work(new SpectreReporter(context)));

    /// <summary>Prints the markdown results table.</summary>
    protected static void PrintReport(ResultsReport report, PvpRecipe recipe)
    {
        AnsiConsole.WriteLine();
        AnsiConsole.WriteLine(report.Markdown($"{recipe.Variant}: PVP vs random init"));
        AnsiConsole.MarkupLineInterpolated($"results in [bold]{recipe.Output}[/]: results.csv, results.md, accuracy_vs_shots.png");
    }
}

/// <summary><c>pvp run</c>.</summary>
public sealed class RunCommand : RecipeCommand<RecipeSettings>
{
    /// <inheritdoc />
    protected override int Run(PvpRecipe recipe, RecipeSettings settings, CancellationToken cancellationToken)
    {
        var report = WithProgress(reporter => new PvpRunner(recipe, reporter) { Force = settings.Force }.Run(cancellationToken));
        PrintReport(report, recipe);
        return 0;
    }
}

/// <summary><c>pvp pretrain</c>.</summary>
public sealed class PretrainCommand : RecipeCommand<RecipeSettings>
{
    /// <inheritdoc />
    protected override int Run(PvpRecipe recipe, RecipeSettings settings, CancellationToken cancellationToken)
    {
        WithProgress(reporter =>
        {
            new PvpRunner(recipe, reporter) { Force = settings.Force }.Pretrain(cancellationToken);
            return 0;
        });
        return 0;
    }
}

/// <summary>Settings of <c>pvp tune</c>.</summary>
public sealed class TuneSettings : RecipeSettings
{
    /// <summary>One cell by id.</summary>
    [CommandOption("--cell <ID>")]
    [Description("Run only this cell, e.g. shapes/4shot-seed1-pvp (ids are deterministic: spread cells over machines, then merge their folders).")]
    public string? Cell { get; init; }

    /// <summary>Only this task.</summary>
    [CommandOption("--task <NAME>")]
    public string? Task { get; init; }

    /// <summary>Only this shot count.</summary>
    [CommandOption("--shots <K>")]
    public int? Shots { get; init; }

    /// <summary>Only this seed.</summary>
    [CommandOption("--seed <S>")]
    public int? Seed { get; init; }

    /// <summary>Only PVP or only random init.</summary>
    [CommandOption("--init <pvp|random>")]
    public string? Init { get; init; }

    /// <summary>One cell by its index in the recipe's order (what a job array's task id gives).</summary>
    [CommandOption("--index <I>")]
    [Description("Run only the cell at this index of the recipe's deterministic cell order (0-based; SLURM_ARRAY_TASK_ID, JOB_COMPLETION_INDEX).")]
    public int? Index { get; init; }

    /// <summary>List the cells instead of running them.</summary>
    [CommandOption("--list")]
    [Description("Print the cell ids (and whether each has finished) instead of running them.")]
    public bool List { get; init; }
}

/// <summary><c>pvp tune</c>.</summary>
public sealed class TuneCommand : RecipeCommand<TuneSettings>
{
    /// <inheritdoc />
    protected override int Run(PvpRecipe recipe, TuneSettings s, CancellationToken cancellationToken)
    {
        if (s.Index is { } index)
        {
            // A cell another process holds is left to it (the runner says so): not a failure.
            WithProgress(reporter => new PvpRunner(recipe, reporter) { Force = s.Force }.RunCell(index, cancellationToken));
            return 0;
        }
        var only = s.Cell is null ? null : GridCell.Parse(s.Cell);
        bool Keep(GridCell c) => (only is null || c == only) && (s.Task is null || c.Task == s.Task) && (s.Shots is null || c.Shots == s.Shots)
                                 && (s.Seed is null || c.Seed == s.Seed) && (s.Init is null || c.Init == s.Init);
        var runner = new PvpRunner(recipe) { Force = s.Force };
        var cells = runner.Cells().Where(Keep).ToList();
        if (cells.Count == 0) throw new ArgumentException("No cell of the recipe matches the filter; 'pvp tune RECIPE --list' shows them.");
        if (s.List)
        {
            var all = runner.Cells().ToList();
            foreach (var cell in cells)
            {
                // What status says of it: done only when the result is this recipe's (its fingerprint matches).
                var state = RunStatus.Of(runner, cell).State;
                string mark = state == CellState.Missing ? "" : $"  ({state.ToString().ToLowerInvariant()})";
                AnsiConsole.WriteLine($"{all.IndexOf(cell),4}  {cell.Id}{mark}");
            }
            return 0;
        }
        // Cells that other processes hold are theirs to finish: the runner names them; not an error.
        WithProgress(reporter => new PvpRunner(recipe, reporter) { Force = s.Force }.Tune(Keep, cancellationToken));
        return 0;
    }
}

/// <summary>Settings of <c>pvp report</c>.</summary>
public sealed class ReportSettings : RecipeSettings
{
    /// <summary>Re-evaluate every finished cell and compare with its result.</summary>
    [CommandOption("--verify")]
    [Description("Re-evaluate every finished cell's saved model on its test images and compare with its result.json; exit 1 naming each cell that differs.")]
    public bool Verify { get; init; }
}

/// <summary><c>pvp report</c>.</summary>
public sealed class ReportCommand : RecipeCommand<ReportSettings>
{
    /// <inheritdoc />
    protected override int Run(PvpRecipe recipe, ReportSettings settings, CancellationToken cancellationToken)
    {
        if (settings.Verify)
        {
            var (differences, count) = new PvpRunner(recipe, new ConsoleReporter()).Verify(cancellationToken);
            foreach (string line in differences) AnsiConsole.MarkupLineInterpolated($"[red]differs:[/] {line}");
            AnsiConsole.WriteLine($"verified {count} cell(s): {(differences.Count == 0 ? "every result matches its model" : $"{differences.Count} differ")}");
            if (differences.Count > 0) return 1;
        }
        var report = new PvpRunner(recipe) { Force = settings.Force }.Report();
        if (report.Results.Count == 0) AnsiConsole.MarkupLine("[yellow]no finished cells yet[/]");
        PrintReport(report, recipe);
        return 0;
    }
}

/// <summary>Settings of <c>pvp eval</c>.</summary>
public sealed class EvalSettings : RecipeSettings
{
    /// <summary>The cell to evaluate.</summary>
    [CommandOption("--cell <ID>")]
    [Description("A finished cell, e.g. shapes/4shot-seed1-pvp.")]
    public string Cell { get; init; } = "";
}

/// <summary><c>pvp eval</c>.</summary>
public sealed class EvalCommand : RecipeCommand<EvalSettings>
{
    /// <inheritdoc />
    protected override int Run(PvpRecipe recipe, EvalSettings settings, CancellationToken cancellationToken)
    {
        if (settings.Cell.Length == 0) throw new ArgumentException("Give the cell to evaluate with --cell, e.g. --cell shapes/4shot-seed1-pvp.");
        var result = new PvpRunner(recipe) { Force = settings.Force }.Evaluate(GridCell.Parse(settings.Cell));
        AnsiConsole.MarkupLineInterpolated($"{settings.Cell}: {result}");
        return 0;
    }
}

/// <summary>Settings of <c>pvp export</c>.</summary>
public sealed class ExportSettings : RecipeSettings
{
    /// <summary>The cell to export.</summary>
    [CommandOption("--cell <ID>")]
    [Description("A finished cell, e.g. shapes/4shot-seed1-pvp.")]
    public string Cell { get; init; } = "";

    /// <summary>The ONNX file to write.</summary>
    [CommandOption("--onnx <FILE>")]
    [Description("The .onnx file to write (opset 17, dynamic batch, float32; class names and preprocessing in its metadata).")]
    public string Onnx { get; init; } = "";

    /// <summary>LoRA merged (default) or separate.</summary>
    [CommandOption("--lora <MODE>")]
    [Description("merged (default: folded into the weights) or separate (low-rank branches kept as their own nodes).")]
    public string Lora { get; init; } = "merged";

    /// <summary>A folder for the task's test images.</summary>
    [CommandOption("--test-images <DIR>")]
    [Description("Also write the task's test images there as PNG files, one folder per class (to check a deployment, e.g. with examples/OnnxClassify).")]
    public string? TestImages { get; init; }
}

/// <summary><c>pvp export</c>.</summary>
public sealed class ExportCommand : RecipeCommand<ExportSettings>
{
    /// <inheritdoc />
    protected override int Run(PvpRecipe recipe, ExportSettings settings, CancellationToken cancellationToken)
    {
        if (settings.Cell.Length == 0) throw new ArgumentException("Give the cell to export with --cell, e.g. --cell shapes/4shot-seed1-pvp.");
        if (settings.Onnx.Length == 0) throw new ArgumentException("Give the file to write with --onnx, e.g. --onnx model.onnx.");
        var lora = settings.Lora.ToLowerInvariant() switch
        {
            "merged" => Pvp.Onnx.OnnxLoraMode.Merged,
            "separate" => Pvp.Onnx.OnnxLoraMode.Separate,
            _ => throw new ArgumentException($"--lora: expected merged or separate, got '{settings.Lora}'."),
        };
        var metadata = new PvpRunner(recipe) { Force = settings.Force }.ExportOnnx(GridCell.Parse(settings.Cell), settings.Onnx, lora, settings.TestImages);
        AnsiConsole.MarkupLineInterpolated($"{settings.Cell}: wrote [bold]{settings.Onnx}[/] ({new FileInfo(settings.Onnx).Length / 1024.0:F0} KiB; {metadata["pvp.variant"]}, {metadata["pvp.num_classes"]} classes, LoRA {metadata["pvp.lora"]})");
        if (settings.TestImages is not null) AnsiConsole.MarkupLineInterpolated($"test images in [bold]{settings.TestImages}[/]");
        return 0;
    }
}

/// <summary><c>pvp variants</c>.</summary>
public sealed class VariantsCommand : Command<VariantsCommand.Settings>
{
    /// <summary>Only the assemblies to load.</summary>
    public sealed class Settings : VariantSettings;

    /// <inheritdoc />
    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        try
        {
            settings.LoadAssemblies();
        }
        catch (Exception e)
        {
            return Failure.Report(e);
        }
        var table = new Table().AddColumns("variant", "backbone", "attaches", "declared in");
        foreach (var v in VariantRegistry.All)
            table.AddRow(Markup.Escape(v.Name), Markup.Escape(v.Backbone.ToString()),
                Markup.Escape(v.Attachments.Count == 0 ? "(plain backbone: everything trains)" : string.Join("; ", v.Attachments)),
                Markup.Escape(v.Type.Assembly.GetName().Name ?? ""));
        AnsiConsole.Write(table);
        return 0;
    }
}

/// <summary><c>pvp inspect</c>.</summary>
public sealed class InspectCommand : Command<InspectCommand.Settings>
{
    /// <summary>The most head classes inspect builds (ImageNet-21k has 21,843; a head of more would not fit in memory at ViT-L).</summary>
    private const int MaxClasses = 1_000_000;

    /// <summary>The variant and class count.</summary>
    public sealed class Settings : VariantSettings
    {
        /// <summary>A registered variant.</summary>
        [CommandArgument(0, "<variant>")]
        public string Variant { get; init; } = "";

        /// <summary>Head classes.</summary>
        [CommandOption("-c|--classes <N>")]
        [DefaultValue(1000)]
        public int Classes { get; init; } = 1000;
    }

    /// <inheritdoc />
    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        try
        {
            settings.LoadAssemblies();
            if (settings.Classes is < 0 or > MaxClasses)
                throw new ArgumentException($"--classes {settings.Classes}: expected 0 (no head) to {MaxClasses:N0} classes.");
            using var model = VariantRegistry.Create(settings.Variant, settings.Classes);
            AnsiConsole.Write(model.ModelCard());
            var table = new Table().AddColumns("optimizer group", "parameters", "elements", "lr scale", "decay");
            foreach (var g in model.ParameterGroups(1.0, 1.0))
                table.AddRow(Markup.Escape(g.Name), g.Parameters.Count.ToString(), g.ElementCount.ToString("N0"), g.LearningRate.ToString("G3"), g.WeightDecay > 0 ? "yes" : "no");
            AnsiConsole.Write(table);
            return 0;
        }
        catch (Exception e)
        {
            return Failure.Report(e);
        }
    }
}
