using TorchSharp;
using static TorchSharp.torch;

namespace Pvp.Blocks;

/// <summary>
/// Stochastic depth on a residual branch (timm's <c>DropPath</c>, Huang et al. 2016): in training, each sample's branch
/// output is zeroed with probability <see cref="Rate"/> and the kept ones are scaled by 1 / (1 − rate), so the expected
/// output is unchanged; in evaluation, or at rate 0, the branch passes as it is. It holds no parameters, so state dicts
/// and ONNX graphs do not see it. Generated blocks carry one (<c>drop_path</c>) before each residual sum; a model's
/// <see cref="PetModel.DropPathRate"/> sets the rates of all of them.
/// </summary>
public sealed class DropPath : nn.Module<Tensor, Tensor>
{
    private double rate;

    /// <summary>Creates it at rate 0 (the identity).</summary>
    public DropPath() : base(nameof(DropPath))
    {
    }

    /// <summary>The probability of dropping a sample's branch while training, in [0, 1).</summary>
    /// <exception cref="ArgumentOutOfRangeException">Outside [0, 1).</exception>
    public double Rate
    {
        get => rate;
        set
        {
            if (!(value >= 0 && value < 1))
                throw new ArgumentOutOfRangeException(nameof(value), value, "A drop-path rate is a probability in [0, 1).");
            rate = value;
        }
    }

    /// <summary>The branch, with whole samples dropped (training only).</summary>
    public override Tensor forward(Tensor x) => training ? Apply(x, rate) : x;

    /// <summary>
    /// <paramref name="x"/> with whole samples zeroed with probability <paramref name="rate"/> and the kept ones scaled
    /// by 1 / (1 − rate): the training-time op, for a module that holds its own rate (Adapter+'s branch).
    /// </summary>
    internal static Tensor Apply(Tensor x, double rate)
    {
        if (rate == 0) return x;
        using var scope = NewDisposeScope();
        double keep = 1 - rate;
        var shape = new long[x.dim()];
        Array.Fill(shape, 1L);
        shape[0] = x.shape[0]; // one draw per sample, broadcast over tokens and channels
        var mask = empty(shape, dtype: x.dtype, device: x.device).bernoulli_(keep).div_(keep);
        return x.mul(mask).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// timm's schedule: the rate grows linearly with depth, from 0 in the first block to <paramref name="rate"/> in the
    /// last (<c>torch.linspace(0, drop_path_rate, depth)</c>).
    /// </summary>
    public static double RateOfBlock(double rate, int block, int depth) => depth <= 1 ? 0 : rate * block / (depth - 1);
}
