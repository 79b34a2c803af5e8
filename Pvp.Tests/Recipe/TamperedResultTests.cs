using System.Security.Cryptography;
using System.Text.Json;
using Pvp.Recipes;
using Pvp.Weights;
using static TorchSharp.torch;

namespace Pvp.Tests.Recipe;

/// <summary>
/// A run folder edited after training never reads as a result: impossible values are refused by key, a result.json or
/// tuned model changed since its cell ended is named by report, status, eval and export (--force redoes it), a consistent
/// forgery is caught by re-evaluation (<c>report --verify</c>), non-finite weights are refused when loaded or exported,
/// and a stage whose output file went missing runs again instead of being "done earlier".
/// </summary>
public sealed class TamperedResultTests : IDisposable
{
    private readonly string folder = Directory.CreateTempSubdirectory("pvp-tampered-").FullName;

    static TamperedResultTests() => VariantRegistry.Load(typeof(Pvp.Models.VptDeepMicro).Assembly);

    public void Dispose() => Directory.Delete(folder, recursive: true);

    private PvpRecipe Recipe() => RecipeParser.Parse("""
        variant: VptDeepMicro
        output: run
        workers: 1
        backbone: { pretrain: { epochs: 1, batch: 16 } }
        source:
          builtin: { classes: 4, train_per_class: 6, test_per_class: 2 }
        stage1: { epochs: 1, lr: 0.01, batch: 16 }
        stage2:
          tasks:
            - name: shapes
              builtin: { classes: 3, train_per_class: 4, test_per_class: 3 }
          shots: [1, 2]
          seeds: [0]
          epochs: 1
        """, Path.Combine(folder, "recipe.yaml"));

    private string Cell(string id) => Path.Combine(folder, "run", "stage2", "shapes", id);

    [Fact]
    public void AnEditedRunFolderIsNamedAndNeverPublished()
    {
        new PvpRunner(Recipe(), new Quiet()).Run();
        // Every output of an export is checked before the first is written: no .onnx is left behind by a bad image folder.
        string exported = Path.Combine(folder, "first.onnx");
        Assert.Throws<IOException>(() => new PvpRunner(Recipe(), new Quiet()).ExportOnnx(GridCell.Parse("shapes/2shot-seed0-pvp"), exported, testImages: "/proc/pvp-no-images"));
        Assert.False(File.Exists(exported));
        string resultPath = Path.Combine(Cell("2shot-seed0-pvp"), "result.json");
        byte[] original = File.ReadAllBytes(resultPath);
        var (differences, count) = new PvpRunner(Recipe(), new Quiet()).Verify();
        Assert.Equal(4, count);
        Assert.Empty(differences);

        // Impossible values are refused by key, whatever the seal says.
        foreach (var (key, value, named) in new[]
                 {
                     ("top1", "7.5", "top1 7.5 (a fraction in [0, 1])"), ("top5", "-0.2", "top5 -0.2"), ("seconds", "-3", "seconds -3"),
                     ("loss", "-1", "loss -1"), ("steps", "-1", "steps -1"),
                 })
        {
            File.WriteAllText(resultPath, Edit(original, key, value));
            var error = Assert.Throws<InvalidDataException>(() => new PvpRunner(Recipe(), new Quiet()).Report());
            Assert.Contains(resultPath, error.Message);
            Assert.Contains(named, error.Message);
        }

        // A plausible edit: report, status, eval and export name the cell and the fix; nothing is published.
        File.WriteAllText(resultPath, Edit(original, "top1", "0.99"));
        File.Delete(Path.Combine(folder, "run", "results.csv"));
        var stale = Assert.Throws<StaleRunException>(() => new PvpRunner(Recipe(), new Quiet()).Report());
        Assert.Contains("shapes/2shot-seed0-pvp (its result.json was changed after training wrote it)", stale.Message);
        Assert.Contains("--force", stale.Message);
        Assert.False(File.Exists(Path.Combine(folder, "run", "results.csv")));
        var status = RunStatus.Of(new PvpRunner(Recipe(), new Quiet()), GridCell.Parse("shapes/2shot-seed0-pvp"));
        Assert.Equal(CellState.Stale, status.State);
        Assert.Contains("result.json was changed", status.Detail);
        Assert.Contains("no longer matches what training wrote", Assert.Throws<StaleRunException>(() =>
            new PvpRunner(Recipe(), new Quiet()).Evaluate(GridCell.Parse("shapes/2shot-seed0-pvp"))).Message);
        string onnx = Path.Combine(folder, "m.onnx");
        Assert.Throws<StaleRunException>(() => new PvpRunner(Recipe(), new Quiet()).ExportOnnx(GridCell.Parse("shapes/2shot-seed0-pvp"), onnx));
        Assert.False(File.Exists(onnx));
        Assert.Throws<StaleRunException>(() => new PvpRunner(Recipe(), new Quiet()).Tune());

        // Another cell's model swapped in: named too.
        File.WriteAllBytes(resultPath, original);
        string tuned = Path.Combine(Cell("2shot-seed0-pvp"), "tuned.safetensors");
        byte[] tunedBytes = File.ReadAllBytes(tuned);
        File.Copy(Path.Combine(Cell("1shot-seed0-pvp"), "tuned.safetensors"), tuned, overwrite: true);
        Assert.Contains("its tuned.safetensors was changed", Assert.Throws<StaleRunException>(() => new PvpRunner(Recipe(), new Quiet()).Report()).Message);
        File.WriteAllBytes(tuned, tunedBytes);
        Assert.Equal(4, new PvpRunner(Recipe(), new Quiet()).Report().Results.Count);

        // A forgery that re-seals its edit passes the hashes, not re-evaluation.
        var recorded = CellResult.Load(resultPath);
        byte[] forged = System.Text.Encoding.UTF8.GetBytes(Edit(original, "top1", recorded.Top1 > 0.5 ? "0.0" : "1.0"));
        File.WriteAllBytes(resultPath, forged);
        string seal = Path.Combine(Cell("2shot-seed0-pvp"), "seal.json");
        var hashes = JsonSerializer.Deserialize<Dictionary<string, string>>(File.ReadAllText(seal))!;
        hashes["result.json"] = Convert.ToHexString(SHA256.HashData(forged)).ToLowerInvariant();
        File.WriteAllText(seal, JsonSerializer.Serialize(hashes));
        Assert.Equal(4, new PvpRunner(Recipe(), new Quiet()).Report().Results.Count);
        var (found, _) = new PvpRunner(Recipe(), new Quiet()).Verify();
        Assert.Contains("shapes/2shot-seed0-pvp: result.json records top-1", Assert.Single(found));

        // --force redoes the cell whose files no longer match, keeping the old ones beside it.
        File.WriteAllText(resultPath, Edit(original, "top1", "0.99"));
        var quiet = new Quiet();
        new PvpRunner(Recipe(), quiet) { Force = true }.Tune();
        Assert.Contains(quiet.Lines, l => l.Contains("result.json was changed after training wrote it", StringComparison.Ordinal));
        Assert.Single(Directory.GetDirectories(Path.Combine(folder, "run", "stage2", "shapes"), "2shot-seed0-pvp.replaced-*"));
        Assert.Empty(new PvpRunner(Recipe(), new Quiet()).Verify().Differences);
    }

    [Fact]
    public void AStageWhoseOutputWentMissingRunsAgain()
    {
        new PvpRunner(Recipe(), new Quiet()).Pretrain();
        string petuning = Path.Combine(folder, "run", "stage1", "petuning.safetensors");
        string backbone = Path.Combine(folder, "run", "backbone", "backbone.safetensors");
        byte[] modules = File.ReadAllBytes(petuning);
        File.Delete(petuning);
        File.Delete(backbone);
        Assert.False(new PvpRunner(Recipe(), new Quiet()).StageOneDone);
        var quiet = new Quiet();
        new PvpRunner(Recipe(), quiet).Pretrain();
        Assert.Contains(quiet.Lines, l => l.Contains("backbone.safetensors' is missing although", StringComparison.Ordinal));
        Assert.Contains(quiet.Lines, l => l.Contains("petuning.safetensors' is missing although", StringComparison.Ordinal));
        Assert.True(File.Exists(petuning) && File.Exists(backbone));
        Assert.True(new PvpRunner(Recipe(), new Quiet()).StageOneDone);
        Assert.DoesNotContain(quiet.Lines, l => l.Contains("done earlier", StringComparison.Ordinal));
        // Training again from the same checkpoints writes the same modules: the cells' fingerprints still hold.
        Assert.Equal(modules, File.ReadAllBytes(petuning));

        // A file replaced by other bytes is not the stage's output either.
        File.WriteAllBytes(petuning, File.ReadAllBytes(backbone));
        Assert.False(new PvpRunner(Recipe(), new Quiet()).StageOneDone);
    }

    [Fact]
    public void NonFiniteWeightsAreRefusedWhenLoadedAndWhenExported()
    {
        using var model = new Pvp.Models.VptDeepMicro(numClasses: 3);
        string modules = Path.Combine(folder, "modules.safetensors");
        model.ExportPetuning(modules, includeHead: true);
        var tensors = SafeTensors.Load(modules);
        string key = tensors.Keys.Order(StringComparer.Ordinal).First();
        tensors[key].view(-1)[1] = tensor(float.NaN);
        tensors[key].view(-1)[2] = tensor(float.PositiveInfinity);
        SafeTensors.Save(modules, tensors);
        var error = Assert.Throws<InvalidDataException>(() => model.ImportPetuning(modules, includeHead: true));
        Assert.Contains($"'{modules}' holds non-finite weights", error.Message);
        Assert.Contains($"'{key}' (2 of", error.Message);

        // A backbone .npz with a NaN: named at load, not diagnosed later as a diverging training.
        string npz = Path.Combine(folder, "backbone.npz");
        var state = model.state_dict().Where(p => !p.Key.StartsWith("head", StringComparison.Ordinal) && model.KindsOf(p.Key).Contains(KindNames.Backbone))
            .ToDictionary(p => p.Key, p => p.Value.detach().clone());
        state["norm.weight"][0] = tensor(float.NaN);
        WriteNpz(npz, state);
        var load = Assert.Throws<InvalidDataException>(() => model.LoadBackbone(npz));
        Assert.Contains($"'{npz}' holds non-finite weights", load.Message);
        Assert.Contains("'norm.weight' (1 of", load.Message);

        // Exports refuse a model holding a NaN, and leave no file.
        using (no_grad()) model.state_dict()["norm.bias"][0] = tensor(float.NaN);
        string onnx = Path.Combine(folder, "nan.onnx");
        Assert.Contains("non-finite weights", Assert.Throws<InvalidDataException>(() => model.ExportOnnx(onnx)).Message);
        Assert.False(File.Exists(onnx));
    }

    /// <summary>A numpy .npz archive of float32 arrays (.npy format 1.0, C order), as numpy.savez writes it.</summary>
    private static void WriteNpz(string path, IReadOnlyDictionary<string, Tensor> arrays)
    {
        using var zip = System.IO.Compression.ZipFile.Open(path, System.IO.Compression.ZipArchiveMode.Create);
        foreach (var (name, array) in arrays)
        {
            string header = $"{{'descr': '<f4', 'fortran_order': False, 'shape': ({string.Join(", ", array.shape)}{(array.shape.Length == 1 ? "," : "")}), }}";
            header = header.PadRight(64 * ((header.Length + 10 + 1 + 63) / 64) - 10 - 1) + "\n";
            using var stream = zip.CreateEntry(name + ".npy").Open();
            stream.Write(new byte[] { 0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y', 1, 0 });
            stream.Write(BitConverter.GetBytes((ushort)header.Length));
            stream.Write(System.Text.Encoding.ASCII.GetBytes(header));
            stream.Write(array.contiguous().to(ScalarType.Float32).bytes);
        }
    }

    /// <summary>The result file's JSON with one top-level number replaced by <paramref name="value"/> (written as given).</summary>
    private static string Edit(byte[] json, string key, string value)
    {
        using var document = JsonDocument.Parse(json);
        var parts = document.RootElement.EnumerateObject().Select(p => $"\"{p.Name}\": {(p.Name == key ? value : p.Value.GetRawText())}");
        return "{" + string.Join(", ", parts) + "}";
    }
}
