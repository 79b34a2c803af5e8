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
    string? PresetName)
{
    public int GridSize => ImageSize / PatchSize;
    public int PatchCount => GridSize * GridSize;
    public int TokenCount => 1 + PatchCount;
}

/// <summary>A declaration the emitter can turn into code: valid by construction.</summary>
internal sealed record VariantSpec(string? Namespace, string ClassName, BackboneSpec Backbone)
{
    /// <summary>The file name the generated source is added under.</summary>
    public string HintName => (Namespace is null ? ClassName : Namespace + "." + ClassName) + ".g.cs";
}

/// <summary>The validate step's output: a spec when the declaration is valid, and the diagnostics it earned.</summary>
internal sealed record ValidationResult(VariantSpec? Spec, EquatableArray<DiagnosticInfo> Diagnostics);

/// <summary>The emit step's output: one generated file.</summary>
internal sealed record GeneratedFile(string HintName, string Source);
