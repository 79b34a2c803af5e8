using System.Collections.Generic;
using System.Linq;
using Pvp.Generators.Model;

using static Pvp.Generators.Emit.TypeNames;

namespace Pvp.Generators.Emit;

/// <summary>
/// Writes one nested block class for blocks of one shape: timm's Block (norm1, attn, norm2, mlp) with the LoRA
/// layers, adapter and attached modules of that shape, and a forward pass that visits only its insertion points.
/// </summary>
internal static class BlockEmitter
{

    /// <summary>A readable class name from the shape, e.g. <c>LoraQvBlock</c>, <c>AdaptFormerBlock</c>.</summary>
    public static string NameOf(BlockShape shape)
    {
        var parts = new List<string>();
        var lora = new List<string>();
        if (shape.Qkv is { } qkv)
        {
            if ((qkv.Targets & RuntimeEnums.Query) != 0) lora.Add("q");
            if ((qkv.Targets & RuntimeEnums.Key) != 0) lora.Add("k");
            if ((qkv.Targets & RuntimeEnums.Value) != 0) lora.Add("v");
        }
        if (shape.Proj is not null) lora.Add("o");
        if (shape.Fc1 is not null) lora.Add("fc1");
        if (shape.Fc2 is not null) lora.Add("fc2");
        if (lora.Count > 0)
        {
            string joined = string.Concat(lora);
            parts.Add("Lora" + char.ToUpperInvariant(joined[0]) + joined.Substring(1));
        }
        if (shape.Adapter is { } adapter) parts.Add(adapter.Parallel ? "AdaptFormer" : adapter.Houlsby ? "Houlsby" : "Adapter");
        if (shape.Ssf) parts.Add("Ssf");
        parts.AddRange(shape.Attachments.Select(a => a.TypeName));
        return string.Concat(parts) + "Block";
    }

    public static void Emit(IndentedWriter w, BlockClass blockClass, BackboneSpec b)
    {
        var shape = blockClass.Shape;
        int d = b.EmbedDim;
        string with = shape.IsPlain ? "" : $" with {Summary(shape)}";
        w.Line($"/// <summary>Blocks {Format.Ranges(blockClass.Indices)}: timm's Block{with}.</summary>");
        w.Line(ModelEmitter.GeneratedCode);
        using (w.Block($"private sealed class {blockClass.Name} : {Module}, {OnnxModule}"))
        {
            w.Line($"private readonly {LayerNorm} norm1;");
            w.Line($"private readonly {Blocks}.Attention attn;");
            w.Line($"private readonly {LayerNorm} norm2;");
            w.Line($"private readonly {Blocks}.Mlp mlp;");
            if (shape.Adapter is { Houlsby: true }) w.Line($"private readonly {Blocks}.BottleneckAdapter adapter_attn;");
            if (shape.Adapter is not null) w.Line($"private readonly {Blocks}.BottleneckAdapter adapter;");
            foreach (string field in shape.Ssf ? SsfAttribute.ModuleNames : System.Array.Empty<string>()) w.Line($"private readonly {Blocks}.SsfScaleShift {field};");
            foreach (var a in shape.Attachments) w.Line($"private readonly {a.TypeFullName} {a.FieldName};");
            bool castAttachments = b.BackboneBf16 && shape.Attachments.Count > 0;
            if (castAttachments) w.Line($"private readonly {Torch}.ScalarType trainableDtype; // attached modules compute in it");
            string frozen = ModelEmitter.FrozenDtype(b);
            w.Line();
            string signature = $"int index, {Torch}.Device? device, {Torch}.ScalarType dtype" + (b.BackboneBf16 ? $", {Torch}.ScalarType frozen" : "");
            using (w.Block($"public {blockClass.Name}({signature}) : base(\"Block\")"))
            {
                if (castAttachments) w.Line("trainableDtype = dtype;");
                w.Line($"norm1 = {Torch}.nn.LayerNorm({d}, eps: {Blocks}.LayerNorms.Eps, device: device, dtype: {frozen});");
                w.Line($"attn = new {Blocks}.Attention({d}, {b.Heads},");
                w.Line($"    qkv: {Qkv(shape.Qkv, b)},");
                w.Line($"    proj: {Linear(shape.Proj, d, d, "true", frozen)});");
                w.Line($"norm2 = {Torch}.nn.LayerNorm({d}, eps: {Blocks}.LayerNorms.Eps, device: device, dtype: {frozen});");
                w.Line($"mlp = new {Blocks}.Mlp(");
                w.Line($"    fc1: {Linear(shape.Fc1, d, b.MlpHidden, "true", frozen)},");
                w.Line($"    fc2: {Linear(shape.Fc2, b.MlpHidden, d, "true", frozen)});");
                if (shape.Adapter is { } adapter)
                {
                    var arguments = new List<string> { $"{d}", $"{adapter.Bottleneck}", $"scale: {Format.Num(adapter.Scale)}", "device", "dtype" };
                    if (adapter.Dropout != 0) arguments.Add($"dropout: {Format.Num(adapter.Dropout)}");
                    if (adapter.NormInput) arguments.Add("normInput: true");
                    string create = $"new {Blocks}.BottleneckAdapter({string.Join(", ", arguments)});";
                    if (adapter.Houlsby) w.Line($"adapter_attn = {create}");
                    w.Line($"adapter = {create}");
                }
                foreach (string field in shape.Ssf ? SsfAttribute.ModuleNames : System.Array.Empty<string>()) w.Line($"{field} = new {Blocks}.SsfScaleShift({d}, device, dtype);");
                foreach (var a in shape.Attachments)
                    w.Line($"{a.FieldName} = new {a.TypeFullName}(new global::Pvp.AttachContext({d}, index, global::Pvp.AttachSite.{RuntimeEnums.SiteNames[a.Site]}, device, dtype));");
                w.Line("RegisterComponents();");
            }
            w.Line();
            EmitForward(w, shape, castAttachments, onnx: false);
            w.Line();
            EmitForward(w, shape, castAttachments, onnx: true);
        }
    }

    /// <summary>
    /// The block's forward pass, or (<paramref name="onnx"/>) its ONNX graph written from the same statements, so the two
    /// cannot drift apart: <c>x.call(y)</c> becomes <c>g.Call(x, y)</c> and <c>Scalars.Add</c> becomes <c>g.Add</c>.
    /// </summary>
    private static void EmitForward(IndentedWriter w, BlockShape shape, bool castAttachments, bool onnx)
    {
        AttachSpec? At(int site) => shape.Attachments.FirstOrDefault(a => a.Site == site);
        string Module(string field, string input) => onnx ? $"g.Call({field}, {input})" : $"{field}.call({input})";
        string Sum(string x, string y) => onnx ? $"g.Add({x}, {y})" : $"{Add}({x}, {y})";
        // Under a bf16 backbone plan an attached module computes in the trainable dtype; its output returns to the stream's.
        // The ONNX graph computes in float32 throughout: no casts.
        string Call(AttachSpec a, string input) => castAttachments && !onnx
            ? $"{a.FieldName}.call({input}.to(trainableDtype)).to({input}.dtype)"
            : Module(a.FieldName, input);
        string afterMlpDesign = shape.Adapter is { Houlsby: true } ? "Houlsby" : "Pfeiffer";
        if (onnx)
        {
            w.Line("/// <summary>The ONNX nodes of <see cref=\"forward\"/>, statement for statement.</summary>");
            w.Line("public global::Pvp.Onnx.OnnxValue EmitOnnx(global::Pvp.Onnx.OnnxGraph g, global::Pvp.Onnx.OnnxValue x)");
        }
        else
        {
            w.Line($"public override {Tensor} forward({Tensor} x)");
        }
        using (w.Open())
        {
            if (!onnx) w.Line($"using var scope = {Torch}.NewDisposeScope();");
            w.Line("var h = x;");
            if (At(RuntimeEnums.BlockInput) is { } input) w.Line($"h = {Call(input, "h")}; // {input.TypeName} on the block input");
            w.Line(shape.Ssf ? $"var a = {Module("attn", Module("ssf_norm1", Module("norm1", "h")))}; // SSF after norm1" : $"var a = {Module("attn", Module("norm1", "h"))};");
            if (shape.Ssf) w.Line($"a = {Module("ssf_attn", "a")}; // SSF after attention");
            if (shape.Adapter is { Houlsby: true }) w.Line($"a = {Sum("a", Module("adapter_attn", "a"))}; // Houlsby: adapter after attention, with its residual");
            if (At(RuntimeEnums.AfterAttention) is { } afterAttention) w.Line($"a = {Call(afterAttention, "a")}; // {afterAttention.TypeName} after attention");
            w.Line($"h = {Sum("h", "a")};");
            w.Line(shape.Ssf ? $"var y = {Module("ssf_norm2", Module("norm2", "h"))}; // SSF after norm2" : $"var y = {Module("norm2", "h")};");
            w.Line($"var m = {Module("mlp", "y")};");
            if (shape.Ssf) w.Line($"m = {Module("ssf_mlp", "m")}; // SSF after the MLP");
            if (shape.Adapter is { Parallel: true }) w.Line($"m = {Sum("m", Module("adapter", "h"))}; // AdaptFormer: beside the MLP, on the stream after attention");
            if (At(RuntimeEnums.BesideMlp) is { } beside) w.Line($"m = {Sum("m", Call(beside, "y"))}; // {beside.TypeName} beside the MLP");
            if (shape.Adapter is { Parallel: false }) w.Line($"m = {Sum("m", Module("adapter", "m"))}; // {afterMlpDesign}: adapter after the MLP, with its residual");
            if (At(RuntimeEnums.AfterMlp) is { } afterMlp) w.Line($"m = {Call(afterMlp, "m")}; // {afterMlp.TypeName} after the MLP");
            w.Line($"h = {Sum("h", "m")};");
            if (At(RuntimeEnums.BlockOutput) is { } output) w.Line($"h = {Call(output, "h")}; // {output.TypeName} on the block output");
            w.Line(onnx ? "return h;" : "return h.MoveToOuterDisposeScope();");
        }
    }

    private static string Qkv(LoraLayerSpec? lora, BackboneSpec b)
    {
        int d = b.EmbedDim;
        string frozen = ModelEmitter.FrozenDtype(b);
        if (lora is null) return $"{Torch}.nn.Linear({d}, {3 * d}, hasBias: {ModelEmitter.Bool(b.QkvBias)}, device: device, dtype: {frozen})";
        var targets = new List<string>();
        if ((lora.Targets & RuntimeEnums.Query) != 0) targets.Add("global::Pvp.LoraTargets.Query");
        if ((lora.Targets & RuntimeEnums.Key) != 0) targets.Add("global::Pvp.LoraTargets.Key");
        if ((lora.Targets & RuntimeEnums.Value) != 0) targets.Add("global::Pvp.LoraTargets.Value");
        return $"new {Blocks}.LoraQkvLinear({d}, hasBias: {ModelEmitter.Bool(b.QkvBias)}, {string.Join(" | ", targets)}, " +
               $"rank: {lora.Rank}, alpha: {Format.Num(lora.Alpha)}, dropout: {Format.Num(lora.Dropout)}, device, dtype" +
               (b.BackboneBf16 ? ", frozenDtype: frozen)" : ")");
    }

    private static string Linear(LoraLayerSpec? lora, int inFeatures, int outFeatures, string hasBias, string frozen) =>
        lora is null
            ? $"{Torch}.nn.Linear({inFeatures}, {outFeatures}, device: device, dtype: {frozen})"
            : $"new {Blocks}.LoraLinear({inFeatures}, {outFeatures}, hasBias: {hasBias}, rank: {lora.Rank}, " +
              $"alpha: {Format.Num(lora.Alpha)}, dropout: {Format.Num(lora.Dropout)}, device, dtype" +
              (frozen == "dtype" ? ")" : $", frozenDtype: {frozen})");

    private static string AdapterSummary(AdapterSpec adapter)
    {
        if (adapter.Parallel) return $"an AdaptFormer adapter (bottleneck {adapter.Bottleneck})";
        return adapter.Houlsby ? $"Houlsby adapters (bottleneck {adapter.Bottleneck})" : $"a Pfeiffer adapter (bottleneck {adapter.Bottleneck})";
    }

    private static string Summary(BlockShape shape)
    {
        var parts = new List<string>();
        var layers = new List<(LoraLayerSpec Spec, string Name)>();
        if (shape.Qkv is { } qkv) layers.Add((qkv, "attn.qkv slices " + Format.LoraTargets(qkv.Targets)));
        if (shape.Proj is { } proj) layers.Add((proj, "attn.proj"));
        if (shape.Fc1 is { } fc1) layers.Add((fc1, "mlp.fc1"));
        if (shape.Fc2 is { } fc2) layers.Add((fc2, "mlp.fc2"));
        parts.AddRange(layers.Select(l => $"LoRA r={l.Spec.Rank} on {l.Name}"));
        if (shape.Adapter is { } adapter) parts.Add(AdapterSummary(adapter));
        if (shape.Ssf) parts.Add("SSF after norm1, attention, norm2 and the MLP");
        parts.AddRange(shape.Attachments.Select(a => $"{a.TypeName} ({RuntimeEnums.SiteNames[a.Site]})"));
        return string.Join(", ", parts);
    }
}
