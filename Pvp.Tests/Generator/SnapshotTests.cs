using ApprovalTests;
using ApprovalTests.Reporters;

namespace Pvp.Tests.Generator;

/// <summary>
/// The generated code is part of the product: these snapshots pin it. A change writes a *.received.cs beside the
/// approved file and fails; review it and rename it to *.approved.cs to accept.
/// </summary>
[UseReporter(typeof(QuietReporter))]
public class SnapshotTests
{
    private static string GenerateSingle(string source)
    {
        var (result, output) = GeneratorHarness.Run(source);
        Assert.Empty(GeneratorHarness.AllErrors(result, output));
        return Assert.Single(result.GeneratedTrees).ToString();
    }

    [Fact]
    public void ExplicitTinyBackbone()
    {
        Approvals.VerifyWithExtension(GenerateSingle("""
            using Pvp;
            namespace Demo;

            [VisionTransformer(ImageSize = 32, PatchSize = 4, EmbedDim = 64, Depth = 3, Heads = 4)]
            public partial class TinyVit;
            """), ".cs");
    }

    [Fact]
    public void PresetAtAnotherResolutionInTheGlobalNamespace()
    {
        Approvals.VerifyWithExtension(GenerateSingle("""
            [Pvp.VisionTransformer(Pvp.VitPreset.Small16, ImageSize = 384)]
            internal partial class SmallAt384;
            """), ".cs");
    }

    [Fact]
    public void NoQkvBiasAndNarrowMlp()
    {
        Approvals.VerifyWithExtension(GenerateSingle("""
            namespace Demo.Nested.Names
            {
                [Pvp.VisionTransformer(ImageSize = 48, PatchSize = 8, EmbedDim = 96, Depth = 2, Heads = 6, QkvBias = false, MlpRatio = 2.5)]
                public partial class Narrow { }
            }
            """), ".cs");
    }
}
