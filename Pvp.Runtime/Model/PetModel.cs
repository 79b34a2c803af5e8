using System.Linq;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Pvp;

/// <summary>
/// Base class of every model the Pvp generator writes: a ViT (images [B, C, H, W] → logits [B, classes]) with
/// timm's state-dict keys.
/// </summary>
public abstract class PetModel : nn.Module<Tensor, Tensor>
{
    /// <summary>Called by generated constructors.</summary>
    /// <param name="name">The module name (the declared class name).</param>
    /// <param name="numClasses">Classes of the head; 0 means no head (the forward returns the pooled features).</param>
    protected PetModel(string name, int numClasses) : base(name)
    {
        if (numClasses < 0)
            throw new ArgumentOutOfRangeException(nameof(numClasses), numClasses, "The class count must be 0 (no head) or positive.");
        NumClasses = numClasses;
    }

    /// <summary>Classes of the head, or 0 when the model has no head.</summary>
    public int NumClasses { get; }

    /// <summary>The backbone's sizes.</summary>
    public abstract VitConfig Backbone { get; }

    /// <summary>All parameters' element count.</summary>
    public long ParameterCount => parameters().Sum(p => p.numel());

    /// <summary>Element count of the parameters that require gradients.</summary>
    public long TrainableParameterCount => parameters().Where(p => p.requires_grad).Sum(p => p.numel());

    /// <summary>
    /// timm's default ViT initialisation: position embedding truncated-normal (std 0.02, bounds ±2 as timm), class token normal
    /// (std 1e-6), every Linear weight truncated-normal (std 0.02) with zero bias; convolution and LayerNorm keep
    /// PyTorch's defaults.
    /// </summary>
    protected void InitializeTimmWeights(Parameter classToken, Parameter positionEmbedding)
    {
        using var noGrad = no_grad();
        Init.TruncatedNormal(positionEmbedding, std: 0.02);
        nn.init.normal_(classToken, std: 1e-6);
        foreach (var (_, module) in named_modules())
        {
            if (module is Linear linear)
            {
                Init.TruncatedNormal(linear.weight!, std: 0.02);
                if (linear.bias is { } bias) nn.init.zeros_(bias);
            }
        }
    }
}
