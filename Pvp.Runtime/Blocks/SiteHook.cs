using static TorchSharp.torch;

namespace Pvp.Blocks;

/// <summary>
/// A site method's module inside a layer (<see cref="Attention"/>, <see cref="Mlp"/>), and the type it computes in.
/// </summary>
/// <param name="Name">Its registered name.</param>
/// <param name="Module">The module.</param>
/// <param name="ComputeIn">Its compute type when it differs from the stream's; null: the stream's.</param>
internal sealed record SiteHook(string Name, nn.Module<Tensor, Tensor> Module, ScalarType? ComputeIn)
{
    /// <summary>module(x), computed in <see cref="ComputeIn"/> and returned in x's type.</summary>
    public Tensor Call(Tensor x) => ComputeIn is { } type ? Module.call(x.to(type)).to(x.dtype) : Module.call(x);
}
