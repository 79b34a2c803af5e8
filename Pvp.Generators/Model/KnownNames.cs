namespace Pvp.Generators.Model;

/// <summary>
/// Metadata names of the runtime's types. The generator never references Pvp.Runtime; it knows these names.
/// </summary>
internal static class KnownNames
{
    // The runtime's attribute types are compiled into the generator
    // (Shared/): their names come from the types themselves.
    public const string VisionTransformerAttribute = "Pvp." + nameof(Pvp.VisionTransformerAttribute);
    public const string PromptsAttribute = "Pvp." + nameof(Pvp.PromptsAttribute);
    public const string LoraAttribute = "Pvp." + nameof(Pvp.LoraAttribute);
    public const string AttachAttribute = "Pvp." + nameof(Pvp.AttachAttribute);
    public const string TrainBiasAttribute = "Pvp." + nameof(Pvp.TrainBiasAttribute);
    public const string TrainNormsAttribute = "Pvp." + nameof(Pvp.TrainNormsAttribute);
    public const string LinearProbeAttribute = "Pvp." + nameof(Pvp.LinearProbeAttribute);
    public const string FullFineTuneAttribute = "Pvp." + nameof(Pvp.FullFineTuneAttribute);
    public const string SiteMethodAttribute = "Pvp." + nameof(Pvp.SiteMethodAttribute);
    // Runtime types that need TorchSharp, so not compiled in here: known by name.
    public const string AttachmentInterface = "Pvp.IPetAttachment";
    public const string AttachContext = "Pvp.AttachContext";

    /// <summary>"Pvp.LoraAttribute" → "Lora".</summary>
    public static string ShortName(string metadataName)
    {
        string name = metadataName.Substring(metadataName.LastIndexOf('.') + 1);
        return name.EndsWith("Attribute") ? name.Substring(0, name.Length - "Attribute".Length) : name;
    }
}
