using System.Text.RegularExpressions;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Pvp.Testing;
using Pvp.Tests.Numerics;

namespace Pvp.Tests.Docs;

/// <summary>Every C# block of the README compiles as shown, in a console project with the SDK's implicit usings.</summary>
public class ReadmeTests
{
    // What `<ImplicitUsings>enable</ImplicitUsings>` gives a console project.
    private const string ImplicitUsings = """
        global using System;
        global using System.Collections.Generic;
        global using System.IO;
        global using System.Linq;
        global using System.Net.Http;
        global using System.Threading;
        global using System.Threading.Tasks;
        """;

    public static TheoryData<int> Blocks()
    {
        var data = new TheoryData<int>();
        for (int i = 0; i < CSharpBlocks().Count; i++) data.Add(i);
        return data;
    }

    private static IReadOnlyList<string> CSharpBlocks() =>
        Regex.Matches(File.ReadAllText(TestTensors.RepoPath("README.md")), "```csharp\n(.*?)```", RegexOptions.Singleline)
            .Select(m => m.Groups[1].Value).ToList();

    [Fact]
    public void The_readme_has_csharp_blocks() => Assert.NotEmpty(CSharpBlocks());

    [Theory]
    [MemberData(nameof(Blocks))]
    public void A_csharp_block_compiles_as_shown(int index)
    {
        string code = CSharpBlocks()[index];
        var tree = CSharpSyntaxTree.ParseText(code, new CSharpParseOptions(LanguageVersion.Latest), path: $"README-block-{index}.cs");
        bool program = tree.GetCompilationUnitRoot().Members.OfType<GlobalStatementSyntax>().Any();
        var usings = CSharpSyntaxTree.ParseText(ImplicitUsings, new CSharpParseOptions(LanguageVersion.Latest), path: "GlobalUsings.g.cs");
        var compilation = GeneratorRunner.Compile(new[] { tree, usings });
        if (program) compilation = compilation.WithOptions(compilation.Options.WithOutputKind(OutputKind.ConsoleApplication));

        var run = GeneratorRunner.Run(compilation);

        Assert.Empty(run.Diagnostics.Where(d => d.Severity == DiagnosticSeverity.Error).Select(d => d.ToString()));
        Assert.Empty(run.CompilationErrors.Select(d => d.ToString()));
    }
}
