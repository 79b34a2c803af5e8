// Compiled into the runtime and, as internal types, into the generator (PVP_GENERATOR): one source of truth for both.
namespace Pvp;

/// <summary>How a site method's module joins the block's computation at its <see cref="AttachSite"/>.</summary>
#if PVP_GENERATOR
internal
#else
public
#endif
enum SiteCombine
{
    /// <summary>The module's output replaces the value at the site: x ← m(x).</summary>
    Replace = 0,
    /// <summary>The module's output is added to the value at the site: x ← x + m(x).</summary>
    Residual = 1,
    /// <summary>
    /// At <see cref="AttachSite.BesideMlp"/>: reads the MLP's input (norm2's output), its output is added to the MLP's;
    /// at <see cref="AttachSite.BesideAttention"/>: reads attention's input (norm1's output), its output is added to
    /// attention's.
    /// </summary>
    Beside = 2,
    /// <summary>
    /// At <see cref="AttachSite.BesideMlp"/> only: reads the residual stream
    /// after attention (AdaptFormer), its output is added to the MLP's.
    /// </summary>
    BesideStream = 3,
}
