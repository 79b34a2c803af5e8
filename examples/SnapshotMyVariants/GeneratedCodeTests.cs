using System.Runtime.CompilerServices;
using ApprovalTests;
using ApprovalTests.Reporters;
using Pvp.Testing;
using Xunit;

namespace MyApp.Tests;

/// <summary>
/// Snapshots the code Pvp generates for <c>Variants/MyVariants.cs</c>: a change in the declaration or in Pvp shows up
/// as a diff against <c>GeneratedCodeTests.HalfAndHalfS16.approved.cs</c> (the test writes *.received.cs and fails).
/// </summary>
[UseReporter(typeof(QuietReporter))]
public class GeneratedCodeTests
{
    [Fact]
    public void HalfAndHalfS16()
    {
        var run = GeneratorRunner.RunFiles(SourceFile("Variants/MyVariants.cs"));
        Assert.Empty(run.Diagnostics);
        Assert.Empty(run.CompilationErrors);
        Approvals.VerifyWithExtension(run.Files["MyApp.HalfAndHalfS16.g.cs"], ".cs");
    }

    [Fact]
    public void TheVariantTrainsWhatItDeclares()
    {
        using var model = new HalfAndHalfS16(numClasses: 10);
        Assert.Equal(20 * 384 + 5 * 20 * 384 + 6 * (384 * 16 + 16 + 16 * 384 + 384) + 384 * 10 + 10, model.TrainableParameterCount);
    }

    private static string SourceFile(string relative, [CallerFilePath] string here = "") =>
        Path.Combine(Path.GetDirectoryName(here)!, relative);
}
