// Compiled into the runtime and, as internal types, into the generator (PVP_GENERATOR): one source of truth for both.
using System;

namespace Pvp;

/// <summary>Whose adapter design: where the adapter sits in a block and what it reads.</summary>
#if PVP_GENERATOR
internal
#else
public
#endif
enum AdapterPlacement
{
    /// <summary>
    /// Pfeiffer et al. (2020), and VPT's adapter baseline: one adapter after the MLP, on its output, with its own
    /// residual (m + s·adapter(m)).
    /// </summary>
    Pfeiffer = 0,
    /// <summary>
    /// AdaptFormer (Chen et al., 2022, its <c>custom_modules.py</c>): beside the MLP, reading the block's residual
    /// stream after attention (before <c>norm2</c>); s·adapter(h) is added to the MLP's output.
    /// </summary>
    AdaptFormer = 1,
    /// <summary>
    /// Houlsby et al. (2019): two adapters, after the attention
    /// projection and after the MLP, each with its own residual.
    /// </summary>
    Houlsby = 2,
    /// <summary>The same as <see cref="Pfeiffer"/> (the name before placements said whose design each is).</summary>
    Sequential = Pfeiffer,
    /// <summary>The same as <see cref="AdaptFormer"/>.</summary>
    Parallel = AdaptFormer,
}

/// <summary>An adapter's own LayerNorm (AdaptFormer's <c>adapter_layernorm_option</c>).</summary>
#if PVP_GENERATOR
internal
#else
public
#endif
enum AdapterNorm
{
    /// <summary>None (AdaptFormer's main script, <c>ffn_adapter_layernorm_option="none"</c>).</summary>
    None = 0,
    /// <summary>
    /// A LayerNorm on the adapter's input (AdaptFormer's <c>"in"</c>), parameters <c>adapter.norm.*</c>.
    /// </summary>
    Input = 1,
}

/// <summary>
/// Each adapter design's defaults, from its reference code; what an <see cref="AdapterAttribute"/> left unset means.
/// </summary>
#if PVP_GENERATOR
internal
#else
public
#endif
static class AdapterDefaults
{
    /// <summary>
    /// AdaptFormer: 64 (its <c>--ffn_num</c>); Pfeiffer and
    /// Houlsby: D / 8 (VPT's adapter baseline, reduction factor 8).
    /// </summary>
    public static int Bottleneck(AdapterPlacement placement, int embedDim) =>
        placement == AdapterPlacement.AdaptFormer ? 64 : Math.Max(1, embedDim / 8);

    /// <summary>AdaptFormer: 0.1 (its <c>ffn_adapter_scalar</c>); the sequential designs: 1.</summary>
    public static double Scale(AdapterPlacement placement) => placement == AdapterPlacement.AdaptFormer ? 0.1 : 1.0;

    /// <summary>AdaptFormer: 0.1 (its blocks build the adapter with it); the sequential designs: 0.</summary>
    public static double Dropout(AdapterPlacement placement) => placement == AdapterPlacement.AdaptFormer ? 0.1 : 0.0;
}

/// <summary>
/// A bottleneck adapter: [LayerNorm →] down-projection → ReLU → dropout → up-projection, scaled. <c>down_proj</c> keeps
/// PyTorch's Linear initialisation (Kaiming-uniform, a = √5); the up-projection and both biases start at zero
/// (AdaptFormer's <c>"lora"</c> init), so the block starts as the backbone's. Parameters:
/// <c>blocks.{i}.adapter.{down_proj,up_proj}.*</c>, and for Houlsby's second adapter <c>blocks.{i}.adapter_attn.*</c>.
/// </summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
#if PVP_GENERATOR
internal
#else
public
#endif
sealed class AdapterAttribute : Attribute
#if PVP_GENERATOR
    , Generators.Methods.ISiteMethod
#endif
{
    /// <summary>The kind name of adapters's parameters: their parameter group and freezing class.</summary>
    public const string KindName = "adapters";

    /// <summary>
    /// Width of the bottleneck. Default (0): the design's — 64 for AdaptFormer (its <c>--ffn_num</c>), D / 8 for
    /// Pfeiffer and Houlsby (VPT's adapter baseline, reduction factor 8: 96 for ViT-B).
    /// </summary>
    public int Bottleneck { get; set; }

    /// <summary>Whose design. Default <see cref="AdapterPlacement.Pfeiffer"/>.</summary>
    public AdapterPlacement Placement { get; set; } = AdapterPlacement.Pfeiffer;

    /// <summary>
    /// The output scale s. Default: 0.1 for AdaptFormer (its <c>ffn_adapter_scalar</c>), 1 otherwise.
    /// </summary>
    public double Scale { get; set; } = double.NaN;

    /// <summary>
    /// Dropout between the ReLU and the up-projection while training. Default: 0.1 for AdaptFormer (its blocks build
    /// the adapter with it), 0 otherwise.
    /// </summary>
    public double Dropout { get; set; } = double.NaN;

    /// <summary>A LayerNorm on the adapter's input. Default none (AdaptFormer's main script).</summary>
    public AdapterNorm Norm { get; set; } = AdapterNorm.None;

    /// <summary>Block range in C# range syntax; null means all blocks.</summary>
    public string? Blocks { get; set; }

    /// <summary>Multiplier of the base learning rate for the adapters' parameter group. Default 1.</summary>
    public double LearningRateScale { get; set; } = 1.0;

#if PVP_GENERATOR
    // The generator's reading of the declaration (compiled into the generator only): defaults, checks, modules, card.
    private const string Module = Generators.Emit.TypeNames.Blocks + ".BottleneckAdapter";

    string Generators.Methods.ISiteMethod.KindName => KindName;

    string Generators.Methods.ISiteMethod.ClassNamePart => Placement switch
    {
        AdapterPlacement.AdaptFormer => "AdaptFormer",
        AdapterPlacement.Houlsby => "Houlsby",
        _ => "Adapter",
    };

    private int BottleneckIn(Generators.Methods.MethodContext context) =>
        context.IsDeclared(nameof(Bottleneck)) ? Bottleneck : AdapterDefaults.Bottleneck(Placement, context.EmbedDim);

    private double ScaleOrDefault => double.IsNaN(Scale) ? AdapterDefaults.Scale(Placement) : Scale;

    private double DropoutOrDefault => double.IsNaN(Dropout) ? AdapterDefaults.Dropout(Placement) : Dropout;

    System.Collections.Generic.IEnumerable<Generators.Methods.ArgumentProblem>
        Generators.Methods.ISiteMethod.Check(Generators.Methods.MethodContext context)
    {
        string Num(double value) => Generators.Model.Format.Num(value);
        int bottleneck = BottleneckIn(context);
        if (bottleneck < 1) yield return new(nameof(Bottleneck), $"{bottleneck}", "positive", IsSize: true);
        if (Placement is not (AdapterPlacement.Pfeiffer or AdapterPlacement.AdaptFormer or AdapterPlacement.Houlsby))
            yield return new(nameof(Placement), $"{(int)Placement}", "Pfeiffer, AdaptFormer or Houlsby");
        if (double.IsInfinity(ScaleOrDefault)) yield return new(nameof(Scale), Num(ScaleOrDefault), "finite");
        if (!(DropoutOrDefault >= 0 && DropoutOrDefault < 1))
            yield return new(nameof(Dropout), Num(DropoutOrDefault), "in [0, 1)");
        if (Norm is not (AdapterNorm.None or AdapterNorm.Input))
            yield return new(nameof(Norm), $"{(int)Norm}", "None or Input");
    }

    System.Collections.Generic.IReadOnlyList<Generators.Model.SiteModule>
        Generators.Methods.ISiteMethod.Modules(Generators.Methods.MethodContext context)
    {
        var arguments = new System.Collections.Generic.List<string>
        {
            $"{context.EmbedDim}", $"{BottleneckIn(context)}", $"scale: {Generators.Model.Format.Num(ScaleOrDefault)}",
            "device", "dtype",
        };
        if (DropoutOrDefault != 0) arguments.Add($"dropout: {Generators.Model.Format.Num(DropoutOrDefault)}");
        if (Norm == AdapterNorm.Input) arguments.Add("normInput: true");
        string create = string.Join(", ", arguments);
        return Placement switch
        {
            AdapterPlacement.AdaptFormer => new Generators.Model.SiteModule[]
            {
                new(AttachSite.BesideMlp, SiteCombine.BesideStream, "adapter", Module, create,
                    "AdaptFormer: beside the MLP, on the stream after attention"),
            },
            AdapterPlacement.Houlsby => new Generators.Model.SiteModule[]
            {
                new(AttachSite.AfterAttention, SiteCombine.Residual, "adapter_attn", Module, create,
                    "Houlsby: adapter after attention, with its residual"),
                new(AttachSite.AfterMlp, SiteCombine.Residual, "adapter", Module, create,
                    "Houlsby: adapter after the MLP, with its residual"),
            },
            _ => new Generators.Model.SiteModule[]
            {
                new(AttachSite.AfterMlp, SiteCombine.Residual, "adapter", Module, create,
                    "Pfeiffer: adapter after the MLP, with its residual"),
            },
        };
    }

    string Generators.Methods.ISiteMethod.Summary(Generators.Methods.MethodContext context) => Placement switch
    {
        AdapterPlacement.AdaptFormer => $"an AdaptFormer adapter (bottleneck {BottleneckIn(context)})",
        AdapterPlacement.Houlsby => $"Houlsby adapters (bottleneck {BottleneckIn(context)})",
        _ => $"a Pfeiffer adapter (bottleneck {BottleneckIn(context)})",
    };

    string Generators.Methods.ISiteMethod.CardLine(Generators.Methods.MethodContext context, string blocks)
    {
        string Num(double value) => Generators.Model.Format.Num(value);
        var options = new System.Collections.Generic.List<string> { $"bottleneck {BottleneckIn(context)}" };
        if (ScaleOrDefault != 1 || Placement == AdapterPlacement.AdaptFormer)
            options.Add($"scale {Num(ScaleOrDefault)}");
        if (DropoutOrDefault != 0) options.Add($"dropout {Num(DropoutOrDefault)}");
        if (Norm == AdapterNorm.Input) options.Add("LayerNorm on its input");
        string settings = string.Join(", ", options);
        return Placement switch
        {
            AdapterPlacement.AdaptFormer =>
                $"AdaptFormer adapter ({settings}) beside the MLP of {blocks}, on the stream after attention",
            AdapterPlacement.Houlsby =>
                $"Houlsby adapters ({settings}) after the attention and after the MLP of {blocks}",
            _ => $"Pfeiffer adapter ({settings}) after the MLP of {blocks}",
        };
    }
#endif
}
