namespace Pvp;

/// <summary>Where a bottleneck adapter sits in a block.</summary>
public enum AdapterPlacement
{
    /// <summary>Houlsby/Pfeiffer: after the MLP, on its output, with its own residual (m + s·up(relu(down(m)))).</summary>
    Sequential = 0,
    /// <summary>AdaptFormer: beside the MLP, reading the MLP's input; its scaled output is added to the MLP's.</summary>
    Parallel = 1,
}

/// <summary>
/// A bottleneck adapter: down-projection → ReLU → up-projection, scaled. The up-projection and both biases start at
/// zero, so the block starts as the backbone's. Parameters: <c>blocks.{i}.adapter.{down_proj,up_proj}.*</c>.
/// </summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
public sealed class AdapterAttribute : Attribute
{
    /// <summary>Width of the bottleneck. Default 8.</summary>
    public int Bottleneck { get; set; } = 8;

    /// <summary>Sequential (Houlsby) or parallel (AdaptFormer). Default sequential.</summary>
    public AdapterPlacement Placement { get; set; } = AdapterPlacement.Sequential;

    /// <summary>The output scale s. Default: 0.1 for <see cref="AdapterPlacement.Parallel"/> (AdaptFormer), 1 for sequential.</summary>
    public double Scale { get; set; } = double.NaN;

    /// <summary>Block range in C# range syntax; null means all blocks.</summary>
    public string? Blocks { get; set; }

    /// <summary>Multiplier of the base learning rate for the adapters' parameter group. Default 1.</summary>
    public double LearningRateScale { get; set; } = 1.0;
}
