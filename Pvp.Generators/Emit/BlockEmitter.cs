using System.Collections.Generic;
using System.Linq;
using Pvp.Generators.Layout;
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
        if (Methods.LoraMethod.ClassNamePart(shape) is { } lora) parts.Add(lora);
        parts.AddRange(shape.Methods.Select(m => m.ClassNamePart));
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
            w.Line($"private readonly {Blocks}.DropPath drop_path; // on both residual branches, training only (PetModel.DropPathRate)");
            foreach (var module in shape.Modules.Where(m => !BlockSites.IsInner(m.Site)))
                w.Line($"private readonly {module.Type} {module.Field};");
            bool castAttachments = b.BackboneBf16 && shape.Modules.Any(m => m.CastsUnderBf16);
            if (castAttachments)
                w.Line($"private readonly {Torch}.ScalarType trainableDtype; // attached modules compute in it");
            string frozen = ModelEmitter.FrozenDtype(b);
            w.Line();
            string signature = $"int index, {Torch}.Device? device, {Torch}.ScalarType dtype" +
                               (b.BackboneBf16 ? $", {Torch}.ScalarType frozen" : "");
            using (w.Block($"public {blockClass.Name}({signature}) : base(\"Block\")"))
            {
                if (castAttachments) w.Line("trainableDtype = dtype;");
                w.Line($"norm1 = {Torch}.nn.LayerNorm({d}, eps: {Blocks}.LayerNorms.Eps, device: device, " +
                       $"dtype: {frozen});");
                w.Line($"attn = new {Blocks}.Attention({d}, {b.Heads},");
                w.Line($"    qkv: {Methods.LoraMethod.QkvLayer(shape.Qkv, b)},");
                w.Line($"    proj: {Methods.LoraMethod.LinearLayer(shape.Proj, d, d, "true", frozen)});");
                foreach (var module in shape.Modules.Where(m => BlockSites.InnerLayer(m.Site) == "attn"))
                    w.Line($"attn.{InnerHook(module, castAttachments)};");
                w.Line($"norm2 = {Torch}.nn.LayerNorm({d}, eps: {Blocks}.LayerNorms.Eps, device: device, " +
                       $"dtype: {frozen});");
                w.Line($"mlp = new {Blocks}.Mlp(");
                w.Line($"    fc1: {Methods.LoraMethod.LinearLayer(shape.Fc1, d, b.MlpHidden, "true", frozen)},");
                w.Line($"    fc2: {Methods.LoraMethod.LinearLayer(shape.Fc2, b.MlpHidden, d, "true", frozen)});");
                foreach (var module in shape.Modules.Where(m => BlockSites.InnerLayer(m.Site) == "mlp"))
                    w.Line($"mlp.{InnerHook(module, castAttachments)};");
                foreach (var module in shape.Modules.Where(m => !BlockSites.IsInner(m.Site)))
                    w.Line($"{module.Field} = new {module.Type}({module.Arguments});");
                w.Line($"drop_path = new {Blocks}.DropPath();");
                w.Line("RegisterComponents();");
            }
            w.Line();
            EmitForward(w, shape, castAttachments, onnx: false);
            w.Line();
            EmitForward(w, shape, castAttachments, onnx: true);
        }
    }

    /// <summary>
    /// The block's forward pass, or (<paramref name="onnx"/>) its ONNX graph written from the same statements, so the
    /// two cannot drift apart: <c>x.call(y)</c> becomes <c>g.Call(x, y)</c> and <c>Scalars.Add</c> becomes
    /// <c>g.Add</c>. timm's Block is the skeleton; each site's modules join it as their <see cref="SiteCombine"/> says,
    /// in the methods' order.
    /// </summary>
    private static void EmitForward(IndentedWriter w, BlockShape shape, bool castAttachments, bool onnx)
    {
        var modules = shape.Modules.ToList();
        string Module(string field, string input) => onnx ? $"g.Call({field}, {input})" : $"{field}.call({input})";
        string Sum(string x, string y) => onnx ? $"g.Add({x}, {y})" : $"{Add}({x}, {y})";
        // A residual branch joins the stream through drop-path, which is the identity at inference: ONNX adds it directly.
        string Residual(string branch) => onnx ? Sum("h", branch) : Sum("h", $"drop_path.call({branch})");
        // Under a bf16 backbone plan a module that asks for it computes in the trainable dtype; its
        // output returns to the stream's. The ONNX graph computes in float32 throughout: no casts.
        string Call(SiteModule m, string input) => m.CastsUnderBf16 && castAttachments && !onnx
            ? $"{m.Field}.call({input}.to(trainableDtype)).to({input}.dtype)"
            : Module(m.Field, input);
        // The statements of one site on variable v: x ← m(x), x ← x + m(x), or beside a branch v ← v + M(its input, or
        // for BesideStream the stream h).
        void At(AttachSite site, string v, string besideInput = "y")
        {
            foreach (var m in modules.Where(m => m.Site == site))
            {
                string value = m.Combine switch
                {
                    SiteCombine.Residual => Sum(v, Call(m, v)),
                    SiteCombine.Beside => Sum(v, Call(m, besideInput)),
                    SiteCombine.BesideStream => Sum(v, Call(m, "h")),
                    _ => Call(m, v),
                };
                w.Line($"{v} = {value}; // {m.Comment}");
            }
        }
        // A norm's output: replacing modules nest in the expression
        // (one statement); any other combine needs a variable.
        void Normed(string norm, AttachSite site, string variable, System.Func<string, string> use)
        {
            var here = modules.Where(m => m.Site == site).ToList();
            string normed = Module(norm, "h");
            if (here.All(m => m.Combine == SiteCombine.Replace))
            {
                foreach (var m in here) normed = Call(m, normed);
                string comment = here.Count > 0 ? " // " + string.Join("; ", here.Select(m => m.Comment)) : "";
                w.Line($"var {variable} = {use(normed)};{comment}");
                return;
            }
            w.Line($"var {norm}_out = {normed};");
            At(site, $"{norm}_out");
            w.Line($"var {variable} = {use($"{norm}_out")};");
        }
        if (onnx)
        {
            w.Line("/// <summary>The ONNX nodes of <see cref=\"forward\"/>, statement for statement.</summary>");
            w.Line($"public {OnnxValue} EmitOnnx({OnnxGraph} g, {OnnxValue} x)");
        }
        else
        {
            w.Line($"public override {Tensor} forward({Tensor} x)");
        }
        using (w.Open())
        {
            if (!onnx) w.Line($"using var scope = {Torch}.NewDisposeScope();");
            w.Line("var h = x;");
            At(AttachSite.BlockInput, "h");
            if (modules.Any(m => m.Site == AttachSite.BesideAttention))
            {
                // A module beside attention reads what attention reads: norm1's output needs a name.
                Normed("norm1", AttachSite.AfterNorm1, "r", n => n);
                w.Line($"var a = {Module("attn", "r")};");
            }
            else
            {
                Normed("norm1", AttachSite.AfterNorm1, "a", n => Module("attn", n));
            }
            At(AttachSite.AfterProj, "a");
            At(AttachSite.BesideAttention, "a", besideInput: "r");
            At(AttachSite.AfterAttention, "a");
            w.Line($"h = {Residual("a")};");
            Normed("norm2", AttachSite.AfterNorm2, "y", n => n);
            w.Line($"var m = {Module("mlp", "y")};");
            At(AttachSite.AfterFc2, "m");
            At(AttachSite.BesideMlp, "m");
            At(AttachSite.AfterMlp, "m");
            w.Line($"h = {Residual("m")};");
            At(AttachSite.BlockOutput, "h");
            w.Line(onnx ? "return h;" : "return h.MoveToOuterDisposeScope();");
        }
    }

    /// <summary>
    /// A module inside attention or the MLP: handed to them under its field's name (its state-dict segment).
    /// </summary>
    private static string InnerHook(SiteModule m, bool cast)
    {
        string hook = m.Site switch
        {
            AttachSite.AfterQkv => "AddAfterQkv",
            AttachSite.KeysValues => "AddOnKeysValues",
            AttachSite.AfterFc1 => "AddAfterFc1",
            _ => "AddAfterActivation",
        };
        return $"{hook}(\"{m.Field}\", " +
               $"new {m.Type}({m.Arguments}){(m.CastsUnderBf16 && cast ? ", computeIn: dtype" : "")})";
    }

    private static string Summary(BlockShape shape)
    {
        var parts = new List<string>();
        parts.AddRange(Methods.LoraMethod.Summaries(shape));
        parts.AddRange(shape.Methods.Select(m => m.Summary));
        return string.Join(", ", parts);
    }
}
