namespace Pvp.Generators.Emit;

/// <summary>The fully qualified names generated code writes, declared once for every emitter.</summary>
internal static class TypeNames
{
    public const string Torch = "global::TorchSharp.torch";
    public const string Tensor = Torch + ".Tensor";
    public const string Module = Torch + ".nn.Module<" + Tensor + ", " + Tensor + ">";
    public const string Parameter = "global::TorchSharp.Modules.Parameter";
    public const string LayerNorm = "global::TorchSharp.Modules.LayerNorm";
    public const string Blocks = "global::Pvp.Blocks";
    public const string Add = "global::Pvp.Scalars.Add";
    public const string PrecisionEnum = "global::Pvp.MixedPrecision.BackbonePrecision";
    public const string OnnxGraph = "global::Pvp.Onnx.OnnxGraph";
    public const string OnnxValue = "global::Pvp.Onnx.OnnxValue";
    public const string OnnxModule = "global::Pvp.Onnx.IOnnxModule";
    public const string AttachContext = "global::Pvp.AttachContext";
    public const string AttachSiteEnum = "global::Pvp.AttachSite";
    public const string LoraTargetsEnum = "global::Pvp.LoraTargets";
    public const string Generic = "global::System.Collections.Generic";
    public const string KindMapType = "global::Pvp.ParameterKindMap";
    public const string GroupSettings = "global::Pvp.GroupSettings";
    public const string PetModel = "global::Pvp.PetModel";
    public const string VitConfig = "global::Pvp.VitConfig";
    public const string VitOps = "global::Pvp.VitOps";
    public const string VariantRegistry = "global::Pvp.VariantRegistry";
    public const string Array = "global::System.Array";
    public const string Dropout = "global::TorchSharp.Modules.Dropout";
    public const string ModuleList = "global::TorchSharp.Modules.ModuleList";
    public const string ModuleInitializer = "global::System.Runtime.CompilerServices.ModuleInitializer";
    public const string GeneratedCode = "global::System.CodeDom.Compiler.GeneratedCode";
}
