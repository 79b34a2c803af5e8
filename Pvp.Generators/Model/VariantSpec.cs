using Pvp.Generators.Methods;

namespace Pvp.Generators.Model;

/// <summary>A backbone with every size resolved and checked.</summary>
internal sealed record BackboneSpec(
    int ImageSize,
    int PatchSize,
    int InChannels,
    int EmbedDim,
    int Depth,
    int Heads,
    int MlpHidden,
    bool QkvBias,
    string? PresetName,
    bool BackboneBf16 = false)
{
    public int GridSize => ImageSize / PatchSize;
    public int PatchCount => GridSize * GridSize;
    public int TokenCount => 1 + PatchCount;
}

/// <summary>A module a site method places in a block: where, how it joins, its field and how it is built.</summary>
/// <param name="Site">Where in the block.</param>
/// <param name="Combine">How its output joins the block's computation.</param>
/// <param name="Field">Its field in the block (and state-dict segment).</param>
/// <param name="Type">Its type, fully qualified with <c>global::</c>.</param>
/// <param name="Arguments">
/// Its constructor's arguments as C#; <c>index</c>, <c>device</c> and <c>dtype</c> are in scope.
/// </param>
/// <param name="Comment">What the forward's statement says about it.</param>
/// <param name="CastsUnderBf16">
/// Under a bf16 backbone plan it computes in the trainable type (the block casts for it).
/// </param>
internal sealed record SiteModule(AttachSite Site, SiteCombine Combine, string Field, string Type, string Arguments,
    string Comment, bool CastsUnderBf16 = false);

/// <summary>
/// One site method's part of a block: its kind, its name and summary in the block class, its modules.
/// </summary>
internal sealed record BlockMethod(
    string KindName, string ClassNamePart, string Summary, EquatableArray<SiteModule> Modules);

/// <summary>What one block holds beyond timm's Block; blocks with equal shapes share one generated class.</summary>
internal sealed record BlockShape(
    LoraLayerSpec? Qkv,
    LoraLayerSpec? Proj,
    LoraLayerSpec? Fc1,
    LoraLayerSpec? Fc2,
    EquatableArray<BlockMethod> Methods)
{
    public bool IsPlain => Qkv is null && Proj is null && Fc1 is null && Fc2 is null && Methods.Count == 0;

    /// <summary>Every site module of the block, in its methods' order.</summary>
    public System.Collections.Generic.IEnumerable<SiteModule> Modules
        => System.Linq.Enumerable.SelectMany(Methods, m => m.Modules);
}

/// <summary>A declaration the emitter can turn into code: valid by construction.</summary>
/// <param name="Namespace">The namespace as code writes it (keywords escaped: <c>@namespace</c>), or null.</param>
/// <param name="ClassName">The class name as the registry and messages spell it (no '@').</param>
/// <param name="Backbone">The backbone.</param>
/// <param name="Prompts">VPT prompts, if declared.</param>
/// <param name="Blocks">The shape of each block, by index.</param>
/// <param name="TrainableKinds">The kind names that train, in group order.</param>
/// <param name="LearningRateScales">Non-default scales as (kind name, scale).</param>
/// <param name="DecayPrompts">Whether prompts take weight decay.</param>
/// <param name="CardLines">One line per attachment for the model card.</param>
internal sealed record VariantSpec(
    string? Namespace,
    string ClassName,
    BackboneSpec Backbone,
    PromptSpec? Prompts,
    EquatableArray<BlockShape> Blocks,
    EquatableArray<string> TrainableKinds,
    EquatableArray<ScaleEntry> LearningRateScales,
    bool DecayPrompts,
    EquatableArray<string> CardLines)
{
    /// <summary>The file name the generated source is added under (no '@': hint names allow no escapes).</summary>
    public string HintName => (Namespace is null ? ClassName : Namespace.Replace("@", "") + "." + ClassName) + ".g.cs";

    /// <summary>The class name as code writes it: <c>@event</c> for a class named after a keyword.</summary>
    public string Identifier =>
        Microsoft.CodeAnalysis.CSharp.SyntaxFacts.GetKeywordKind(ClassName) != Microsoft.CodeAnalysis.CSharp.SyntaxKind.None
            ? "@" + ClassName
            : ClassName;
}

/// <summary>A learning-rate scale for one parameter kind.</summary>
internal sealed record ScaleEntry(string Kind, double Scale);

/// <summary>The validate step's output: a spec when the declaration is valid, and the diagnostics it earned.</summary>
internal sealed record ValidationResult(VariantSpec? Spec, EquatableArray<DiagnosticInfo> Diagnostics);

/// <summary>The emit step's output: one generated file.</summary>
internal sealed record GeneratedFile(string HintName, string Source);
