using System.Reflection;
using Microsoft.CodeAnalysis;
using Pvp.Testing;

namespace Pvp.Tests.Model;

/// <summary>
/// Two classes declaring one variant name: a recipe names variants by class name, so the second is refused.
/// </summary>
public class VariantClashTests
{
    [Fact]
    public void LoadRefusesAnAssemblyWhoseVariantNameIsTaken()
    {
        // A name no other test declares: the clash stays recorded for this process's other Load calls. With LoRA, not a
        // plain backbone: the runner's backbone pre-training would otherwise pick it over FullFineTuneMicro.
        var first = Build("ClashFirst");
        var second = Build("ClashSecond");
        VariantRegistry.Load(first);
        var error = Assert.Throws<InvalidDataException>(() => VariantRegistry.Load(second));
        Assert.Contains("The variant name 'ClashProbeMicro' is declared by ClashFirst.ClashProbeMicro (ClashFirst) " +
                        "and by ClashSecond.ClashProbeMicro (ClashSecond)", error.Message);
        Assert.Contains("rename one", error.Message);
        Assert.Equal(first, VariantRegistry.TypeOf("ClashProbeMicro").Assembly); // the first still answers
    }

    /// <summary>An in-memory assembly named <paramref name="name"/> declaring <c>name.ClashProbeMicro</c>.</summary>
    private static Assembly Build(string name)
    {
        var run = GeneratorRunner.Run($$"""
            using Pvp;
            namespace {{name}};
            [VisionTransformer(VitPreset.Micro)]
            [Lora(Rank = 2)]
            public partial class ClashProbeMicro;
            """);
        Assert.Empty(run.CompilationErrors);
        using var image = new MemoryStream();
        var emitted = run.Output.WithAssemblyName(name).Emit(image);
        var errors = emitted.Diagnostics.Where(d => d.Severity == DiagnosticSeverity.Error);
        Assert.True(emitted.Success, string.Join("\n", errors));
        return Assembly.Load(image.ToArray());
    }
}
