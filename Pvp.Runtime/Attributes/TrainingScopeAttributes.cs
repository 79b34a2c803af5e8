namespace Pvp;

/// <summary>BitFit (Ben Zaken et al. 2022): every bias of the backbone trains, LayerNorm biases included.</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
public sealed class TrainBiasAttribute : Attribute { }

/// <summary>Every LayerNorm of the backbone (weight and bias) trains.</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
public sealed class TrainNormsAttribute : Attribute { }

/// <summary>Only the head trains; the whole backbone is frozen. Cannot be combined with PETuning attributes.</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
public sealed class LinearProbeAttribute : Attribute { }

/// <summary>Every parameter trains (the usual fine-tuning baseline). Cannot be combined with PETuning attributes.</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
public sealed class FullFineTuneAttribute : Attribute { }
