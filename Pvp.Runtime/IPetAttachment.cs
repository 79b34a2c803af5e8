using static TorchSharp.torch;

namespace Pvp;

/// <summary>
/// A user's PETuning module that <see cref="AttachAttribute"/> can place in a block. Implement it on a
/// <c>nn.Module&lt;Tensor, Tensor&gt;</c> that maps [B, N, D] → [B, N, D] and give the class a public constructor
/// taking an <see cref="AttachContext"/>. In its forward, add tensors with <see cref="Scalars.Add"/> rather than
/// <c>+</c> (see <see cref="Scalars"/> for why).
/// </summary>
public interface IPetAttachment
{
    /// <summary>Applies the module to tokens [B, N, D].</summary>
    Tensor call(Tensor tokens);
}

/// <summary>What an attached module is told when it is built.</summary>
/// <param name="EmbedDim">Token width D of the block.</param>
/// <param name="BlockIndex">The block it sits in.</param>
/// <param name="Site">Where in the block.</param>
/// <param name="Device">Where to allocate its parameters.</param>
/// <param name="Dtype">Their element type.</param>
public sealed record AttachContext(int EmbedDim, int BlockIndex, AttachSite Site, Device? Device, ScalarType Dtype)
{
    /// <summary>
    /// The width of the values at <see cref="Site"/>: D, but 3·D after qkv, 2·D on the keys and values and the MLP's
    /// hidden width after fc1.
    /// </summary>
    public int Width { get; init; } = EmbedDim;

    /// <summary>
    /// The side of the patch grid (image size / patch size): the last <c>GridSize²</c> tokens of the stream are the
    /// patches, row-major; the tokens before them are the class token and any prompts. 0 where the context was made
    /// without it.
    /// </summary>
    public int GridSize { get; init; }

    /// <summary>The attention's number of heads (head width <c>EmbedDim / Heads</c>). 0 where the context was made without it.</summary>
    public int Heads { get; init; }
}
