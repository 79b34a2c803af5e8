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
    public const int AllKinds = (int)ParameterKinds.All;

    public const int Query = (int)LoraTargets.Query, Key = (int)LoraTargets.Key, Value = (int)LoraTargets.Value;

    public const int AdaptFormer = (int)AdapterPlacement.AdaptFormer, Houlsby = (int)AdapterPlacement.Houlsby;

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
