// Compiled into the runtime and, as internal types, into the generator (PVP_GENERATOR): one source of truth for both.
using System;

namespace Pvp;

/// <summary>What a parameter is, for freezing and optimizer groups. Backbone parameters may also be Bias and/or Norm.</summary>
[Flags]
#if PVP_GENERATOR
internal
#else
public
#endif
enum ParameterKinds
{
    /// <summary>Nothing.</summary>
    None = 0,
    /// <summary>A weight of the pre-trained backbone (patch embedding, blocks, final norm, tokens).</summary>
    Backbone = 1,
    /// <summary>A bias of the backbone (BitFit's set), LayerNorm biases included.</summary>
    Bias = 2,
    /// <summary>A LayerNorm weight or bias of the backbone.</summary>
    Norm = 4,
    /// <summary>The classification head.</summary>
    Head = 8,
    /// <summary>VPT prompt tokens.</summary>
    Prompt = 16,
    /// <summary>LoRA's A and B.</summary>
    Lora = 32,
    /// <summary>Bottleneck adapters.</summary>
    Adapter = 64,
    /// <summary>Users' attached modules.</summary>
    Attachment = 128,
    /// <summary>SSF's scales and shifts.</summary>
    Ssf = 256,
    /// <summary>Everything.</summary>
    All = Backbone | Bias | Norm | Head | Prompt | Lora | Adapter | Attachment | Ssf,
}
