namespace Pvp.Generators.Model;

/// <summary><c>[Prompts]</c> as written.</summary>
internal sealed record PromptsDeclaration(
    LocationInfo? Location,
    Declared<int>? Length,
    Declared<bool>? Deep,
    Declared<double>? Dropout,
    Declared<string>? Blocks,
    Declared<double>? LearningRateScale,
    Declared<bool>? WeightDecay);

/// <summary><c>[Lora]</c> as written (Targets as the flags' numeric value).</summary>
internal sealed record LoraDeclaration(
    LocationInfo? Location,
    Declared<int>? Rank,
    Declared<double>? Alpha,
    Declared<int>? Targets,
    Declared<string>? Blocks,
    Declared<double>? Dropout,
    Declared<double>? LearningRateScale);

/// <summary><c>[Adapter]</c> as written (Placement as the enum's numeric value).</summary>
internal sealed record AdapterDeclaration(
    LocationInfo? Location,
    Declared<int>? Bottleneck,
    Declared<int>? Placement,
    Declared<double>? Scale,
    Declared<string>? Blocks,
    Declared<double>? LearningRateScale,
    Declared<double>? Dropout,
    Declared<int>? Norm);

/// <summary>
/// What the parser learned about the type given to <c>[Attach(typeof(T))]</c>; the symbol itself is not kept.
/// </summary>
/// <param name="FullName">Fully qualified with <c>global::</c>, for emitted code.</param>
/// <param name="Name">The simple name, for field names and messages.</param>
/// <param name="IsAttachment">Implements <c>Pvp.IPetAttachment</c> and derives from <c>nn.Module&lt;Tensor, Tensor&gt;</c>.</param>
/// <param name="IsConstructible">Non-abstract, non-generic class with a public constructor taking <c>Pvp.AttachContext</c>.</param>
internal sealed record AttachedType(string FullName, string Name, bool IsAttachment, bool IsConstructible);

/// <summary><c>[Attach]</c> as written (Site as the enum's numeric value).</summary>
internal sealed record AttachDeclaration(
    LocationInfo? Location,
    Declared<AttachedType>? Module,
    Declared<int>? Site,
    Declared<string>? Blocks,
    Declared<double>? LearningRateScale,
    bool IsNullType = false);

/// <summary><c>[Ssf]</c> as written.</summary>
internal sealed record SsfDeclaration(LocationInfo? Location, Declared<string>? Blocks, Declared<double>? LearningRateScale);

/// <summary>The argument-less attributes (<c>[TrainBias]</c>, <c>[TrainNorms]</c>, <c>[LinearProbe]</c>, <c>[FullFineTune]</c>).</summary>
internal sealed record MarkerDeclaration(string Name, LocationInfo? Location); // Name: the attribute's metadata name (KnownNames)
