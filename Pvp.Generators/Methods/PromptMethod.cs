using System;
using System.Collections.Generic;
using System.Linq;
using System.Text;
using Pvp.Generators.Diagnostics;
using Pvp.Generators.Emit;
using Pvp.Generators.Model;
using Pvp.Generators.Parse;
using Pvp.Generators.Validate;

using static Pvp.Generators.Emit.TypeNames;

namespace Pvp.Generators.Methods;

/// <summary><c>[Prompts]</c> as written.</summary>
internal sealed record PromptsDeclaration(
    LocationInfo? Location,
    Declared<int>? Length,
    Declared<bool>? Deep,
    Declared<double>? Dropout,
    Declared<string>? Blocks,
    Declared<double>? LearningRateScale,
    Declared<bool>? WeightDecay);

/// <summary>
/// VPT prompts: inserted before <see cref="FirstBlock"/>, replaced
/// before each later block up to <see cref="LastBlock"/> when deep.
/// </summary>
internal sealed record PromptSpec(int Length, bool Deep, double Dropout, int FirstBlock, int LastBlock)
{
    /// <summary>Rows of <c>deep_prompt_embeddings</c> (0 when shallow).</summary>
    public int DeepCount => Deep ? LastBlock - FirstBlock : 0;
}

/// <summary>
/// VPT (<c>[Prompts]</c>) as every generator step reads it: its values as written and checked, its fields, their
/// construction and initialisation, the statement that inserts or replaces the prompt tokens before a block, its
/// kind-map patterns and its card line. VPT changes the token sequence rather than adding modules at sites, so it is
/// not an <see cref="ISiteMethod"/>, and it keeps this one generator file.
/// </summary>
internal static class PromptMethod
{
    // What an unset argument means: the runtime attribute's own property defaults (compiled in).
    private static readonly PromptsAttribute Defaults = new();

    /// <summary>The parse step's reading of one <c>[Prompts]</c>.</summary>
    public static PromptsDeclaration Parse(AttributeArguments args, LocationInfo? location) =>
        new(location, args.Named<int>(nameof(PromptsAttribute.Length)), args.Named<bool>(nameof(PromptsAttribute.Deep)),
            args.Named<double>(nameof(PromptsAttribute.Dropout)), args.Named<string>(nameof(PromptsAttribute.Blocks)),
            args.Named<double>(nameof(PromptsAttribute.LearningRateScale)),
            args.Named<bool>(nameof(PromptsAttribute.WeightDecay)));

    /// <summary>
    /// The validate step for the declaration's <c>[Prompts]</c> (at most one; later ones are reported): defaults
    /// applied, each broken rule reported at its argument; null when there is none or any rule is broken.
    /// </summary>
    public static PromptSpec? Validate(EquatableArray<PromptsDeclaration> declared, string className, IMethodChecks checks)
    {
        if (declared.Count == 0) return null;
        foreach (var extra in declared.Skip(1))
            checks.Report(DiagnosticCatalog.DuplicateAttribute, extra.Location, "Prompts", className);
        var p = declared[0];
        int length = p.Length?.Value ?? Defaults.Length;
        double dropout = p.Dropout?.Value ?? Defaults.Dropout;
        bool ok = true;
        if (length < 1) ok = checks.Report(DiagnosticCatalog.InvalidPromptLength, p.Length?.Location ?? p.Location, length);
        ok &= checks.CheckProbability("Dropout", p.Dropout);
        ok &= checks.CheckScale(PromptsAttribute.KindName, "Prompts", p.LearningRateScale);
        var range = checks.ResolveRange(p.Blocks, p.Location);
        if (!ok || range is null) return null;
        return new PromptSpec(length, p.Deep?.Value ?? Defaults.Deep, dropout, range.Value.Start, range.Value.End - 1);
    }

    /// <summary>The model's prompt fields.</summary>
    public static void Fields(IndentedWriter w, PromptSpec p, int d)
    {
        w.Line($"private readonly {Parameter} prompt_embeddings; // [1, {p.Length}, {d}]  VPT");
        if (p.DeepCount > 0)
            w.Line($"private readonly {Parameter} deep_prompt_embeddings; " +
                   $"// [{p.DeepCount}, {p.Length}, {d}]  VPT-deep");
        if (p.Dropout > 0)
            w.Line($"private readonly {TypeNames.Dropout} prompt_dropout; // p = {Format.Num(p.Dropout)}");
    }

    /// <summary>The constructor's lines that create the prompt fields (zeros until <see cref="Initialize"/>).</summary>
    public static void Construct(IndentedWriter w, PromptSpec p, int d, Func<string, string> zeros)
    {
        w.Line($"prompt_embeddings = new {Parameter}({zeros($"1, {p.Length}, {d}")});");
        if (p.DeepCount > 0)
            w.Line($"deep_prompt_embeddings = new {Parameter}({zeros($"{p.DeepCount}, {p.Length}, {d}")});");
        if (p.Dropout > 0) w.Line($"prompt_dropout = {Torch}.nn.Dropout({Format.Num(p.Dropout)});");
    }

    /// <summary>The constructor's lines that give the prompts VPT's initialisation, after timm's.</summary>
    public static void Initialize(IndentedWriter w, PromptSpec p)
    {
        w.Line($"{Blocks}.VptPrompts.Initialize(prompt_embeddings, Config);");
        if (p.DeepCount > 0) w.Line($"{Blocks}.VptPrompts.Initialize(deep_prompt_embeddings, Config);");
    }

    /// <summary>
    /// The forward's statement before block <paramref name="block"/>: the prompts inserted before the first block
    /// they reach, replaced (VPT-deep) before each later one; null where nothing happens.
    /// </summary>
    /// <param name="block">The block's index.</param>
    /// <param name="p">The prompts.</param>
    /// <param name="d">Token width.</param>
    /// <param name="patchCount">Patch tokens of an image.</param>
    /// <param name="onnx">Whether the line is the ONNX graph's rather than the forward's.</param>
    /// <param name="vit">Formats a <c>VitOps</c> call: operation, arguments, the sizes the ONNX form takes.</param>
    /// <param name="prompt">Wraps a prompt tensor as the forward uses it (the cast and the dropout).</param>
    public static string? BeforeBlock(int block, PromptSpec p, int d, int patchCount, bool onnx,
        Func<string, string, string, string> vit, Func<string, string> prompt)
    {
        string sizes = onnx ? $", {p.Length}, {d}" : "";
        if (block == p.FirstBlock)
        {
            string prompts = prompt(onnx ? "g.Parameter(prompt_embeddings)" : "prompt_embeddings");
            return $"h = {vit("InsertPrompts", $"h, {prompts}", sizes)}; // [B, 1 + {p.Length} + {patchCount}, {d}]";
        }
        if (p.DeepCount == 0 || block <= p.FirstBlock || block > p.LastBlock) return null;
        int k = block - p.FirstBlock - 1;
        string deep = onnx
            ? $"g.Slice(g.Parameter(deep_prompt_embeddings), 0, {k}, {k + 1})"
            : $"deep_prompt_embeddings.narrow(0, {k}, 1)";
        return $"h = {vit("ReplacePrompts", $"h, {prompt(deep)}", sizes)};";
    }

    /// <summary>Parameter names of the prompts, all of kind <c>prompts</c>.</summary>
    public static IEnumerable<string> KindPatterns(PromptSpec p)
    {
        yield return "prompt_embeddings";
        if (p.DeepCount > 0) yield return "deep_prompt_embeddings";
    }

    /// <summary>The model-card line of <c>[Prompts]</c>.</summary>
    public static string CardLine(PromptSpec spec, int d)
    {
        var line = new StringBuilder(spec.Deep && spec.DeepCount > 0 ? "VPT-deep: " : "VPT-shallow: ");
        line.Append($"{spec.Length} prompt tokens inserted before block {spec.FirstBlock}");
        if (spec.DeepCount > 0) line.Append($", replaced before blocks {spec.FirstBlock + 1} to {spec.LastBlock}");
        line.Append($" (prompt_embeddings [1, {spec.Length}, {d}]");
        if (spec.DeepCount > 0) line.Append($", deep_prompt_embeddings [{spec.DeepCount}, {spec.Length}, {d}]");
        line.Append(')');
        if (spec.Dropout > 0) line.Append($", dropout {Format.Num(spec.Dropout)}");
        return line.ToString();
    }
}
