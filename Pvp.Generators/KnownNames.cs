using System.Linq;

namespace Pvp.Generators;

/// <summary>
/// Metadata names of the runtime's types. The generator never references Pvp.Runtime; it knows these names.
/// </summary>
internal static class KnownNames
{
    // The runtime's attribute types are compiled into the generator (Shared/): their names come from the types themselves.
    public const string VisionTransformerAttribute = "Pvp." + nameof(Pvp.VisionTransformerAttribute);
    public const string PromptsAttribute = "Pvp." + nameof(Pvp.PromptsAttribute);
    public const string LoraAttribute = "Pvp." + nameof(Pvp.LoraAttribute);
    public const string AdapterAttribute = "Pvp." + nameof(Pvp.AdapterAttribute);
    public const string AttachAttribute = "Pvp." + nameof(Pvp.AttachAttribute);
    public const string SsfAttribute = "Pvp." + nameof(Pvp.SsfAttribute);
    public const string TrainBiasAttribute = "Pvp." + nameof(Pvp.TrainBiasAttribute);
    public const string TrainNormsAttribute = "Pvp." + nameof(Pvp.TrainNormsAttribute);
    public const string LinearProbeAttribute = "Pvp." + nameof(Pvp.LinearProbeAttribute);
    public const string FullFineTuneAttribute = "Pvp." + nameof(Pvp.FullFineTuneAttribute);
    // Runtime types that need TorchSharp, so not compiled in here: known by name.
    public const string AttachmentInterface = "Pvp.IPetAttachment";
    public const string AttachContext = "Pvp.AttachContext";

    /// <summary>The PETuning attributes, each of which needs a <c>[VisionTransformer]</c> beside it.</summary>
    public static readonly string[] PetuningAttributes =
    {
        PromptsAttribute, LoraAttribute, AdapterAttribute, AttachAttribute, SsfAttribute,
        TrainBiasAttribute, TrainNormsAttribute, LinearProbeAttribute, FullFineTuneAttribute,
    };

    /// <summary>"Pvp.LoraAttribute" → "Lora".</summary>
    public static string ShortName(string metadataName)
    {
        string name = metadataName.Substring(metadataName.LastIndexOf('.') + 1);
        return name.EndsWith("Attribute") ? name.Substring(0, name.Length - "Attribute".Length) : name;
    }
}

/// <summary>
/// The runtime's enum values as the integers attribute arguments arrive as, taken from the enums themselves (compiled in
/// from the runtime: nothing to keep in sync).
/// </summary>
internal static class RuntimeEnums
{
    public const int Backbone = (int)ParameterKinds.Backbone, Bias = (int)ParameterKinds.Bias, Norm = (int)ParameterKinds.Norm, Head = (int)ParameterKinds.Head,
        Prompt = (int)ParameterKinds.Prompt, Lora = (int)ParameterKinds.Lora, Adapter = (int)ParameterKinds.Adapter, Attachment = (int)ParameterKinds.Attachment,
        Ssf = (int)ParameterKinds.Ssf, AllKinds = (int)ParameterKinds.All;

    public const int Query = (int)LoraTargets.Query, Key = (int)LoraTargets.Key, Value = (int)LoraTargets.Value, Output = (int)LoraTargets.Output,
        MlpFc1 = (int)LoraTargets.MlpFc1, MlpFc2 = (int)LoraTargets.MlpFc2, QkvSlices = Query | Key | Value, AllTargets = QkvSlices | Output | MlpFc1 | MlpFc2;

    public const int Pfeiffer = (int)AdapterPlacement.Pfeiffer, AdaptFormer = (int)AdapterPlacement.AdaptFormer, Houlsby = (int)AdapterPlacement.Houlsby;
    public const int AdapterNormNone = (int)AdapterNorm.None, AdapterNormInput = (int)AdapterNorm.Input;

    public const int Float32Plan = (int)PrecisionPlan.Float32, BackboneBf16Plan = (int)PrecisionPlan.BackboneBf16;

    public const int BlockInput = (int)AttachSite.BlockInput, AfterAttention = (int)AttachSite.AfterAttention, BesideMlp = (int)AttachSite.BesideMlp,
        AfterMlp = (int)AttachSite.AfterMlp, BlockOutput = (int)AttachSite.BlockOutput;

    /// <summary>Each site's name, by value.</summary>
    public static readonly string[] SiteNames = Enumerable.Range(0, BlockOutput + 1).Select(i => ((AttachSite)i).ToString()).ToArray();

    /// <summary>Each single kind's name, lowest bit first.</summary>
    public static readonly string[] KindNames = Enumerable.Range(0, 31).TakeWhile(bit => (AllKinds >> bit) != 0).Select(bit => ((ParameterKinds)(1 << bit)).ToString()).ToArray();
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
