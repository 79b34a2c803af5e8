using Pvp.Weights;
using TorchSharp;
using static Pvp.Tests.Numerics.TestTensors;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace Pvp.Tests.Numerics;

/// <summary>
/// The generated PETuning modules against references written here (LoRA, VPT replacement, adapters, a user's
/// module) and against torchvision-based fixtures made outside this project.
/// </summary>
public class PetuningNumericsTests
{
    private static Tensor Images(int batch = 4) => randn(batch, 3, 32, 32);

    /// <summary>up(relu(down(x))) of block i's adapter, from the state dict: the definition, without the scale.</summary>
    private static Tensor Adapter(IReadOnlyDictionary<string, Tensor> w, int i, Tensor input, string name = "adapter") =>
        F.linear(F.relu(F.linear(input, w[$"blocks.{i}.{name}.down_proj.weight"], w[$"blocks.{i}.{name}.down_proj.bias"])),
            w[$"blocks.{i}.{name}.up_proj.weight"], w[$"blocks.{i}.{name}.up_proj.bias"]);

    private static (TinyVit Backbone, Dictionary<string, Tensor> Weights) PerturbedBackbone(int seed)
    {
        manual_seed(seed);
        var backbone = new TinyVit(numClasses: 10);
        Perturb(backbone);
        backbone.eval();
        return (backbone, backbone.state_dict());
    }

    [Fact]
    public void LoraWithZeroBEqualsTheBackbone()
    {
        var (backbone, _) = PerturbedBackbone(1);
        using var lora = new TinyLoraEverywhere(numClasses: 10);
        CopyShared(backbone, lora);
        lora.eval();
        using var x = Images();
        using var noGrad = no_grad();
        Assert.True(MaxDiff(lora.call(x), backbone.call(x)) <= 1e-6);
    }

    [Fact]
    public void LoraMatchesItsDefinitionAndMergesBothWays()
    {
        var (backbone, _) = PerturbedBackbone(2);
        using var lora = new TinyLoraEverywhere(numClasses: 10);
        CopyShared(backbone, lora);
        Perturb(lora, 0.1, name => name.Contains("lora_", StringComparison.Ordinal));
        lora.eval();
        var w = lora.state_dict();

        // W + (alpha / r)·B·A per adapted layer: q, k, v slices and proj of blocks 0–1 (r 4, alpha 16), fc1 and fc2 everywhere (r 2, alpha 2).
        Tensor Delta(string prefix, double scale) => w[prefix + ".lora_B"].matmul(w[prefix + ".lora_A"]) * scale;
        Tensor Effective(string key, Tensor weight)
        {
            string layer = key[..^".weight".Length];
            int block = int.Parse(key.Split('.')[1]);
            if (key.EndsWith("attn.qkv.weight", StringComparison.Ordinal) && block < 2)
                return weight + cat(new[] { Delta(layer + ".q", 4), Delta(layer + ".k", 4), Delta(layer + ".v", 4) }, 0);
            if (key.EndsWith("attn.proj.weight", StringComparison.Ordinal) && block < 2) return weight + Delta(layer, 4);
            if (key.Contains("mlp.fc", StringComparison.Ordinal)) return weight + Delta(layer, 1);
            return weight;
        }

        using var x = Images();
        using var noGrad = no_grad();
        var unmerged = lora.call(x);
        var reference = ReferenceVit.Forward(w, x, 3, 4, 4, new ReferenceHooks { Weight = Effective });
        Assert.True(MaxDiff(unmerged, reference) <= 1e-5, $"LoRA vs reference: {MaxDiff(unmerged, reference):E2}");
        Assert.True(MaxDiff(unmerged, backbone.call(x)) > 1e-3, "the update should change the output");

        var before = Snapshot(lora);
        lora.MergeLora();
        var merged = lora.call(x);
        Assert.True(MaxDiff(merged, unmerged) <= 1e-5, $"merged vs unmerged: {MaxDiff(merged, unmerged):E2}");
        Assert.True(MaxDiff(lora.state_dict()["blocks.0.attn.qkv.weight"], before["blocks.0.attn.qkv.weight"]) > 1e-4, "merge folds ΔW into W");
        lora.MergeLora(); // idempotent
        Assert.True(MaxDiff(lora.call(x), unmerged) <= 1e-5);

        lora.UnmergeLora();
        foreach (var (key, value) in lora.state_dict())
            Assert.True(MaxDiff(value, before[key]) <= 1e-6, $"{key} after unmerge");
    }

    // DoRA's weight written from the paper's definition: W' = m ⊙ (W + s·B·A) / ‖W + s·B·A‖, the norm over each output row.
    private static Tensor DoraWeight(Tensor w, Tensor a, Tensor b, Tensor m, double s, bool detachNorm = true)
    {
        var adapted = w + b.matmul(a) * s;
        var norm = adapted.pow(2).sum(1).sqrt();
        return adapted * (m / (detachNorm ? norm.detach() : norm)).unsqueeze(1);
    }

    private static Func<string, Tensor, Tensor> DoraEverywhere(IReadOnlyDictionary<string, Tensor> w) => (key, weight) =>
    {
        string layer = key[..^".weight".Length];
        Tensor Dora(string p, Tensor slice) =>
            DoraWeight(slice, w[p + ".lora_A"], w[p + ".lora_B"], w[p + ".lora_magnitude_vector"], 16.0 / 4);
        if (key.EndsWith("attn.qkv.weight", StringComparison.Ordinal))
        {
            long d = weight.shape[1];
            return cat(new[] { "q", "k", "v" }.Select((s, i) => Dora($"{layer}.{s}", weight[(int)(i * d)..(int)((i + 1) * d)])).ToArray(), 0);
        }
        return key.EndsWith("attn.proj.weight", StringComparison.Ordinal) || key.Contains("mlp.fc", StringComparison.Ordinal)
            ? Dora(layer, weight)
            : weight;
    };

    [Fact]
    public void DoraMagnitudesStartAtTheLoadedBackbonesRowNorms()
    {
        var (backbone, weights) = PerturbedBackbone(31);
        using var dora = new TinyDoraEverywhere(numClasses: 10);
        BackboneWeights.Load(dora, weights);
        var w = dora.state_dict();
        Tensor RowNorm(Tensor t) => t.pow(2).sum(1).sqrt();
        var qkv = weights["blocks.1.attn.qkv.weight"];
        Assert.True(MaxDiff(w["blocks.1.attn.qkv.k.lora_magnitude_vector"], RowNorm(qkv[64..128])) <= 1e-6);
        Assert.True(MaxDiff(w["blocks.2.mlp.fc2.lora_magnitude_vector"], RowNorm(weights["blocks.2.mlp.fc2.weight"])) <= 1e-6);
        dora.eval();
        using var x = Images();
        using (no_grad())
            Assert.True(MaxDiff(dora.call(x), backbone.call(x)) <= 1e-5, "with B = 0 and m = ‖W‖, DoRA is the backbone");

        // A magnitude that trained (here: set by hand) is kept when a backbone is loaded again.
        using (no_grad()) w["blocks.0.attn.proj.lora_magnitude_vector"].fill_(2.0f);
        BackboneWeights.Load(dora, weights);
        Assert.Equal(2.0f, dora.state_dict()["blocks.0.attn.proj.lora_magnitude_vector"].max().item<float>());
        Assert.True(MaxDiff(dora.state_dict()["blocks.1.attn.proj.lora_magnitude_vector"],
            RowNorm(weights["blocks.1.attn.proj.weight"])) <= 1e-6, "an untouched magnitude follows the backbone");
    }

    [Fact]
    public void DoraMatchesItsDefinitionMergesBothWaysAndDetachesTheNorm()
    {
        var (backbone, weights) = PerturbedBackbone(32);
        using var dora = new TinyDoraEverywhere(numClasses: 10);
        BackboneWeights.Load(dora, weights);
        Perturb(dora, 0.1, name => name.Contains("lora_", StringComparison.Ordinal));
        dora.eval();
        var w = dora.state_dict();
        Assert.Equal(new long[] { 64 }, w["blocks.0.attn.qkv.v.lora_magnitude_vector"].shape);
        Assert.Equal(new long[] { 256 }, w["blocks.0.mlp.fc1.lora_magnitude_vector"].shape);
        Assert.Equal(LoraAttribute.KindName, dora.KindOf("blocks.0.mlp.fc1.lora_magnitude_vector"));
        Assert.Equal(LoraAttribute.KindName, dora.KindOf("blocks.2.attn.qkv.q.lora_magnitude_vector"));
        using var x = Images();
        Tensor unmerged;
        using (no_grad())
        {
            unmerged = dora.call(x);
            var reference = ReferenceVit.Forward(w, x, 3, 4, 4, new ReferenceHooks { Weight = DoraEverywhere(w) });
            Assert.True(MaxDiff(unmerged, reference) <= 1e-5, $"DoRA vs reference: {MaxDiff(unmerged, reference):E2}");
            Assert.True(MaxDiff(unmerged, backbone.call(x)) > 1e-3, "the update should change the output");
        }

        var before = Snapshot(dora);
        dora.MergeLora();
        using (no_grad())
        {
            Assert.True(MaxDiff(dora.call(x), unmerged) <= 1e-5, "merged vs unmerged");
            Assert.True(MaxDiff(dora.state_dict()["blocks.0.mlp.fc2.weight"], before["blocks.0.mlp.fc2.weight"]) > 1e-4, "merge folds W' into W");
        }
        dora.UnmergeLora();
        foreach (var (key, value) in dora.state_dict())
            Assert.True(MaxDiff(value, before[key]) <= 1e-5, $"{key} after unmerge");

        // The gradient treats ‖W + ΔW‖ as a constant (the paper's §4.3, PEFT's weight_norm.detach()): against the
        // reference with the norm detached, and unlike the one that differentiates through it.
        dora.train();
        dora.zero_grad();
        using var target = randn(4, 10);
        (dora.call(x) * target).sum().backward();
        var grad = dora.named_parameters().Single(p => p.name == "blocks.1.attn.qkv.v.lora_B").parameter.grad!.clone();
        Tensor ReferenceGrad(bool detachNorm)
        {
            var leaf = w["blocks.1.attn.qkv.v.lora_B"].detach().clone().requires_grad_(true);
            var local = w.ToDictionary(p => p.Key, p => p.Key == "blocks.1.attn.qkv.v.lora_B" ? leaf : p.Value.detach());
            var hooks = new ReferenceHooks
            {
                Weight = (key, weight) =>
                {
                    if (!key.EndsWith("attn.qkv.weight", StringComparison.Ordinal)) return DoraEverywhere(local)(key, weight);
                    string layer = key[..^".weight".Length];
                    return cat(new[] { "q", "k", "v" }.Select((s, i) => DoraWeight(weight[(i * 64)..((i + 1) * 64)],
                        local[$"{layer}.{s}.lora_A"], local[$"{layer}.{s}.lora_B"], local[$"{layer}.{s}.lora_magnitude_vector"],
                        4.0, detachNorm)).ToArray(), 0);
                },
            };
            (ReferenceVit.Forward(local, x, 3, 4, 4, hooks) * target).sum().backward();
            return leaf.grad!.clone();
        }
        var detached = ReferenceGrad(detachNorm: true);
        var through = ReferenceGrad(detachNorm: false);
        Assert.True(MaxDiff(grad, detached) <= 1e-4 * Math.Max(1, detached.abs().max().item<float>()),
            $"gradient vs detached-norm reference: {MaxDiff(grad, detached):E2}");
        Assert.True(MaxDiff(detached, through) > 10 * MaxDiff(grad, detached), "the two references differ, so the check can fail");
    }

    [Fact]
    public void DoraOnVitB16TrainsWhatPeftsDoraTrains()
    {
        // PEFT's LoraConfig(r=8, target_modules=["query", "value"], use_dora=True) on ViT-B/16: per target lora_A 8×768,
        // lora_B 768×8 and lora_magnitude_vector 768 = 13,056; 2 targets × 12 blocks = 313,344.
        using var model = new Pvp.Models.DoraB16(numClasses: 0);
        Assert.Equal(12 * 2 * (8 * 768 + 768 * 8 + 768), model.TrainableParameterCount);
    }

    [Fact]
    public void VptDeepFollowsTheReplacementRule()
    {
        var (_, _) = PerturbedBackbone(3);
        manual_seed(3);
        using var vpt = new TinyVptLate(numClasses: 10);
        Perturb(vpt);
        vpt.eval();
        var w = vpt.state_dict();
        using var x = Images();
        using var noGrad = no_grad();
        var logits = vpt.call(x);
        // Prompts enter before block 1 and are replaced before block 2; block 0 sees no prompts.
        var reference = ReferenceVit.Forward(w, x, 3, 4, 4, new ReferenceHooks
        {
            PromptsBefore = i => i switch { 1 => w["prompt_embeddings"], 2 => w["deep_prompt_embeddings"][..1], _ => null },
        });
        Assert.Equal(new long[] { 1, 3, 64 }, w["prompt_embeddings"].shape);
        Assert.Equal(new long[] { 1, 3, 64 }, w["deep_prompt_embeddings"].shape);
        Assert.True(MaxDiff(logits, reference) <= 1e-5, $"VPT vs reference: {MaxDiff(logits, reference):E2}");
    }

    [Fact]
    public void PromptDropoutActsOnlyWhileTraining()
    {
        manual_seed(4);
        using var vpt = new TinyVptLate(numClasses: 10);
        using var x = Images();
        using var noGrad = no_grad();
        vpt.eval();
        Assert.Equal(0, MaxDiff(vpt.call(x), vpt.call(x)));
        vpt.train();
        Assert.True(MaxDiff(vpt.call(x), vpt.call(x)) > 1e-4, "dropout p = 0.5 on prompts should vary between calls");
    }

    [Fact]
    public void PromptInitialisationIsVptsUniform()
    {
        manual_seed(5);
        using var vpt = new Pvp.Models.VptDeepB16(numClasses: 2);
        var prompts = vpt.state_dict()["deep_prompt_embeddings"];
        double v = Math.Sqrt(6.0 / (3 * 16 * 16 + 768)); // 0.0625
        Assert.True(prompts.abs().max().item<float>() <= v + 1e-7);
        Assert.InRange(prompts.std().item<float>(), v / Math.Sqrt(3) * 0.98, v / Math.Sqrt(3) * 1.02); // U(−v, v) has std v/√3
    }

    [Fact]
    public void SequentialAdapterMatchesItsDefinition()
    {
        manual_seed(6);
        using var model = new TinySequentialAdapter(numClasses: 10);
        Perturb(model);
        model.eval();
        var w = model.state_dict();
        using var x = Images();
        using var noGrad = no_grad();
        var reference = ReferenceVit.Forward(w, x, 3, 4, 4, new ReferenceHooks { MlpBranch = (i, y, m) => m + 0.5 * Adapter(w, i, m) });
        Assert.True(MaxDiff(model.call(x), reference) <= 1e-5);
    }

    [Fact]
    public void AdaptFormerMatchesItsDefinitionAndStartsAsTheBackbone()
    {
        var (backbone, _) = PerturbedBackbone(7);
        using var model = new TinyAdaptFormer(numClasses: 10);
        CopyShared(backbone, model);
        model.eval();
        using var x = Images();
        using var noGrad = no_grad();
        Assert.True(MaxDiff(model.call(x), backbone.call(x)) <= 1e-6, "zero-initialised up-projection: starts as the backbone");

        Perturb(model, 0.2, name => name.Contains(".adapter.", StringComparison.Ordinal));
        var w = model.state_dict();
        Assert.DoesNotContain("blocks.0.adapter.up_proj.weight", w.Keys); // Blocks = "^2.." → blocks 1 and 2
        // AdaptFormer's Block: the adapter reads the stream after attention (not norm2's output): x + mlp(norm2(x)) + s·adapter(x).
        var reference = ReferenceVit.Forward(w, x, 3, 4, 4, new ReferenceHooks { StreamBranch = (i, h, m) => i == 0 ? m : m + 0.1 * Adapter(w, i, h) });
        Assert.True(MaxDiff(model.call(x), reference) <= 1e-5);
        var wrongInput = ReferenceVit.Forward(w, x, 3, 4, 4, new ReferenceHooks { MlpBranch = (i, y, m) => i == 0 ? m : m + 0.1 * Adapter(w, i, y) });
        Assert.True(MaxDiff(model.call(x), wrongInput) > 1e-3, "the adapter must not read norm2's output");
    }

    [Fact]
    public void AdaptFormersDefaultsAndItsInputLayerNormAndDropout()
    {
        var (backbone, _) = PerturbedBackbone(11);
        using var model = new TinyAdaptFormerNormed(numClasses: 10);
        CopyShared(backbone, model);
        Perturb(model, 0.2, name => name.Contains(".adapter.", StringComparison.Ordinal));
        var w = model.state_dict();
        Assert.Equal(new long[] { 64, 64 }, w["blocks.0.adapter.down_proj.weight"].shape); // AdaptFormer's default bottleneck: 64
        Assert.Contains("blocks.0.adapter.norm.weight", w.Keys);
        Assert.Contains("dropout 0.1", model.ModelCard());
        using var x = Images();
        Tensor Norm(int i, Tensor h)
        {
            var mean = h.mean(new long[] { -1 }, keepdim: true);
            var variance = (h - mean).pow(2).mean(new long[] { -1 }, keepdim: true);
            return (h - mean) / (variance + 1e-5).sqrt() * w[$"blocks.{i}.adapter.norm.weight"] + w[$"blocks.{i}.adapter.norm.bias"];
        }
        using (no_grad())
        {
            model.eval(); // no dropout
            var reference = ReferenceVit.Forward(w, x, 3, 4, 4, new ReferenceHooks { StreamBranch = (i, h, m) => m + 0.1 * Adapter(w, i, Norm(i, h)) });
            Assert.True(MaxDiff(model.call(x), reference) <= 1e-5);
            model.train(); // dropout 0.1 between the ReLU and the up-projection: two passes differ
            Assert.True(MaxDiff(model.call(x), model.call(x)) > 1e-6);
        }
    }

    [Fact]
    public void SsfScalesAndShiftsAfterEachOperationAndOnlyItTrains()
    {
        var (backbone, _) = PerturbedBackbone(15);
        using var model = new Pvp.Models.SsfMicro(numClasses: 10);
        CopyShared(backbone, model);
        model.eval();
        var w = model.state_dict();
        // SSF's init: γ ~ N(1, 0.02), β ~ N(0, 0.02).
        Assert.InRange(w["blocks.0.ssf_attn.scale"].mean().item<float>(), 0.98, 1.02);
        Assert.InRange(w["blocks.0.ssf_attn.shift"].std().item<float>(), 0.01, 0.03);
        Tensor Ssf(int i, string op, Tensor x) => x * w[$"blocks.{i}.ssf_{op}.scale"] + w[$"blocks.{i}.ssf_{op}.shift"];
        using var x = Images();
        using (no_grad())
        {
            var reference = ReferenceVit.Forward(w, x, 3, 4, 4, new ReferenceHooks
            {
                Norm1Output = (i, y) => Ssf(i, "norm1", y),
                AttentionBranch = (i, a) => Ssf(i, "attn", a),
                Norm2Output = (i, y) => Ssf(i, "norm2", y),
                MlpBranch = (i, y, m) => Ssf(i, "mlp", m),
            });
            Assert.True(MaxDiff(model.call(x), reference) <= 1e-5);
        }
        Assert.Equal(SsfAttribute.KindName, model.KindOf("blocks.2.ssf_mlp.shift"));
        var trainable = model.TrainableParameterNames().ToList();
        Assert.Equal(3 * 4 * 2 + 2, trainable.Count); // four scale/shift pairs per block, and the head
        Assert.All(trainable, name => Assert.True(name.Contains(".ssf_", StringComparison.Ordinal) || name.StartsWith("head.", StringComparison.Ordinal), name));
        Assert.Contains(model.ParameterGroups(1e-3, 0.05), g => g.Name == "ssf (no decay)");
    }

    [Fact]
    public void SsfFullAlsoScalesAndShiftsTheQkvAndFc1Outputs()
    {
        var (backbone, _) = PerturbedBackbone(16);
        using var model = new Pvp.Models.SsfFullMicro(numClasses: 10);
        CopyShared(backbone, model);
        model.eval();
        var w = model.state_dict();
        Assert.Equal(new long[] { 3 * 64 }, w["blocks.1.attn.ssf_qkv.scale"].shape);
        Assert.Equal(new long[] { 256 }, w["blocks.1.mlp.ssf_fc1.shift"].shape);
        Tensor Ssf(string module, Tensor x) => x * w[module + ".scale"] + w[module + ".shift"];
        using var x = Images();
        using (no_grad())
        {
            var reference = ReferenceVit.Forward(w, x, 3, 4, 4, new ReferenceHooks
            {
                Norm1Output = (i, y) => Ssf($"blocks.{i}.ssf_norm1", y),
                QkvOutput = (i, qkv) => Ssf($"blocks.{i}.attn.ssf_qkv", qkv),
                AttentionBranch = (i, a) => Ssf($"blocks.{i}.ssf_attn", a),
                Norm2Output = (i, y) => Ssf($"blocks.{i}.ssf_norm2", y),
                Fc1Output = (i, f) => Ssf($"blocks.{i}.mlp.ssf_fc1", f),
                MlpBranch = (i, y, m) => Ssf($"blocks.{i}.ssf_mlp", m),
            });
            Assert.True(MaxDiff(model.call(x), reference) <= 1e-5);
        }
        Assert.Equal(SsfAttribute.KindName, model.KindOf("blocks.0.attn.ssf_qkv.scale"));
        Assert.Equal(KindNames.Backbone, model.KindOf("blocks.0.attn.qkv.weight"));
        var trainable = model.TrainableParameterNames().ToList();
        Assert.Equal(3 * 6 * 2 + 2, trainable.Count); // six scale/shift pairs per block, and the head
        Assert.All(trainable, name => Assert.True(name.Contains(".ssf_", StringComparison.Ordinal) || name.StartsWith("head.", StringComparison.Ordinal), name));
    }

    [Fact]
    public void Ia3RescalesKeysValuesAndTheMlpActivation()
    {
        var (backbone, _) = PerturbedBackbone(17);
        using var model = new Pvp.Models.Ia3Micro(numClasses: 10);
        CopyShared(backbone, model);
        model.eval();
        using var x = Images();
        using (no_grad())
        {
            // Initialised to ones (the paper's and PEFT's ia3_l): the model starts as the backbone.
            Assert.True(MaxDiff(model.call(x), backbone.call(x)) <= 1e-6);
        }
        Perturb(model, 0.3, name => name.Contains(".ia3_", StringComparison.Ordinal));
        var w = model.state_dict();
        Assert.Equal(new long[] { 64 }, w["blocks.1.attn.ia3_kv.l_k"].shape);
        Assert.Equal(new long[] { 256 }, w["blocks.1.mlp.ia3_ff.l_ff"].shape);
        using (no_grad())
        {
            var reference = ReferenceVit.Forward(w, x, 3, 4, 4, new ReferenceHooks
            {
                // rows [q; k; v]: q keeps its scale of 1, k and v take l_k and l_v (one vector over the fused width).
                QkvOutput = (i, qkv) => qkv * cat(new[] { ones(64), w[$"blocks.{i}.attn.ia3_kv.l_k"], w[$"blocks.{i}.attn.ia3_kv.l_v"] }),
                ActivationOutput = (i, f) => f * w[$"blocks.{i}.mlp.ia3_ff.l_ff"],
            });
            Assert.True(MaxDiff(model.call(x), reference) <= 1e-5);
            Assert.True(MaxDiff(model.call(x), backbone.call(x)) > 1e-3, "the perturbed vectors change the output");
        }
        Assert.Equal(Ia3Attribute.KindName, model.KindOf("blocks.0.mlp.ia3_ff.l_ff"));
        Assert.Equal(Ia3Attribute.KindName, model.KindOf("blocks.2.attn.ia3_kv.l_v"));
        Assert.Equal(KindNames.Backbone, model.KindOf("blocks.0.attn.qkv.weight"));
        Assert.Equal(3 * 3 + 2, model.TrainableParameterNames().Count()); // l_k, l_v, l_ff per block, and the head
    }

    [Fact]
    public void Ia3OnVitB16TrainsWhatPeftsIa3Trains()
    {
        // PEFT's IA3 with target_modules key, value and the feed-forward output layer (feedforward_modules), on ViT-B/16:
        // ia3_l of (768,) on key and value and of (3072,) on the output layer's input, per block: 12 × 4,608 = 55,296.
        using var model = new Pvp.Models.Ia3B16(numClasses: 0);
        Assert.Equal(12 * (768 + 768 + 3072), model.TrainableParameterCount);
    }

    [Fact]
    public void AdapterPlusAddsAScaledGeluBottleneckOnEachBlocksOutput()
    {
        var (backbone, _) = PerturbedBackbone(23);
        using var model = new Pvp.Models.AdapterPlusMicro(numClasses: 10);
        CopyShared(backbone, model);
        var w0 = model.state_dict();
        // The reference's Houlsby initialisation: truncated normal, std 0.01, cut at ±2 std; biases zero; scale ones.
        var down = w0["blocks.0.adapter.bottleneck.1.weight"];
        Assert.Equal(new long[] { 8, 64 }, down.shape);
        Assert.True(down.abs().max().item<float>() <= 0.02f);
        Assert.InRange(down.std().item<float>(), 0.006f, 0.011f); // a normal cut at ±2σ keeps 0.88σ
        Assert.Equal(0f, w0["blocks.1.adapter.bottleneck.4.bias"].abs().max().item<float>());
        Assert.Equal(1f, w0["blocks.2.adapter.scaling"].min().item<float>());
        Perturb(model, 0.3, name => name.Contains(".adapter.", StringComparison.Ordinal));
        var w = model.state_dict();
        using var x = Images();
        Tensor Reference() => ReferenceVit.Forward(w, x, 3, 4, 4, new ReferenceHooks
        {
            BlockOutput = (i, h) =>
            {
                string p = $"blocks.{i}.adapter.";
                var hidden = F.gelu(F.linear(h, w[p + "bottleneck.1.weight"], w[p + "bottleneck.1.bias"]));
                return h + F.linear(hidden, w[p + "bottleneck.4.weight"], w[p + "bottleneck.4.bias"]) * w[p + "scaling"];
            },
        });
        model.eval();
        using (no_grad())
        {
            Assert.True(MaxDiff(model.call(x), Reference()) <= 1e-5);
            Assert.True(MaxDiff(model.call(x), backbone.call(x)) > 1e-3, "the perturbed adapters change the output");
        }
        // Drop-path 0.1 acts in training only: a training forward differs from the eval one for some seed's draw.
        model.train();
        manual_seed(3);
        using (no_grad())
        {
            bool differs = Enumerable.Range(0, 8).Any(_ => MaxDiff(model.call(x), Reference()) > 1e-4);
            Assert.True(differs, "drop-path drops some sample's adapter branch in training");
        }
        Assert.Equal(AdapterPlusAttribute.KindName, model.KindOf("blocks.0.adapter.scaling"));
        Assert.Equal(AdapterPlusAttribute.KindName, model.KindOf("blocks.2.adapter.bottleneck.4.weight"));
        Assert.Equal(KindNames.Backbone, model.KindOf("blocks.0.mlp.fc1.weight"));
        Assert.Equal(3 * 5 + 2, model.TrainableParameterNames().Count()); // down, up (weights, biases), scale; the head
    }

    [Fact]
    public void AdapterPlusOnVitB16TrainsWhatItsReferenceTrains()
    {
        // visinf/adapter_plus's Adapter(768, bottleneck_dim=8, norm_layer=None, scaling="channel", bias=True) per block:
        // Linear(768, 8) 6,152 + Linear(8, 768) 6,912 + scaling 768 = 13,832; 12 blocks: 165,984.
        using var model = new Pvp.Models.AdapterPlusB16(numClasses: 0);
        Assert.Equal(12 * (768 * 8 + 8 + 8 * 768 + 768 + 768), model.TrainableParameterCount);
    }

    /// <summary>
    /// Convpass's bypass as JieShibo/PETL-ViT's <c>Convpass.forward</c> computes it, written from its definition: the grid
    /// through a padded 3×3 conv2d, and each token before the grid convolved alone as a 1×1 image (the reference's class
    /// token), QuickGELU on both sides of the conv, then up and the scale.
    /// </summary>
    private static Tensor ConvpassReference(IReadOnlyDictionary<string, Tensor> w, string p, Tensor x, double scale)
    {
        Tensor QuickGelu(Tensor t) => t * sigmoid(1.702 * t);
        long b = x.shape[0], n = x.shape[1], grid = 8, patches = grid * grid;
        var conv = w[p + "adapter_conv.weight"];
        var bias = w[p + "adapter_conv.bias"];
        long c = conv.shape[0];
        var down = QuickGelu(F.linear(x, w[p + "adapter_down.weight"], w[p + "adapter_down.bias"]));
        var parts = new List<Tensor>();
        for (long t = 0; t < n - patches; t++)
        {
            var image = down[.., (int)t..(int)(t + 1)].reshape(b, 1, 1, c).permute(0, 3, 1, 2);
            parts.Add(F.conv2d(image, conv, bias, padding: new long[] { 1, 1 }).permute(0, 2, 3, 1).reshape(b, 1, c));
        }
        var onGrid = down[.., (int)(n - patches)..].reshape(b, grid, grid, c).permute(0, 3, 1, 2);
        parts.Add(F.conv2d(onGrid, conv, bias, padding: new long[] { 1, 1 }).permute(0, 2, 3, 1).reshape(b, patches, c));
        var hidden = QuickGelu(cat(parts.ToArray(), 1));
        return F.linear(hidden, w[p + "adapter_up.weight"], w[p + "adapter_up.bias"]) * scale;
    }

    [Fact]
    public void ConvpassAddsAConvolutionalBypassBesideAttentionAndTheMlp()
    {
        var (backbone, _) = PerturbedBackbone(41);
        using var model = new Pvp.Models.ConvpassMicro(numClasses: 10);
        CopyShared(backbone, model);
        using var x = Images();
        var w0 = model.state_dict();
        // The reference's initialisation: up zero (the model starts as the backbone), conv the identity at its centre.
        Assert.Equal(new long[] { 8, 8, 3, 3 }, w0["blocks.0.adapter_attn.adapter_conv.weight"].shape);
        Assert.True(MaxDiff(w0["blocks.1.adapter_mlp.adapter_conv.weight"][.., .., 1, 1], eye(8)) == 0);
        Assert.Equal(8f, w0["blocks.1.adapter_mlp.adapter_conv.weight"].abs().sum().item<float>()); // nothing off the centre
        Assert.Equal(0f, w0["blocks.2.adapter_attn.adapter_up.weight"].abs().max().item<float>());
        model.eval();
        using (no_grad()) Assert.True(MaxDiff(model.call(x), backbone.call(x)) <= 1e-5, "Convpass starts as the backbone");
        Perturb(model, 0.3, name => name.Contains(".adapter_", StringComparison.Ordinal));
        var w = model.state_dict();
        Tensor Reference() => ReferenceVit.Forward(w, x, 3, 4, 4, new ReferenceHooks
        {
            AttentionBeside = (i, y, a) => a + ConvpassReference(w, $"blocks.{i}.adapter_attn.", y, 1.0),
            MlpBranch = (i, y, m) => m + ConvpassReference(w, $"blocks.{i}.adapter_mlp.", y, 1.0),
        });
        using (no_grad())
        {
            Assert.True(MaxDiff(model.call(x), Reference()) <= 1e-5, $"Convpass vs reference: {MaxDiff(model.call(x), Reference()):E2}");
            Assert.True(MaxDiff(model.call(x), backbone.call(x)) > 1e-3, "the perturbed bypasses change the output");
        }
        // Dropout 0.1 on the bottleneck acts in training only.
        model.train();
        manual_seed(5);
        using (no_grad()) Assert.True(MaxDiff(model.call(x), Reference()) > 1e-4, "dropout acts while training");
        Assert.Equal(ConvpassAttribute.KindName, model.KindOf("blocks.0.adapter_attn.adapter_conv.weight"));
        Assert.Equal(ConvpassAttribute.KindName, model.KindOf("blocks.2.adapter_mlp.adapter_up.bias"));
        Assert.Equal(KindNames.Backbone, model.KindOf("blocks.0.attn.qkv.weight"));
        Assert.Equal(3 * 2 * 6 + 2, model.TrainableParameterNames().Count()); // down, conv, up (weights, biases) ×2; head
    }

    [Fact]
    public void ConvpassConvolvesTheClassTokenAndPromptsEachAloneOffTheGrid()
    {
        var (backbone, _) = PerturbedBackbone(42);
        using var model = new TinyConvpassWithPrompts(numClasses: 10);
        CopyShared(backbone, model);
        Perturb(model, 0.3, name => name.Contains(".adapter_", StringComparison.Ordinal) || name.Contains("prompt", StringComparison.Ordinal));
        model.eval();
        var w = model.state_dict();
        Assert.Equal(new long[] { 4, 4, 3, 3 }, w["blocks.2.adapter_attn.adapter_conv.weight"].shape);
        using var x = Images();
        var reference = ReferenceVit.Forward(w, x, 3, 4, 4, new ReferenceHooks
        {
            PromptsBefore = i => i == 0 ? w["prompt_embeddings"] : w["deep_prompt_embeddings"][(i - 1)..i],
            AttentionBeside = (i, y, a) => a + ConvpassReference(w, $"blocks.{i}.adapter_attn.", y, 0.5),
            MlpBranch = (i, y, m) => m + ConvpassReference(w, $"blocks.{i}.adapter_mlp.", y, 0.5),
        });
        using var noGrad = no_grad();
        Assert.True(MaxDiff(model.call(x), reference) <= 1e-5, $"Convpass + VPT vs reference: {MaxDiff(model.call(x), reference):E2}");
    }

    [Fact]
    public void AUsersModuleBesideAttentionIsToldTheGridAndTheHeads()
    {
        var (backbone, _) = PerturbedBackbone(43);
        using var model = new TinyGridBeside(numClasses: 10);
        CopyShared(backbone, model);
        var probes = model.modules().OfType<GridRowMean>().ToList();
        Assert.Equal(3, probes.Count);
        Assert.All(probes, p => Assert.Equal((8, 4, 64, AttachSite.BesideAttention),
            (p.Context.GridSize, p.Context.Heads, p.Context.Width, p.Context.Site)));
        Perturb(model, 0.5, name => name.Contains("prompt", StringComparison.Ordinal) || name.EndsWith(".scale", StringComparison.Ordinal));
        model.eval();
        var w = model.state_dict();
        string scale = w.Keys.Single(k => k.StartsWith("blocks.0.", StringComparison.Ordinal) && k.EndsWith(".scale", StringComparison.Ordinal))[9..];
        using var x = Images();
        var reference = ReferenceVit.Forward(w, x, 3, 4, 4, new ReferenceHooks
        {
            PromptsBefore = i => i == 0 ? w["prompt_embeddings"] : w["deep_prompt_embeddings"][(i - 1)..i],
            AttentionBeside = (i, y, a) =>
            {
                long b = y.shape[0], n = y.shape[1];
                var grid = y[.., (int)(n - 64)..].reshape(b, 8, 8, 64);
                var rows = grid.mean(new long[] { 2 }, keepdim: true).expand(b, 8, 8, 64).reshape(b, 64, 64);
                var beside = cat(new[] { zeros(b, n - 64, 64), rows }, 1) * w[$"blocks.{i}.{scale}"];
                return a + beside;
            },
        });
        using var noGrad = no_grad();
        Assert.True(MaxDiff(model.call(x), reference) <= 1e-5, $"beside attention vs reference: {MaxDiff(model.call(x), reference):E2}");
        Assert.True(MaxDiff(model.call(x), backbone.call(x)) > 1e-3, "the module changes the output");
    }

    [Fact]
    public void ConvpassOnVitB16TrainsWhatItsReferenceTrains()
    {
        // JieShibo/PETL-ViT's set_Convpass(model, 'convpass', dim=8) on ViT-B/16: per block adapter_attn and adapter_mlp,
        // each adapter_down Linear(768, 8) 6,152 + adapter_conv Conv2d(8, 8, 3) 584 + adapter_up Linear(8, 768) 6,912 =
        // 13,648; 12 × 2 × 13,648 = 327,552 (the reference counts parameters whose name holds 'adapter').
        using var model = new Pvp.Models.ConvpassB16(numClasses: 0);
        Assert.Equal(12 * 2 * (768 * 8 + 8 + 8 * 8 * 9 + 8 + 8 * 768 + 768), model.TrainableParameterCount);
    }

    [Fact]
    public void KvPromptsJoinTheKeysAndValuesOfEveryBlocksAttention()
    {
        var (backbone, _) = PerturbedBackbone(29);
        using var model = new Pvp.Models.KvPromptsMicro(numClasses: 10);
        CopyShared(backbone, model);
        var w0 = model.state_dict();
        // The reference's shape [heads, P, head dim] and its ORIGIN_INIT 2: kaiming_uniform_(a=0, fan_in) over a
        // [4, 5, 16] tensor, fan_in = 5·16, so U(−b, b) with b = √(6 / 80).
        var prompt = w0["blocks.0.attn.kv_prompt.deep_QKV_embeddings"];
        Assert.Equal(new long[] { 4, 5, 16 }, prompt.shape);
        double bound = Math.Sqrt(6.0 / 80);
        Assert.True(prompt.abs().max().item<float>() <= bound);
        Assert.InRange(prompt.std().item<float>(), 0.8 * bound / Math.Sqrt(3), 1.2 * bound / Math.Sqrt(3));
        Assert.False(w0.ContainsKey("blocks.0.attn.kv_prompt.deep_QKV_embeddings_K"), "shared by default: one tensor");
        Perturb(model, 0.5, name => name.Contains(".kv_prompt.", StringComparison.Ordinal));
        var w = model.state_dict();
        model.eval();
        using var x = Images();
        using (no_grad())
        {
            // One tensor as both the key and the value prompts (SHARE_PARAM_KV = True).
            var reference = ReferenceVit.Forward(w, x, 3, 4, 4, new ReferenceHooks
            {
                KeyValuePrompts = i => (w[$"blocks.{i}.attn.kv_prompt.deep_QKV_embeddings"], w[$"blocks.{i}.attn.kv_prompt.deep_QKV_embeddings"]),
            });
            Assert.True(MaxDiff(model.call(x), reference) <= 1e-5, $"KV prompts vs reference: {MaxDiff(model.call(x), reference):E2}");
            Assert.True(MaxDiff(model.call(x), backbone.call(x)) > 1e-3, "the prompts change the output");
        }
        Assert.Equal(KvPromptsAttribute.KindName, model.KindOf("blocks.2.attn.kv_prompt.deep_QKV_embeddings"));
        Assert.Equal(KindNames.Backbone, model.KindOf("blocks.0.attn.qkv.weight"));
        Assert.Equal(3 + 2, model.TrainableParameterNames().Count()); // one prompt tensor per block, and the head
    }

    [Fact]
    public void KvPromptsComposeWithVptDeepAndIa3()
    {
        var (backbone, _) = PerturbedBackbone(31);
        using var model = new TinyKvPromptsComposed(numClasses: 10);
        CopyShared(backbone, model);
        Perturb(model, 0.3, name => !name.StartsWith("blocks.", StringComparison.Ordinal) || name.Contains(".ia3_", StringComparison.Ordinal)
                                    || name.Contains(".kv_prompt.", StringComparison.Ordinal));
        var w = model.state_dict();
        Assert.Equal(new long[] { 4, 2, 16 }, w["blocks.1.attn.kv_prompt.deep_QKV_embeddings_K"].shape);
        Assert.Equal(new long[] { 4, 2, 16 }, w["blocks.2.attn.kv_prompt.deep_QKV_embeddings_V"].shape);
        Assert.False(w.ContainsKey("blocks.0.attn.kv_prompt.deep_QKV_embeddings_K"), "blocks 1.. only");
        Assert.False(w.ContainsKey("blocks.1.attn.kv_prompt.deep_QKV_embeddings"));
        model.eval();
        using var x = Images();
        using var noGrad = no_grad();
        var reference = ReferenceVit.Forward(w, x, 3, 4, 4, new ReferenceHooks
        {
            PromptsBefore = i => i == 0 ? w["prompt_embeddings"] : w["deep_prompt_embeddings"][(i - 1)..i],
            QkvOutput = (i, qkv) => qkv * cat(new[] { ones(64), w[$"blocks.{i}.attn.ia3_kv.l_k"], w[$"blocks.{i}.attn.ia3_kv.l_v"] }),
            ActivationOutput = (i, f) => f * w[$"blocks.{i}.mlp.ia3_ff.l_ff"],
            KeyValuePrompts = i => i == 0 ? null
                : (w[$"blocks.{i}.attn.kv_prompt.deep_QKV_embeddings_K"], w[$"blocks.{i}.attn.kv_prompt.deep_QKV_embeddings_V"]),
        });
        Assert.True(MaxDiff(model.call(x), reference) <= 1e-5, $"VPT + IA³ + KV prompts vs reference: {MaxDiff(model.call(x), reference):E2}");
        // The residual stream keeps VPT's length: [CLS, 3 prompts, 64 patches]; the key-value prompts never enter it.
        Assert.Equal(new[] { "prompts", "ia3", "kv_prompts", "head" }, model.TrainableKinds);
    }

    [Fact]
    public void KvPromptsDropoutActsOnlyWhileTraining()
    {
        manual_seed(5);
        using var prompts = new Pvp.Blocks.KeyValuePrompts(64, 4, 3, shared: true, dropout: 0.5);
        using var kv = randn(2, 7, 128);
        using var noGrad = no_grad();
        prompts.eval();
        using var eval = prompts.call(kv);
        Assert.Equal(new long[] { 2, 10, 128 }, eval.shape);
        Assert.Equal(0, MaxDiff(eval[.., 3..], kv));
        prompts.train();
        Assert.True(MaxDiff(prompts.call(kv), prompts.call(kv)) > 1e-4, "dropout p = 0.5 on the prompts varies between calls");
    }

    [Fact]
    public void KvPromptsOnVitB16TrainWhatTheReferenceTrains()
    {
        // ChengHan111/E2VPT (vit_changeVK.py, Attention with SHARE_PARAM_KV True): per layer one deep_QKV_embeddings of
        // torch.zeros(num_heads, NUM_TOKENS, hidden_size / num_heads); ViT-B/16 (12 layers, 12 heads, 768) at NUM_TOKENS 5:
        // 12 × 12 × 5 × 64 = 46,080, besides the head. SHARE_PARAM_KV False has _K and _V, twice that.
        const int layers = 12, numHeads = 12, hiddenSize = 768, numTokens = 5;
        using var model = new Pvp.Models.KvPromptsB16(numClasses: 0);
        Assert.Equal(layers * numHeads * numTokens * (hiddenSize / numHeads), model.TrainableParameterCount);
        Assert.Equal(46_080, model.TrainableParameterCount);
    }

    [Fact]
    public void LnTuningOnVitB16TrainsWhatPeftsLnTuningTrains()
    {
        // PEFT's LN_TUNING targets a model's LayerNorms (for GPT-2-style blocks ln_1, ln_2 and ln_f): on ViT-B/16 that is
        // norm1 and norm2 of 12 blocks and the final norm, 25 × (768 + 768) = 38,400, besides the head.
        using var model = new Pvp.Models.LnTuningB16(numClasses: 0);
        Assert.Equal(25 * 2 * 768, model.TrainableParameterCount);
    }

    [Fact]
    public void HoulsbyAdaptersSitAfterAttentionAndAfterTheMlp()
    {
        var (backbone, _) = PerturbedBackbone(12);
        using var model = new TinyHoulsby(numClasses: 10);
        CopyShared(backbone, model);
        Perturb(model, 0.2, name => name.Contains(".adapter", StringComparison.Ordinal));
        model.eval();
        var w = model.state_dict();
        Assert.Equal(new long[] { 8, 64 }, w["blocks.2.adapter_attn.down_proj.weight"].shape); // D / 8 by default (VPT's reduction factor)
        Assert.Equal(AdapterAttribute.KindName, model.KindOf("blocks.2.adapter_attn.up_proj.bias"));
        using var x = Images();
        using var noGrad = no_grad();
        var reference = ReferenceVit.Forward(w, x, 3, 4, 4, new ReferenceHooks
        {
            AttentionBranch = (i, a) => a + Adapter(w, i, a, "adapter_attn"),
            MlpBranch = (i, y, m) => m + Adapter(w, i, m),
        });
        Assert.True(MaxDiff(model.call(x), reference) <= 1e-5);
    }

    [Fact]
    public void UsersModuleAttachesWhereDeclared()
    {
        var (backbone, _) = PerturbedBackbone(8);
        using var model = new TinyScaleShift(numClasses: 10);
        CopyShared(backbone, model);
        model.eval();
        using var x = Images();
        using var noGrad = no_grad();
        Assert.True(MaxDiff(model.call(x), backbone.call(x)) <= 1e-6, "identity-initialised attachments start as the backbone");

        Perturb(model, 0.2, name => name.Contains("scale_shift", StringComparison.Ordinal));
        var w = model.state_dict();
        var reference = ReferenceVit.Forward(w, x, 3, 4, 4, new ReferenceHooks
        {
            BlockInput = (i, h) => i == 0 ? h * w["blocks.0.scale_shift_block_input.scale"] + w["blocks.0.scale_shift_block_input.shift"] : h,
            MlpBranch = (i, y, m) => m * w[$"blocks.{i}.scale_shift_after_mlp.scale"] + w[$"blocks.{i}.scale_shift_after_mlp.shift"],
        });
        Assert.True(MaxDiff(model.call(x), reference) <= 1e-5);
    }

    [Fact]
    public void VptDeepMatchesTheTorchvisionFixture()
    {
        using var model = new FixtureVptDeep(numClasses: 7);
        var weights = SafeTensors.Load(TestData("timm_state.safetensors"));
        var (missing, unexpected) = model.load_state_dict(weights, strict: false);
        Assert.Equal(new[] { "deep_prompt_embeddings", "prompt_embeddings" }, missing.OrderBy(k => k));
        Assert.Empty(unexpected);
        var fixture = SafeTensors.Load(TestData("vpt_deep.safetensors"));
        model.ImportPetuning(new Dictionary<string, Tensor>
        {
            ["prompt_embeddings"] = fixture["prompt_embeddings"],
            ["deep_prompt_embeddings"] = fixture["deep_prompt_embeddings"],
        });
        model.eval();
        using var x = SafeTensors.Load(TestData("input.safetensors"))["x"];
        using var noGrad = no_grad();
        double diff = MaxDiff(model.call(x), fixture["logits"]);
        Assert.True(diff <= 1e-4, $"VPT-deep vs fixture: {diff:E2}");
    }

    [Fact]
    public void LoraMatchesTheTorchvisionFixture()
    {
        using var model = new FixtureLora(numClasses: 7);
        model.load_state_dict(SafeTensors.Load(TestData("timm_state.safetensors")), strict: false);
        var fixture = SafeTensors.Load(TestData("lora.safetensors"));
        Assert.Equal(4, fixture["rank"].item<long>());
        // The fixture names slices blocks.{i}.attn.{q,v}.*; ours live inside the fused layer they adapt: attn.qkv.{q,v}.*.
        var lora = fixture.Where(p => p.Key.Contains("lora_", StringComparison.Ordinal))
            .ToDictionary(p => p.Key.Replace(".attn.", ".attn.qkv.", StringComparison.Ordinal), p => p.Value);
        model.ImportPetuning(lora);
        model.eval();
        using var x = SafeTensors.Load(TestData("input.safetensors"))["x"];
        using var noGrad = no_grad();
        double diff = MaxDiff(model.call(x), fixture["logits"]);
        Assert.True(diff <= 1e-4, $"LoRA vs fixture: {diff:E2}");
        model.MergeLora();
        Assert.True(MaxDiff(model.call(x), fixture["logits"]) <= 1e-4);
    }
}
