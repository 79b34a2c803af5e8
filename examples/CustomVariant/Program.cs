// Declares a PETuning variant with a module of the user's own (a scale-and-shift attached with [Attach], see
// ScaleShift.cs) and runs both PVP stages with it on the built-in dataset.
//
//   dotnet run --project examples/CustomVariant [-- --smoke]
using CustomVariant;
using Pvp;
using Pvp.Recipes;
using TorchSharp;

VariantRegistry.Load(typeof(UserScaleShiftMicro).Assembly);          // registers UserScaleShiftMicro
VariantRegistry.Load(typeof(Pvp.Models.VptDeepMicro).Assembly); // the catalog's plain micro backbone, to pre-train one

using (var model = new UserScaleShiftMicro(numClasses: 10))
{
    Console.Write(model.ModelCard());
    foreach (var group in model.ParameterGroups(learningRate: 1e-2, weightDecay: 0.05))
        Console.WriteLine($"  group {group.Name,-24} lr {group.LearningRate:G3}  decay {group.WeightDecay:G3}  {group.ElementCount:N0} elements");
}

bool smoke = args.Contains("--smoke");
string output = Path.GetFullPath(Path.Combine("runs", smoke ? "custom-variant-smoke" : "custom-variant"));
var recipe = RecipeParser.Parse($$"""
    variant: UserScaleShiftMicro
    output: {{output}}
    backbone: { pretrain: { epochs: {{(smoke ? 1 : 20)}}, lr: 0.002, batch: 64, label_smoothing: 0.1 } }
    source:
      builtin: { classes: 40, train_per_class: {{(smoke ? 10 : 60)}}, test_per_class: 10 }
    stage1: { epochs: {{(smoke ? 1 : 6)}}, lr: 0.01, batch: 64 }
    stage2:
      tasks:
        - name: shapes
          builtin: { classes: 10, train_per_class: 16, test_per_class: 30 }
      shots: [1, 4]
      seeds: [{{(smoke ? "0" : "0, 1, 2")}}]
      epochs: {{(smoke ? 2 : 40)}}
      lr: 0.01
    """, "custom-variant.yaml");
var report = new PvpRunner(recipe, new ConsoleReporter(cellEpochs: false)).Run();
Console.WriteLine(report.Markdown("UserScaleShiftMicro (a user's own module) on the built-in dataset"));
