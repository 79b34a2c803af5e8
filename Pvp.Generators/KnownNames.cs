namespace Pvp.Generators;

/// <summary>
/// Metadata names of the runtime's types. The generator never references Pvp.Runtime; it knows these names.
/// </summary>
internal static class KnownNames
{
    public const string VisionTransformerAttribute = "Pvp.VisionTransformerAttribute";
    public const string PromptsAttribute = "Pvp.PromptsAttribute";
    public const string LoraAttribute = "Pvp.LoraAttribute";
    public const string AdapterAttribute = "Pvp.AdapterAttribute";
    public const string AttachAttribute = "Pvp.AttachAttribute";
    public const string TrainBiasAttribute = "Pvp.TrainBiasAttribute";
    public const string TrainNormsAttribute = "Pvp.TrainNormsAttribute";
    public const string LinearProbeAttribute = "Pvp.LinearProbeAttribute";
    public const string FullFineTuneAttribute = "Pvp.FullFineTuneAttribute";
    public const string AttachmentInterface = "Pvp.IPetAttachment";
    public const string AttachContext = "Pvp.AttachContext";

    /// <summary>The PETuning attributes, each of which needs a <c>[VisionTransformer]</c> beside it.</summary>
    public static readonly string[] PetuningAttributes =
    {
        PromptsAttribute, LoraAttribute, AdapterAttribute, AttachAttribute,
        TrainBiasAttribute, TrainNormsAttribute, LinearProbeAttribute, FullFineTuneAttribute,
    };

    /// <summary>"Pvp.LoraAttribute" → "Lora".</summary>
    public static string ShortName(string metadataName)
    {
        string name = metadataName.Substring(metadataName.LastIndexOf('.') + 1);
        return name.EndsWith("Attribute") ? name.Substring(0, name.Length - "Attribute".Length) : name;
    }
}

/// <summary>The numeric values of the runtime's enums that the generator reasons about (keep in sync).</summary>
internal static class RuntimeEnums
{
    // Pvp.ParameterKinds
    public const int Backbone = 1, Bias = 2, Norm = 4, Head = 8, Prompt = 16, Lora = 32, Adapter = 64, Attachment = 128, AllKinds = 255;

    // Pvp.LoraTargets
    public const int Query = 1, Key = 2, Value = 4, Output = 8, MlpFc1 = 16, MlpFc2 = 32, QkvSlices = Query | Key | Value, AllTargets = 63;

    // Pvp.AdapterPlacement, Pvp.AdapterNorm
    public const int Pfeiffer = 0, AdaptFormer = 1, Houlsby = 2;
    public const int AdapterNormNone = 0, AdapterNormInput = 1;

    // Pvp.PrecisionPlan
    public const int Float32Plan = 0, BackboneBf16Plan = 1;

    // Pvp.AttachSite
    public const int BlockInput = 0, AfterAttention = 1, BesideMlp = 2, AfterMlp = 3, BlockOutput = 4;

    public static readonly string[] SiteNames = { "BlockInput", "AfterAttention", "BesideMlp", "AfterMlp", "BlockOutput" };
    public static readonly string[] SiteDescriptions = { "on the input of", "after the attention of", "beside the MLP of", "after the MLP of", "on the output of" };
    public static readonly string[] KindNames = { "Backbone", "Bias", "Norm", "Head", "Prompt", "Lora", "Adapter", "Attachment" };
}

/// <summary>Names of the pipeline's tracked steps (asserted by the incremental-caching tests).</summary>
public static class TrackingNames
{
    /// <summary>Syntax and attributes → <c>VariantDeclaration</c>.</summary>
    public const string Parse = "Pvp.Parse";
    /// <summary><c>VariantDeclaration</c> → spec and diagnostics.</summary>
    public const string Validate = "Pvp.Validate";
    /// <summary>Spec → generated source.</summary>
    public const string Emit = "Pvp.Emit";
    /// <summary>PETuning attributes on a class without a backbone.</summary>
    public const string Orphans = "Pvp.Orphans";
}
