namespace Pvp.Tests.Generator;

/// <summary>Names that are C# keywords, written with '@', are escaped wherever the generator writes code and left out of hint names.</summary>
public class EscapedIdentifierTests
{
    [Fact]
    public void KeywordNamespaceClassAndAttachedTypeCompile()
    {
        const string source = """
            using Pvp;
            using TorchSharp;
            using static TorchSharp.torch;

            namespace @namespace.@event
            {
                public sealed class @operator : nn.Module<Tensor, Tensor>, IPetAttachment
                {
                    public @operator(AttachContext context) : base("operator") { }
                    public override Tensor forward(Tensor x) => x;
                }

                [VisionTransformer(ImageSize = 32, PatchSize = 4, EmbedDim = 64, Depth = 3, Heads = 4)]
                [Prompts(Length = 2)]
                [Attach(typeof(@operator))]
                public partial class @class;
            }
            """;
        var (result, output) = GeneratorHarness.Run(source);

        Assert.Empty(GeneratorHarness.AllErrors(result, output).Select(d => d.ToString()));
        var generated = Assert.Single(result.Results.Single().GeneratedSources);
        Assert.Equal("namespace.event.class.g.cs", generated.HintName);
        string code = generated.SourceText.ToString();
        Assert.Contains("namespace @namespace.@event", code);
        Assert.Contains("partial class @class : global::Pvp.PetModel", code);
        Assert.Contains("VariantRegistry.Register(\"class\", typeof(@class)", code);
        Assert.Contains("public override string VariantName => \"class\";", code);
        Assert.Contains("operator_module", code); // the attached module's field: not the keyword
    }
}
