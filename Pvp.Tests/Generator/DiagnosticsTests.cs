using Microsoft.CodeAnalysis;

namespace Pvp.Tests.Generator;

/// <summary>
/// Each invalid declaration yields its diagnostic at the exact span marked [| |] in the source, and nothing is
/// generated for it (so no compiler errors cascade from the generated code).
/// </summary>
public class DiagnosticsTests
{
    [Theory]
    [InlineData("PVP001", "[VisionTransformer(VitPreset.Tiny16)] public class [|NotPartial|];")]
    [InlineData("PVP002", "public partial class Outer { [VisionTransformer(VitPreset.Tiny16)] public partial class [|Inner|]; }")]
    [InlineData("PVP002", "[VisionTransformer(VitPreset.Tiny16)] public partial class [|Generic|]<T>;")]
    [InlineData("PVP002", "[VisionTransformer(VitPreset.Tiny16)] public static partial class [|Static|];")]
    [InlineData("PVP002", "[VisionTransformer(VitPreset.Tiny16)] public partial record [|Rec|];")]
    [InlineData("PVP003", "[VisionTransformer(EmbedDim = 64, Depth = 2, [|Heads = 5|])] public partial class M;")]
    [InlineData("PVP004", "[VisionTransformer(EmbedDim = 64, [|Depth = 0|], Heads = 4)] public partial class M;")]
    [InlineData("PVP004", "[VisionTransformer([|EmbedDim = -8|], Depth = 1, Heads = 4)] public partial class M;")]
    [InlineData("PVP004", "[VisionTransformer(VitPreset.Tiny16, [|InChannels = 0|])] public partial class M;")]
    [InlineData("PVP004", "[VisionTransformer(EmbedDim = 64, Depth = 1, Heads = 4, [|MlpRatio = 0|])] public partial class M;")]
    [InlineData("PVP005", "[VisionTransformer([|ImageSize = 30|], PatchSize = 4, EmbedDim = 64, Depth = 1, Heads = 4)] public partial class M;")]
    [InlineData("PVP006", "[VisionTransformer(VitPreset.Base16, [|EmbedDim = 512|])] public partial class M;")]
    [InlineData("PVP006", "[VisionTransformer(VitPreset.Base16, [|PatchSize = 32|])] public partial class M;")]
    [InlineData("PVP006", "[VisionTransformer(VitPreset.Small16, [|QkvBias = false|])] public partial class M;")]
    [InlineData("PVP007", "[[|VisionTransformer(EmbedDim = 64, Heads = 4)|]] public partial class M;")]
    [InlineData("PVP008", "[VisionTransformer([|(VitPreset)42|])] public partial class M;")]
    [InlineData("PVP009", "[VisionTransformer(VitPreset.Tiny16)] [Lora([|Blocks = \"6..14\"|])] public partial class M;")]
    [InlineData("PVP009", "[VisionTransformer(VitPreset.Tiny16)] [Prompts([|Blocks = \"5..5\"|])] public partial class M;")]
    [InlineData("PVP010", "[VisionTransformer(VitPreset.Tiny16)] [Adapter([|Blocks = \"six\"|])] public partial class M;")]
    [InlineData("PVP011", "[VisionTransformer(VitPreset.Tiny16)] [Lora([|Rank = 0|])] public partial class M;")]
    [InlineData("PVP011", "[VisionTransformer(VitPreset.Tiny16)] [Lora([|Rank = 193|])] public partial class M;")]
    [InlineData("PVP012", "[VisionTransformer(VitPreset.Tiny16)] [Prompts([|Length = 0|], Deep = true)] public partial class M;")]
    [InlineData("PVP013", "[VisionTransformer(VitPreset.Tiny16)] [Attach([|typeof(string)|])] public partial class M;")]
    [InlineData("PVP013", "[VisionTransformer(VitPreset.Tiny16)] [[|Attach(null!)|]] public partial class M;")]
    [InlineData("PVP014", "[VisionTransformer(VitPreset.Tiny16)] [Prompts] [[|LinearProbe|]] public partial class M;")]
    [InlineData("PVP014", "[VisionTransformer(VitPreset.Tiny16)] [[|FullFineTune|]] [TrainBias] public partial class M;")]
    [InlineData("PVP015", "[VisionTransformer(VitPreset.Tiny16)] [Attach([|typeof(Pvp.Tests.Generator.NoContextConstructor)|])] public partial class M;")]
    [InlineData("PVP016", "[VisionTransformer(VitPreset.Tiny16)] [Lora(Targets = LoraTargets.Query)] [[|Lora(Targets = LoraTargets.Query | LoraTargets.Key, Blocks = \"11\")|]] public partial class M;")]
    [InlineData("PVP016", "[VisionTransformer(VitPreset.Tiny16)] [Adapter(Placement = AdapterPlacement.Parallel)] [[|Attach(typeof(Pvp.Tests.Numerics.ScaleShift), Site = AttachSite.BesideMlp, Blocks = \"^1\")|]] public partial class M;")]
    [InlineData("PVP016", "[VisionTransformer(VitPreset.Tiny16)] [Lora(Targets = LoraTargets.Query, Rank = 4)] [[|Lora(Targets = LoraTargets.Value, Rank = 8)|]] public partial class M;")]
    [InlineData("PVP017", "[[|Prompts(Length = 10)|]] public partial class M;")]
    [InlineData("PVP018", "[VisionTransformer(VitPreset.Tiny16)] [Prompts] [[|Prompts(Deep = true)|]] public partial class M;")]
    [InlineData("PVP018", "[VisionTransformer(VitPreset.Tiny16)] [TrainBias] [[|TrainBias|]] public partial class M;")]
    [InlineData("PVP019", "[VisionTransformer(VitPreset.Tiny16)] [Prompts([|Dropout = 1.5|])] public partial class M;")]
    [InlineData("PVP019", "[VisionTransformer(VitPreset.Tiny16)] [Lora([|Targets = LoraTargets.None|])] public partial class M;")]
    [InlineData("PVP019", "[VisionTransformer(VitPreset.Tiny16)] [Lora([|Alpha = -1|])] public partial class M;")]
    [InlineData("PVP019", "[VisionTransformer(VitPreset.Tiny16)] [Adapter([|LearningRateScale = 0|])] public partial class M;")]
    [InlineData("PVP004", "[VisionTransformer(VitPreset.Tiny16)] [Adapter([|Bottleneck = 0|])] public partial class M;")]
    [InlineData("PVP020", "[VisionTransformer(VitPreset.Tiny16, [|Precision = PrecisionPlan.BackboneBf16|])] [TrainBias] public partial class M;")]
    [InlineData("PVP020", "[VisionTransformer(VitPreset.Tiny16, [|Precision = PrecisionPlan.BackboneBf16|])] public partial class M;")]
    [InlineData("PVP019", "[VisionTransformer(VitPreset.Tiny16, [|Precision = (PrecisionPlan)7|])] [Prompts] public partial class M;")]
    [InlineData("PVP021", "[VisionTransformer(VitPreset.Micro)] [[|Pvp.Tests.Generator.NoKind|]] public partial class M;")]
    [InlineData("PVP021", "[VisionTransformer(VitPreset.Micro)] [[|Pvp.Tests.Generator.NoSite|]] public partial class M;")]
    [InlineData("PVP022", "[VisionTransformer(VitPreset.Micro)] [[|Pvp.Tests.Generator.UnknownSite|]] public partial class M;")]
    [InlineData("PVP022", "[VisionTransformer(VitPreset.Micro)] [[|Pvp.Tests.Generator.WrongCombine|]] public partial class M;")]
    [InlineData("PVP023", "[VisionTransformer(VitPreset.Micro)] [[|Pvp.Tests.Generator.TakesSsfKind|]] public partial class M;")]
    [InlineData("PVP023", "[VisionTransformer(VitPreset.Micro)] [[|Pvp.Tests.Generator.TakesBackboneKind|]] public partial class M;")]
    [InlineData("PVP023", "[VisionTransformer(VitPreset.Micro)] [Pvp.Tests.Generator.GatedScaleShift] [[|Pvp.Tests.Generator.SameKind|]] public partial class M;")]
    [InlineData("PVP015", "[VisionTransformer(VitPreset.Micro)] [[|Pvp.Tests.Generator.NoConstructor|]] public partial class M;")]
    [InlineData("PVP013", "[VisionTransformer(VitPreset.Micro)] [[|Pvp.Tests.Generator.NotAModule|]] public partial class M;")]
    [InlineData("PVP009", "[VisionTransformer(VitPreset.Micro)] [Pvp.Tests.Generator.GatedScaleShift([|Blocks = \"2..2\"|])] public partial class M;")]
    [InlineData("PVP010", "[VisionTransformer(VitPreset.Micro)] [Pvp.Tests.Generator.GatedScaleShift([|Blocks = \"one\"|])] public partial class M;")]
    [InlineData("PVP016", "[VisionTransformer(VitPreset.Micro)] [Adapter] [[|Pvp.Tests.Generator.GatedScaleShift|]] public partial class M;")]
    [InlineData("PVP016", "[VisionTransformer(VitPreset.Micro)] [Attach(typeof(Pvp.Tests.Numerics.ScaleShift), Site = AttachSite.AfterNorm1)] [[|Ssf(Full = true)|]] public partial class M;")]
    [InlineData("PVP014", "[VisionTransformer(VitPreset.Micro)] [Pvp.Tests.Generator.GatedScaleShift] [[|LinearProbe|]] public partial class M;")]
    [InlineData("PVP014", "[VisionTransformer(VitPreset.Micro)] [[|FullFineTune|]] [Ssf] public partial class M;")]
    [InlineData("PVP016", "[VisionTransformer(VitPreset.Micro)] [Ia3] [[|Ssf(Full = true)|]] public partial class M;")]
    [InlineData("PVP014", "[VisionTransformer(VitPreset.Micro)] [Ia3] [[|LinearProbe|]] public partial class M;")]
    [InlineData("PVP017", "[[|Ia3|]] public partial class M;")]
    [InlineData("PVP019", "[VisionTransformer(VitPreset.Micro)] [AdapterPlus([|Bottleneck = 65|])] public partial class M;")]
    [InlineData("PVP004", "[VisionTransformer(VitPreset.Micro)] [AdapterPlus([|Bottleneck = 0|])] public partial class M;")]
    [InlineData("PVP019", "[VisionTransformer(VitPreset.Micro)] [AdapterPlus([|DropPath = 1|])] public partial class M;")]
    [InlineData("PVP009", "[VisionTransformer(VitPreset.Micro)] [AdapterPlus([|Blocks = \"1..1\"|])] public partial class M;")]
    [InlineData("PVP016", "[VisionTransformer(VitPreset.Micro)] [Adapter] [[|AdapterPlus|]] public partial class M;")]
    [InlineData("PVP019", "[VisionTransformer(VitPreset.Micro)] [Convpass([|Bottleneck = 65|])] public partial class M;")]
    [InlineData("PVP004", "[VisionTransformer(VitPreset.Micro)] [Convpass([|Bottleneck = 0|])] public partial class M;")]
    [InlineData("PVP019", "[VisionTransformer(VitPreset.Micro)] [Convpass([|Scale = 0|])] public partial class M;")]
    [InlineData("PVP019", "[VisionTransformer(VitPreset.Micro)] [Convpass([|Dropout = 1|])] public partial class M;")]
    [InlineData("PVP016", "[VisionTransformer(VitPreset.Micro)] [Adapter(Placement = AdapterPlacement.AdaptFormer)] [[|Convpass|]] public partial class M;")]
    [InlineData("PVP016", "[VisionTransformer(VitPreset.Micro)] [Convpass(Blocks = \"..2\")] [[|Convpass(Blocks = \"1..\", AttentionOnly = true)|]] public partial class M;")]
    [InlineData("PVP004", "[VisionTransformer(VitPreset.Micro)] [KvPrompts([|Length = 0|])] public partial class M;")]
    [InlineData("PVP004", "[VisionTransformer(VitPreset.Micro)] [KvPrompts([|Length = -5|], Shared = false)] public partial class M;")]
    [InlineData("PVP019", "[VisionTransformer(VitPreset.Micro)] [KvPrompts([|Dropout = 1|])] public partial class M;")]
    [InlineData("PVP019", "[VisionTransformer(VitPreset.Micro)] [KvPrompts([|Dropout = -0.1|])] public partial class M;")]
    [InlineData("PVP019", "[VisionTransformer(VitPreset.Micro)] [KvPrompts([|LearningRateScale = 0|])] public partial class M;")]
    [InlineData("PVP009", "[VisionTransformer(VitPreset.Micro)] [KvPrompts([|Blocks = \"2..1\"|])] public partial class M;")]
    [InlineData("PVP010", "[VisionTransformer(VitPreset.Micro)] [KvPrompts([|Blocks = \"last\"|])] public partial class M;")]
    [InlineData("PVP016", "[VisionTransformer(VitPreset.Micro)] [KvPrompts(Blocks = \"..2\")] [[|KvPrompts(Length = 2, Blocks = \"1..\")|]] public partial class M;")]
    [InlineData("PVP014", "[VisionTransformer(VitPreset.Micro)] [KvPrompts] [[|FullFineTune|]] public partial class M;")]
    [InlineData("PVP017", "[[|KvPrompts|]] public partial class M;")]
    [InlineData("PVP022", "[VisionTransformer(VitPreset.Micro)] [[|Pvp.Tests.Generator.ResidualOnKeysValues|]] public partial class M;")]
    [InlineData("PVP020", "[VisionTransformer(VitPreset.Micro, [|Precision = PrecisionPlan.BackboneBf16|])] [KvPrompts] [TrainBias] public partial class M;")]
    [InlineData("PVP019", "[VisionTransformer(VitPreset.Micro)] [Lora(UseDora = true, [|Dropout = 0.1|])] public partial class M;")]
    [InlineData("PVP016", "[VisionTransformer(VitPreset.Micro)] [Lora(Targets = LoraTargets.Query)] [[|Lora(Targets = LoraTargets.Value, UseDora = true)|]] public partial class M;")]
    [InlineData("PVP017", "[[|Pvp.Tests.Generator.GatedScaleShift|]] public partial class M;")]
    [InlineData("PVP017", "[[|Ssf(Full = true)|]] public partial class M;")]
    [InlineData("PVP019", "[VisionTransformer(VitPreset.Micro)] [Attach(typeof(Pvp.Tests.Numerics.ScaleShift), [|Site = (AttachSite)99|])] public partial class M;")]
    public void InvalidDeclarationIsReportedAtItsSource(string id, string markedDeclaration)
    {
        var (source, expectedSpan) = Unmark("using Pvp;\nnamespace Demo;\n" + markedDeclaration + "\n");
        var (result, output) = GeneratorHarness.Run(source);

        var diagnostic = Assert.Single(result.Diagnostics);
        Assert.Equal(id, diagnostic.Id);
        Assert.Equal(DiagnosticSeverity.Error, diagnostic.Severity);
        Assert.Equal(expectedSpan, source.Substring(diagnostic.Location.SourceSpan.Start, diagnostic.Location.SourceSpan.Length));
        Assert.Empty(result.GeneratedTrees);
        Assert.DoesNotContain(output.GetDiagnostics(), d => d.Severity == DiagnosticSeverity.Error);
    }

    [Fact]
    public void ValidCombinationsGenerateWithoutDiagnostics()
    {
        var (result, output) = GeneratorHarness.Run("""
            using Pvp;
            [VisionTransformer(VitPreset.Tiny16)]
            [Prompts(Length = 10, Deep = true, Blocks = "..6")]
            [Lora(Targets = LoraTargets.Query | LoraTargets.Value, Blocks = "6..")]
            [Lora(Targets = LoraTargets.Key, Blocks = "6..")]
            [Lora(Targets = LoraTargets.MlpFc1, Rank = 2)]
            [Adapter(Placement = AdapterPlacement.Parallel, Blocks = "^4..")]
            [Attach(typeof(Pvp.Tests.Numerics.ScaleShift), Site = AttachSite.AfterMlp)]
            [TrainNorms]
            public partial class Everything;
            """);
        Assert.Empty(GeneratorHarness.AllErrors(result, output));
        Assert.Single(result.GeneratedTrees);
    }

    [Fact]
    public void AMethodFromAnotherAssemblyGeneratesLikeABuiltIn()
    {
        var (result, output) = GeneratorHarness.Run("""
            using Pvp;
            [VisionTransformer(VitPreset.Micro)]
            [Prompts(Length = 4)]
            [Pvp.Tests.Generator.GatedScaleShift(Blocks = "1..", LearningRateScale = 2)]
            [Ssf(Full = true, Blocks = "..1")]
            public partial class Outside;
            """);
        Assert.Empty(GeneratorHarness.AllErrors(result, output));
        string code = Assert.Single(result.GeneratedTrees).ToString();
        Assert.Contains("(\"blocks.*.gated_scale_shift_after_attention.\", \"gated_ss\")", code);
        Assert.Contains("s_trainableKinds = { \"prompts\", \"gated_ss\", \"ssf\", \"head\" }", code);
        Assert.Contains("[\"gated_ss\"] = 2,", code);
        Assert.Contains("GatedScaleShift after the attention and after the MLP of blocks 1 to 2 (gated_scale_shift_after_attention, gated_scale_shift_after_mlp)", code);
    }

    [Fact]
    public void MethodMessagesSayWhatIsWrongAndTheFix()
    {
        string Message(string attribute) => Assert.Single(GeneratorHarness.Run(
            $"using Pvp; [VisionTransformer(VitPreset.Micro)] [{attribute}] public partial class M;").Result.Diagnostics).GetMessage();
        Assert.Equal("[NoKind] cannot be placed: its [SiteMethod] has no kind name; give it one, e.g. [SiteMethod(\"my_method\", typeof(MyModule), AttachSite.AfterMlp)]",
            Message("Pvp.Tests.Generator.NoKind"));
        Assert.Equal("[TakesSsfKind] declares kind 'ssf', which [Ssf] owns; give the method a kind name of its own (its parameter group and freezing class)",
            Message("Pvp.Tests.Generator.TakesSsfKind"));
        Assert.Equal("[WrongCombine] cannot act at AfterMlp: Combine = Beside does not join there; use Replace or Residual, or another site",
            Message("Pvp.Tests.Generator.WrongCombine"));
        Assert.Equal("[ResidualOnKeysValues] cannot act at KeysValues: Combine = Residual does not join there; use Replace, or another site",
            Message("Pvp.Tests.Generator.ResidualOnKeysValues"));
        Assert.Equal("Length = 0 must be positive", Message("KvPrompts(Length = 0)"));
    }

    [Fact]
    public void MessagesNameTheValuesAndTheFix()
    {
        var (result, _) = GeneratorHarness.Run("using Pvp; [VisionTransformer(EmbedDim = 64, Depth = 2, Heads = 5)] public partial class M;");
        Assert.Equal("Heads = 5 does not divide EmbedDim = 64; choose a head count that divides the width, for example 4",
            Assert.Single(result.Diagnostics).GetMessage());
    }

    [Fact]
    public void PrecisionPlanMessageNamesWhatTrainsTheBackbone()
    {
        var (withBitFit, _) = GeneratorHarness.Run("using Pvp; [VisionTransformer(VitPreset.Tiny16, Precision = PrecisionPlan.BackboneBf16)] [TrainBias] public partial class M;");
        Assert.Equal("Precision = BackboneBf16 keeps the backbone frozen in bfloat16, but [TrainBias] trains backbone parameters; drop one of them or declare PETuning modules",
            Assert.Single(withBitFit.Diagnostics).GetMessage());
        var (plain, _) = GeneratorHarness.Run("using Pvp; [VisionTransformer(VitPreset.Tiny16, Precision = PrecisionPlan.BackboneBf16)] public partial class M;");
        Assert.Contains("a declaration without PETuning attributes (a plain backbone, which trains everything)", Assert.Single(plain.Diagnostics).GetMessage());
    }

    [Fact]
    public void SeveralProblemsAreAllReported()
    {
        var (result, _) = GeneratorHarness.Run(
            "using Pvp; [VisionTransformer(VitPreset.Base16, EmbedDim = 512, Depth = 6)] public class M;");
        Assert.Equal(new[] { "PVP001", "PVP006", "PVP006" }, result.Diagnostics.Select(d => d.Id).OrderBy(i => i));
    }

    [Fact]
    public void MalformedSourceNeverCrashesTheGenerator()
    {
        string[] sources =
        {
            "using Pvp; [VisionTransformer(] public partial class M;",
            "using Pvp; [VisionTransformer(EmbedDim = \"wide\", Depth = 1, Heads = 1)] public partial class M;",
            "using Pvp; [VisionTransformer(Nope = 3)] public partial class M;",
            "using Pvp; [VisionTransformer(VitPreset.Tiny16)] public partial class",
            "using Pvp; [VisionTransformer(VitPreset.Tiny16)] [VisionTransformer(VitPreset.Base16)] public partial class M;",
        };
        foreach (var source in sources)
        {
            var (result, _) = GeneratorHarness.Run(source);
            Assert.All(result.Results, r => Assert.Null(r.Exception));
        }
    }

    private static (string Source, string Span) Unmark(string marked)
    {
        int start = marked.IndexOf("[|", StringComparison.Ordinal);
        int end = marked.IndexOf("|]", StringComparison.Ordinal);
        string source = marked.Remove(end, 2).Remove(start, 2);
        return (source, source.Substring(start, end - start - 2));
    }
}

/// <summary>An attachment whose constructor the generated code cannot call (PVP015).</summary>
public sealed class NoContextConstructor : TorchSharp.torch.nn.Module<TorchSharp.torch.Tensor, TorchSharp.torch.Tensor>, IPetAttachment
{
    public NoContextConstructor(int width) : base(nameof(NoContextConstructor)) => _ = width;

    public override TorchSharp.torch.Tensor forward(TorchSharp.torch.Tensor x) => x;
}
