using System.Globalization;
using System.Text.Json;
using Pvp.Checkpoints;
using Pvp.Optim;
using Pvp.Weights;
using TorchSharp;
using static TorchSharp.torch;

namespace Pvp.Training;

/// <summary>Where a run stands: the next epoch and batch to run, and the optimizer steps taken.</summary>
public sealed record TrainingPosition(int Epoch, int Batch, long Step);

/// <summary>
/// A run's checkpoints: one safetensors file per checkpoint with the trainable parameters, the optimizer's state
/// (<c>optimizer.*</c>) and the torch RNG state, and a <c>latest.json</c> pointer. Each file is written to a temporary
/// name and renamed, the pointer last, so a crash at any moment leaves the previous checkpoint intact. The two newest
/// checkpoints are kept.
/// </summary>
public sealed class CheckpointStore(string directory)
{
    private const string RngKey = "__torch_rng_state__";
    private const string OptimizerPrefix = "optimizer.";

    /// <summary>The folder holding the checkpoints.</summary>
    public string Directory { get; } = directory;

    private string Pointer => Path.Combine(Directory, "latest.json");

    /// <summary>Whether a checkpoint exists (the pointer, or a checkpoint file it may have lost).</summary>
    public bool Exists => File.Exists(Pointer) || (System.IO.Directory.Exists(Directory) && System.IO.Directory.EnumerateFiles(Directory, "step-*.safetensors").Any());

    /// <summary>Writes a checkpoint of <paramref name="model"/>'s trainable parameters and <paramref name="optimizer"/> at <paramref name="position"/>.</summary>
    public void Save(PetModel model, PetOptimizer optimizer, TrainingPosition position)
    {
        System.IO.Directory.CreateDirectory(Directory);
        string stem = $"step-{position.Step:D8}";
        var tensors = model.named_parameters().Where(p => p.parameter.requires_grad).ToDictionary(p => p.name, p => (Tensor)p.parameter);
        foreach (var (key, value) in optimizer.StateDict()) tensors[OptimizerPrefix + key] = value;
        using var rng = random.get_rng_state();
        tensors[RngKey] = rng;
        // The position is in the file too, so that any checkpoint can be resumed from if the pointer or a newer file is damaged.
        AtomicFile.Write(Path.Combine(Directory, stem + ".safetensors"), path => SafeTensors.Save(path, tensors, new Dictionary<string, string>
        {
            ["variant"] = model.VariantName, ["epoch"] = position.Epoch.ToString(CultureInfo.InvariantCulture),
            ["batch"] = position.Batch.ToString(CultureInfo.InvariantCulture), ["step"] = position.Step.ToString(CultureInfo.InvariantCulture),
        }));
        var pointer = new Dictionary<string, object> { ["epoch"] = position.Epoch, ["batch"] = position.Batch, ["step"] = position.Step, ["stem"] = stem, ["variant"] = model.VariantName };
        AtomicFile.Write(Pointer, path => File.WriteAllText(path, JsonSerializer.Serialize(pointer)));
        Prune(keep: 2);
    }

    /// <summary>
    /// Restores the latest readable checkpoint into <paramref name="model"/> and <paramref name="optimizer"/>; returns where
    /// to continue. A damaged pointer or a truncated newest checkpoint falls back to the one before it, and
    /// <paramref name="say"/> is told why.
    /// </summary>
    /// <exception cref="InvalidDataException">The checkpoint belongs to another variant or does not fit (names the keys), or none is readable.</exception>
    public TrainingPosition Restore(PetModel model, PetOptimizer optimizer, Action<string>? say = null)
    {
        var candidates = new List<(string Stem, TrainingPosition? Position)>();
        try
        {
            using var document = JsonDocument.Parse(File.ReadAllText(Pointer));
            var root = document.RootElement;
            string variant = root.GetProperty("variant").GetString()!;
            if (variant != model.VariantName)
                throw new InvalidDataException($"The checkpoint in '{Directory}' was written by variant {variant}, not {model.VariantName}; use another run folder.");
            candidates.Add((root.GetProperty("stem").GetString()!,
                new TrainingPosition(root.GetProperty("epoch").GetInt32(), root.GetProperty("batch").GetInt32(), root.GetProperty("step").GetInt64())));
        }
        catch (Exception e) when (e is IOException or JsonException or KeyNotFoundException or InvalidOperationException or FormatException)
        {
            say?.Invoke($"'{Pointer}' is unreadable ({e.Message}); looking for the newest readable checkpoint instead");
        }
        candidates.AddRange(System.IO.Directory.EnumerateFiles(Directory, "step-*.safetensors")
            .Select(f => Path.GetFileNameWithoutExtension(f)!).Where(s => candidates.All(c => c.Stem != s))
            .OrderByDescending(s => s, StringComparer.Ordinal).Select(s => (s, (TrainingPosition?)null)));

        foreach (var (stem, pointed) in candidates)
        {
            string file = Path.Combine(Directory, stem + ".safetensors");
            Dictionary<string, Tensor> tensors;
            TrainingPosition? position = pointed;
            try
            {
                tensors = SafeTensors.Load(file);
                var metadata = SafeTensors.ReadMetadata(file);
                if (metadata.TryGetValue("variant", out var variant) && variant != model.VariantName)
                    throw new InvalidDataException($"The checkpoint '{file}' was written by variant {variant}, not {model.VariantName}; use another run folder.");
                position ??= metadata.TryGetValue("step", out var step) && metadata.TryGetValue("epoch", out var epoch) && metadata.TryGetValue("batch", out var batch)
                    ? new TrainingPosition(int.Parse(epoch, CultureInfo.InvariantCulture), int.Parse(batch, CultureInfo.InvariantCulture), long.Parse(step, CultureInfo.InvariantCulture))
                    : null;
            }
            catch (Exception e) when (e is InvalidDataException or IOException or FormatException && !e.Message.Contains("was written by variant", StringComparison.Ordinal))
            {
                say?.Invoke($"checkpoint '{file}' is unreadable ({e.Message}); falling back to an older one");
                continue;
            }
            if (position is null)
            {
                say?.Invoke($"checkpoint '{file}' does not record its position; falling back to an older one");
                foreach (var t in tensors.Values) t.Dispose();
                continue;
            }
            Apply(model, optimizer, tensors, stem);
            if (stem != candidates[0].Stem) say?.Invoke($"resuming from the older checkpoint '{file}' (step {position.Step})");
            return position;
        }
        throw new InvalidDataException($"No readable checkpoint in '{Directory}': delete that folder to start this run over.");
    }

    private void Apply(PetModel model, PetOptimizer optimizer, Dictionary<string, Tensor> tensors, string stem)
    {
        var rng = tensors[RngKey];
        tensors.Remove(RngKey);
        var optimizerState = tensors.Where(p => p.Key.StartsWith(OptimizerPrefix, StringComparison.Ordinal))
            .ToDictionary(p => p.Key[OptimizerPrefix.Length..], p => p.Value);
        foreach (string key in optimizerState.Keys) tensors.Remove(OptimizerPrefix + key);
        var target = model.named_parameters().Where(p => p.parameter.requires_grad).ToDictionary(p => p.name, p => p.parameter);
        var problems = target.Keys.Except(tensors.Keys).Select(k => $"missing {k}")
            .Concat(tensors.Keys.Except(target.Keys).Select(k => $"unexpected {k}"))
            .Concat(target.Where(p => tensors.TryGetValue(p.Key, out var t) && !t.shape.SequenceEqual(p.Value.shape)).Select(p => $"mis-shaped {p.Key}"))
            .ToList();
        if (problems.Count > 0)
            throw new InvalidDataException($"The checkpoint '{stem}' in '{Directory}' does not fit {model.VariantName}: {string.Join(", ", problems)}.");
        using (no_grad())
            foreach (var (name, parameter) in target)
                parameter.copy_(tensors[name]);
        optimizer.LoadStateDict(optimizerState);
        random.set_rng_state(rng);
    }

    private void Prune(int keep)
    {
        var stems = System.IO.Directory.GetFiles(Directory, "step-*.safetensors")
            .Select(Path.GetFileNameWithoutExtension).OrderByDescending(s => s, StringComparer.Ordinal).Skip(keep);
        foreach (string stem in stems!)
            File.Delete(Path.Combine(Directory, stem + ".safetensors"));
    }
}
