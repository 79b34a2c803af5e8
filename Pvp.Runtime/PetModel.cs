using System.Text;
using Pvp.Blocks;
using Pvp.Checkpoints;
using Pvp.Onnx;
using Pvp.Weights;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using Pvp.MixedPrecision;
using Pvp.Optim;

namespace Pvp;

/// <summary>
/// Base class of every model the Pvp generator writes: a ViT (images [B, C, H, W] → logits [B, classes]) with
/// timm's state-dict keys, the PETuning modules its declaration attaches, and what goes with them: which parameters
/// train, optimizer groups, export and import of only the PETuning modules, and a model card.
/// </summary>
public abstract class PetModel : nn.Module<Tensor, Tensor>, IWeightTarget
{
    /// <summary>Called by generated constructors.</summary>
    /// <param name="name">The module name (the declared class name).</param>
    /// <param name="numClasses">Classes of the head; 0 means no head (the forward returns the pooled features).</param>
    protected PetModel(string name, int numClasses) : base(name)
    {
        if (numClasses < 0)
            throw new ArgumentOutOfRangeException(nameof(numClasses), numClasses,
                "The class count must be 0 (no head) or positive.");
        NumClasses = numClasses;
    }

    /// <summary>Classes of the head, or 0 when the model has no head.</summary>
    public int NumClasses { get; }

    /// <summary>The declared class name, the key of this variant in <see cref="VariantRegistry"/>.</summary>
    public abstract string VariantName { get; }

    /// <summary>The backbone's sizes.</summary>
    public abstract VitConfig Backbone { get; }

    /// <summary>The type the frozen backbone is stored and computed in when it differs from the trainable modules'
    /// (bfloat16 when <see cref="Precision"/> chose it), else null.</summary>
    public ScalarType? FrozenBackboneDtype => Precision.UsesBf16 ? ScalarType.BFloat16 : null;

    /// <summary>
    /// The frozen backbone's precision and why: chosen when the model was built (see <see cref="PrecisionPlan"/>).
    /// </summary>
    public PrecisionChoice Precision { get; private set; } = PrecisionChoice.DeclaredFloat32;

    /// <summary>
    /// For variants declared with <c>Precision = PrecisionPlan.BackboneBf16</c> (generated constructors call it first):
    /// decides the frozen backbone's precision for <paramref name="device"/> and returns the type to build it in —
    /// bf16, or <paramref name="dtype"/>.
    /// </summary>
    protected ScalarType ChooseBackbonePrecision(BackbonePrecision requested, Device? device, ScalarType dtype)
    {
        Precision = PrecisionChoice.Decide(allowsBf16: true, requested, device, GetType().Name);
        return Precision.UsesBf16 ? ScalarType.BFloat16 : dtype;
    }

    /// <summary>
    /// The kind names that train, in group order (the methods', then <c>head</c>, <c>norms</c>, <c>biases</c>,
    /// <c>backbone</c> as declared); every other parameter is frozen.
    /// </summary>
    public abstract IReadOnlyList<string> TrainableKinds { get; }

    /// <summary>
    /// Which PETuning method owns each of the model's own parameters
    /// (the generator writes it from the declaration's layout).
    /// </summary>
    public virtual ParameterKindMap KindMap => ParameterKindMap.Empty;

    /// <summary>One line per PETuning module the declaration attaches, for the model card.</summary>
    public abstract IReadOnlyList<string> Attachments { get; }

    /// <summary>Learning-rate scales and decay exemptions from the declaration.</summary>
    protected virtual GroupSettings GroupSettings => GroupSettings.Default;

    /// <summary>
    /// Stochastic depth in the blocks while training (timm's <c>drop_path_rate</c>; NOAH's few-shot runs use 0.1): block
    /// i of n drops its residual branches per sample with probability rate · i / (n − 1), as timm's linear schedule. 0
    /// (the default) is off; evaluation, <c>eval()</c> and ONNX export never drop. Set it before training.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">Outside [0, 1).</exception>
    public double DropPathRate
    {
        get => dropPathRate;
        set
        {
            if (!(value >= 0 && value < 1))
                throw new ArgumentOutOfRangeException(nameof(value), value, "A drop-path rate is a probability in [0, 1).");
            foreach (var (name, module) in named_modules())
            {
                if (module is not DropPath dropPath) continue;
                // "blocks.{i}.drop_path": the block's index sets its share of the rate.
                var parts = name.Split('.');
                int block = parts.Length > 1 && int.TryParse(parts[1], out int index) ? index : Backbone.Depth - 1;
                dropPath.Rate = DropPath.RateOfBlock(value, block, Backbone.Depth);
            }
            dropPathRate = value;
        }
    }

    private double dropPathRate;

    /// <summary>All parameters' element count.</summary>
    public long ParameterCount => parameters().Sum(p => p.numel());

    /// <summary>Element count of the parameters that require gradients.</summary>
    public long TrainableParameterCount => parameters().Where(p => p.requires_grad).Sum(p => p.numel());

    /// <summary>
    /// The kind names of the parameter with state-dict key <paramref name="name"/>,
    /// most specific first: its method's (<see cref="KindMap"/>), or <c>head</c>,
    /// or the backbone's (<c>norms</c> and/or <c>biases</c>, then <c>backbone</c>).
    /// </summary>
    public IReadOnlyList<string> KindsOf(string name) =>
        KindMap.KindOf(name) is { } method ? new[] { method } : ParameterNaming.BackboneKindsOf(name);

    /// <summary>
    /// The most specific kind name of the parameter with state-dict key
    /// <paramref name="name"/> (the first of <see cref="KindsOf"/>).
    /// </summary>
    public string KindOf(string name) => KindsOf(name)[0];

    /// <summary>Names of the parameters that train, in state-dict order.</summary>
    public IReadOnlyList<string> TrainableParameterNames() =>
        named_parameters().Where(p => p.parameter.requires_grad).Select(p => p.name).ToList();

    /// <summary>
    /// Sets <c>requires_grad</c> from <see cref="TrainableKinds"/>: the backbone
    /// freezes, the PETuning modules and the head train. Generated constructors call
    /// it; call it again after changing <c>requires_grad</c> by hand to restore.
    /// </summary>
    public void ApplyTrainability()
    {
        var trainable = TrainableKinds;
        foreach (var (name, parameter) in named_parameters())
            parameter.requires_grad = KindsOf(name).Any(trainable.Contains);
    }

    /// <summary>
    /// The optimizer groups: one per kind that trains, split into a decayed part and a part without decay (biases,
    /// norms, prompts unless declared, tokens). Empty groups are left out. Build them after moving the model to its
    /// device, since moving replaces parameter objects.
    /// </summary>
    public IReadOnlyList<ParameterGroup> ParameterGroups(double learningRate, double weightDecay) =>
        ParameterGroups(learningRate, weightDecay, DecayRule.Pvp);

    /// <summary>
    /// The optimizer groups with the decay rule given: <see cref="DecayRule.Pvp"/> as above, or
    /// <see cref="DecayRule.All"/> (every trainable parameter decays, prompts, biases and norms too, but the
    /// classifier's bias: VPT's <c>optimizer.py</c> for SGD).
    /// </summary>
    public IReadOnlyList<ParameterGroup> ParameterGroups(double learningRate, double weightDecay, DecayRule rule)
    {
        var settings = GroupSettings;
        var trainable = TrainableKinds;
        var buckets = new Dictionary<(string Kind, bool Decay), List<(string, Parameter)>>();
        var order = new List<string>(trainable);
        foreach (var (name, parameter) in named_parameters())
        {
            if (!parameter.requires_grad) continue;
            var kinds = KindsOf(name);
            string kind = kinds.FirstOrDefault(trainable.Contains) ?? kinds[0]; // else trainable by hand
            if (!order.Contains(kind)) order.Add(kind);
            bool decay =
                (rule == DecayRule.All && !(kind == KindNames.Head && name.EndsWith("bias", StringComparison.Ordinal)))
                || (ParameterNaming.DecayByDefault(name, parameter.dim(), kinds) && !settings.UndecayedKinds.Contains(kind));
            if (!buckets.TryGetValue((kind, decay), out var list)) buckets[(kind, decay)] = list = new();
            list.Add((name, parameter));
        }
        return order
            .SelectMany(kind => new[] { true, false }.Select(decay => (kind, decay)))
            .Where(key => buckets.ContainsKey(key))
            .Select(key => new ParameterGroup(
                key.kind + (key.decay ? "" : " (no decay)"), key.kind,
                learningRate * settings.ScaleOf(key.kind), key.decay ? weightDecay : 0.0, buckets[key]))
            .ToList();
    }

    /// <summary>
    /// AdamW over <see cref="ParameterGroups(double, double, DecayRule)"/>,
    /// each group with its own learning rate and decay.
    /// </summary>
    /// <exception cref="InvalidOperationException">Nothing trains.</exception>
    public PetAdamW CreateAdamW(double learningRate, double weightDecay, double beta1 = 0.9, double beta2 = 0.999,
        DecayRule rule = DecayRule.Pvp)
    {
        var groups = ParameterGroups(learningRate, weightDecay, rule);
        if (groups.Count == 0) throw new InvalidOperationException($"{VariantName} has no trainable parameters.");
        return new PetAdamW(groups, beta1, beta2);
    }

    /// <summary>SGD with momentum over <see cref="ParameterGroups(double, double, DecayRule)"/>.</summary>
    /// <exception cref="InvalidOperationException">Nothing trains.</exception>
    public PetSgd CreateSgd(double learningRate, double weightDecay, double momentum = 0.9, DecayRule rule = DecayRule.Pvp,
        bool nesterov = false)
    {
        var groups = ParameterGroups(learningRate, weightDecay, rule);
        if (groups.Count == 0) throw new InvalidOperationException($"{VariantName} has no trainable parameters.");
        return new PetSgd(groups, momentum, nesterov);
    }

    /// <summary>
    /// The PETuning state: every trainable parameter except the head (a stage-1 head belongs to the source classes),
    /// or with it when <paramref name="includeHead"/>. For a full fine-tune that is the whole backbone.
    /// </summary>
    public Dictionary<string, Tensor> PetuningStateDict(bool includeHead = false) =>
        named_parameters()
            .Where(p => p.parameter.requires_grad && (includeHead || KindOf(p.name) != KindNames.Head))
            .ToDictionary(p => p.name, p => (Tensor)p.parameter);

    /// <summary>
    /// Writes only the PETuning modules to a safetensors file, with the variant and backbone as metadata.
    /// </summary>
    public void ExportPetuning(
        string path, bool includeHead = false, IReadOnlyDictionary<string, string>? metadata = null)
    {
        var meta = new Dictionary<string, string>
        {
            ["format"] = "pvp-petuning/1",
            ["variant"] = VariantName,
            ["backbone"] = Backbone.ToString(),
        };
        if (metadata is not null) foreach (var (k, v) in metadata) meta[k] = v;
        var tensors = PetuningStateDict(includeHead);
        FiniteWeights.Require(tensors, $"{VariantName}'s PETuning modules (to {path})",
            "Nothing was written; the training that made them diverged.");
        AtomicFile.Write(path, temp => SafeTensors.Save(temp, tensors, meta));
    }

    /// <summary>Loads PETuning modules exported by <see cref="ExportPetuning"/> (strict by name and shape).</summary>
    /// <exception cref="CheckpointMismatchException">Names each missing, unexpected and mis-shaped key.</exception>
    public void ImportPetuning(string path, bool includeHead = false) =>
        ImportPetuning(SafeTensors.Load(path), includeHead, path);

    /// <summary>
    /// Loads PETuning tensors by name (strict by name and shape); copies values into this model's parameters.
    /// </summary>
    /// <exception cref="CheckpointMismatchException">Names each missing, unexpected and mis-shaped key.</exception>
    public void ImportPetuning(
        IReadOnlyDictionary<string, Tensor> tensors, bool includeHead = false, string source = "<in memory>")
    {
        var expected = PetuningStateDict(includeHead);
        FiniteWeights.Require(tensors, source,
            "The file is damaged: re-create it (run its stage or cell again, with --force in a run folder).");
        var missing = expected.Keys.Where(k => !tensors.ContainsKey(k))
            .OrderBy(k => k, StringComparer.Ordinal).ToList();
        var unexpected = tensors.Keys.Where(k => !expected.ContainsKey(k))
            .OrderBy(k => k, StringComparer.Ordinal).ToList();
        var misShaped = expected
            .Where(p => tensors.TryGetValue(p.Key, out var t) && !t.shape.SequenceEqual(p.Value.shape))
            .Select(p => $"{p.Key}: checkpoint [{string.Join(", ", tensors[p.Key].shape)}] " +
                $"vs model [{string.Join(", ", p.Value.shape)}]")
            .OrderBy(k => k, StringComparer.Ordinal).ToList();
        if (missing.Count + unexpected.Count + misShaped.Count > 0)
            throw new CheckpointMismatchException(
                source, $"{VariantName} ({Backbone})", missing, unexpected, misShaped);
        using var noGrad = no_grad();
        foreach (var (name, target) in expected)
            target.copy_(tensors[name]);
    }

    /// <summary>
    /// Loads pre-trained backbone weights (timm or torchvision layout, safetensors or a PyTorch state dict; a file or a
    /// <c>hf-hub:org/name[@revision]</c> id) into this
    /// model: see <see cref="BackboneWeights"/>. PETuning modules keep their initialisation.
    /// </summary>
    public WeightLoadReport LoadBackbone(string path, BackboneLoadOptions? options = null) =>
        BackboneWeights.Load(this, path, options);

    string IWeightTarget.WeightTargetName => $"{VariantName} ({Backbone})";

    IReadOnlyDictionary<string, Tensor> IWeightTarget.WeightTargetState => state_dict();

    WeightRoles IWeightTarget.RoleOf(string key)
    {
        var kinds = KindsOf(key);
        return (kinds.Contains(KindNames.Backbone) ? WeightRoles.Backbone : WeightRoles.None) |
               (kinds.Contains(KindNames.Head) ? WeightRoles.Head : WeightRoles.None);
    }

    void IWeightTarget.BackboneLoaded()
    {
        // DoRA's magnitudes start as ‖W‖ of the pre-trained weight, which only now is in place.
        foreach (var (_, module) in named_modules())
            if (module is Blocks.IFollowsBackbone follower) follower.FollowBackbone();
    }

    /// <summary>
    /// Writes this model as an ONNX file (opset 17 or later, IR 8) that ONNX Runtime runs without libtorch: input
    /// <c>images</c> float32 [batch, C, H, W] (normalised as in training), output <c>logits</c> float32 [batch,
    /// classes] (pooled features [batch, D] without a head). The graph mirrors the generated forward pass node for
    /// node, in inference mode (dropout off); the batch dimension is dynamic; parameters are initializers named by
    /// their state-dict keys, float32 unless <see cref="OnnxExportOptions.Weights"/> keeps a bf16 backbone's. The
    /// file's <c>metadata_props</c> record the variant, its attachments, the image size, the preprocessing and class
    /// names given in <paramref name="options"/>, and Pvp's version. Written atomically: on any failure (an attached
    /// module that does not implement <see cref="IOnnxModule"/>, say) no file is left at <paramref name="path"/>.
    /// </summary>
    /// <param name="path">The .onnx file to write.</param>
    /// <param name="options">
    /// LoRA merged or separate, weight type, opset, preprocessing, class names; null:
    /// <see cref="OnnxExportOptions.Default"/>.
    /// </param>
    /// <returns>
    /// The metadata written (also readable from the file through ONNX Runtime's
    /// <c>ModelMetadata.CustomMetadataMap</c>).
    /// </returns>
    /// <exception cref="OnnxExportException">Some part of the model has no ONNX form; the message names it.</exception>
    public IReadOnlyDictionary<string, string> ExportOnnx(string path, OnnxExportOptions? options = null)
    {
        options ??= OnnxExportOptions.Default;
        FiniteWeights.Require(state_dict(), $"{VariantName} (exporting to {path})",
            "Nothing was written: an ONNX file of NaNs would classify nothing.");
        var graph = new OnnxGraph(this, options);
        try
        {
            var b = Backbone;
            var images = graph.AddInput("images",
                new object[] { "batch", (long)b.InChannels, (long)b.ImageSize, (long)b.ImageSize });
            OnnxValue logits;
            using (no_grad())
                logits = EmitOnnx(graph, images);
            graph.AddOutput(logits, "logits",
                new object[] { "batch", (long)(NumClasses > 0 ? NumClasses : b.EmbedDim) });
            var metadata = OnnxMetadata(options);
            AtomicFile.Write(path, temp =>
            {
                using var stream = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20);
                graph.Write(stream, VariantName, PvpVersion, ModelCard(), metadata.ToList());
            });
            return metadata;
        }
        finally
        {
            graph.DisposeTensors();
        }
    }

    /// <summary>
    /// Adds the nodes of the forward pass for images <paramref name="images"/> and returns
    /// the logits. The generator writes it for every variant from the same statements as
    /// the forward pass; a hand-written subclass overrides it to be exportable.
    /// </summary>
    /// <param name="graph">The graph being built.</param>
    /// <param name="images">Images [B, C, H, W].</param>
    /// <exception cref="OnnxExportException">This class does not override it.</exception>
    protected virtual OnnxValue EmitOnnx(OnnxGraph graph, OnnxValue images) =>
        throw new OnnxExportException(
            $"{GetType().FullName} has no ONNX form: it was not written by Pvp's generator " +
            $"and does not override {nameof(EmitOnnx)}.");

    /// <summary>
    /// Pvp's version (the runtime assembly's informational version, without a source-revision suffix).
    /// </summary>
    public static string PvpVersion { get; } =
        (typeof(PetModel).Assembly
            .GetCustomAttributes(typeof(System.Reflection.AssemblyInformationalVersionAttribute), false)
            .OfType<System.Reflection.AssemblyInformationalVersionAttribute>().FirstOrDefault()?.InformationalVersion
            ?? "0.0.0").Split('+')[0];

    private Dictionary<string, string> OnnxMetadata(OnnxExportOptions options)
    {
        options.Validate(Backbone.InChannels, NumClasses);
        var invariant = System.Globalization.CultureInfo.InvariantCulture;
        string Floats(IEnumerable<float> values) =>
            System.Text.Json.JsonSerializer.Serialize(values.Select(v => (double)(decimal)v));
        var b = Backbone;
        var meta = new Dictionary<string, string>
        {
            ["pvp.version"] = PvpVersion,
            ["pvp.variant"] = VariantName,
            ["pvp.backbone"] = b.ToString(),
            ["pvp.attachments"] = System.Text.Json.JsonSerializer.Serialize(Attachments),
            ["pvp.image_size"] = b.ImageSize.ToString(invariant),
            ["pvp.in_channels"] = b.InChannels.ToString(invariant),
            ["pvp.num_classes"] = NumClasses.ToString(invariant),
            ["pvp.input"] = "images",
            ["pvp.output"] = NumClasses > 0 ? "logits" : "features",
            ["pvp.lora"] = options.Lora == OnnxLoraMode.Merged ? "merged" : "separate",
            ["pvp.trained_precision"] = FrozenBackboneDtype is null ? "float32" : "bf16",
        };
        if (options.Preprocessing is { } pre)
        {
            meta["pvp.mean"] = Floats(pre.Mean);
            meta["pvp.std"] = Floats(pre.Std);
            meta["pvp.crop_fraction"] = pre.CropFraction.ToString("R", invariant);
            meta["pvp.resize"] = pre.Resize;
            meta["pvp.interpolation"] = pre.Interpolation;
            if (pre.Description is { } description) meta["pvp.preprocessing"] = description;
        }
        if (options.ClassNames is { } classes)
        {
            meta["pvp.class_names"] = System.Text.Json.JsonSerializer.Serialize(classes);
        }
        if (options.Metadata is not null) foreach (var (k, v) in options.Metadata) meta[k] = v;
        return meta;
    }

    /// <summary>
    /// A printable description: backbone, what attaches where, parameter counts by kind, and the trainable share.
    /// </summary>
    public string ModelCard()
    {
        var text = new StringBuilder();
        text.AppendLine($"{VariantName}: {Backbone}, {(NumClasses > 0 ? $"{NumClasses} classes" : "no head")}" +
                        (FrozenBackboneDtype is { } frozen ? $", frozen backbone in {frozen}" : "") +
                        (Precision != PrecisionChoice.DeclaredFloat32 ? $" ({Precision.Reason})" : ""));
        if (Attachments.Count == 0) text.AppendLine("  attachments: none");
        foreach (string line in Attachments) text.AppendLine($"  + {line}");
        var byKind = named_parameters()
            .Where(p => p.parameter.requires_grad)
            .GroupBy(p => KindOf(p.name))
            .Select(g => $"{g.Key} {g.Sum(p => p.parameter.numel()):N0}");
        long total = ParameterCount, trainable = TrainableParameterCount;
        text.AppendLine($"  trainable: {trainable:N0} of {total:N0} ({100.0 * trainable / Math.Max(1, total):F3}%): " +
            $"{string.Join(", ", byKind)}");
        return text.ToString();
    }

    /// <summary>
    /// timm's default ViT initialisation of the backbone: position embedding truncated-normal (std 0.02, bounds ±2 as
    /// timm), class token normal (std 1e-6), every linear weight of the backbone and head truncated-normal (std 0.02)
    /// with zero bias. The patch convolution and LayerNorms keep PyTorch's defaults; PETuning modules keep their own.
    /// </summary>
    protected void InitializeTimmWeights(Parameter classToken, Parameter positionEmbedding)
    {
        using var noGrad = no_grad();
        Init.TruncatedNormal(positionEmbedding, std: 0.02);
        nn.init.normal_(classToken, std: 1e-6);
        foreach (var (name, parameter) in named_parameters())
        {
            var kinds = KindsOf(name);
            if (!(kinds.Contains(KindNames.Backbone) || kinds.Contains(KindNames.Head)) || kinds.Contains(KindNames.Norms))
                continue;
            if (name.StartsWith("patch_embed.", StringComparison.Ordinal) || name is "cls_token" or "pos_embed")
                continue;
            if (parameter.dim() == 2) Init.TruncatedNormal(parameter, std: 0.02);
            else if (name.EndsWith(".bias", StringComparison.Ordinal)) nn.init.zeros_(parameter);
        }
    }
}
