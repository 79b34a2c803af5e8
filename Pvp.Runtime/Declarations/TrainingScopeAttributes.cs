// Compiled into the runtime and, as internal types, into the generator (PVP_GENERATOR): one source of truth for both.
using System;

namespace Pvp;

/// <summary>BitFit (Ben Zaken et al. 2022): every bias of the backbone trains, LayerNorm biases included.</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
#if PVP_GENERATOR
internal
#else
public
#endif
sealed class TrainBiasAttribute : Attribute { }

/// <summary>Every LayerNorm of the backbone (weight and bias) trains.</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
#if PVP_GENERATOR
internal
#else
public
#endif
sealed class TrainNormsAttribute : Attribute { }

/// <summary>Only the head trains; the whole backbone is frozen. Cannot be combined with PETuning attributes.</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
#if PVP_GENERATOR
internal
#else
public
#endif
sealed class LinearProbeAttribute : Attribute { }

/// <summary>
/// Every parameter trains (the usual fine-tuning baseline). Cannot be combined with PETuning attributes.
/// </summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
#if PVP_GENERATOR
internal
#else
public
#endif
sealed class FullFineTuneAttribute : Attribute { }
