using TorchSharp;
using static TorchSharp.torch;

namespace Pvp.Tests.Numerics;

/// <summary>Helpers the numerical tests share.</summary>
internal static class TestTensors
{
    public static string TestData(string name) => Path.Combine(AppContext.BaseDirectory, "TestData", name);

    /// <summary>Max |Δ| between <paramref name="model"/>'s logits (eval mode) and torchvision's on the shared fixture's input.</summary>
    public static double MaxDiffFromTorchvision(PetModel model)
    {
        model.eval();
        using var x = Pvp.Weights.SafeTensors.Load(TestData("input.safetensors"))["x"];
        using var expected = Pvp.Weights.SafeTensors.Load(TestData("logits.safetensors"))["logits"];
        using var noGrad = no_grad();
        using var logits = model.call(x);
        return (logits - expected).abs().max().item<float>();
    }

    /// <summary>A path in the repository (this file lives in Pvp.Tests/Numerics/), for tests that read sources or build outputs.</summary>
    public static string RepoPath(string relative) =>
        Path.GetFullPath(Path.Combine(Path.GetDirectoryName(ThisFile())!, "..", "..", relative));

    // The attribute is filled in where the call is written, so this must be called from this file only.
    private static string ThisFile([System.Runtime.CompilerServices.CallerFilePath] string path = "") => path;

    /// <summary>Adds N(0, σ²) noise to every parameter whose name passes <paramref name="filter"/>, so none is trivial.</summary>
    public static void Perturb(nn.Module model, double sigma = 0.05, Func<string, bool>? filter = null)
    {
        using var noGrad = no_grad();
        foreach (var (name, p) in model.named_parameters())
            if (filter is null || filter(name))
                p.add_(randn_like(p) * sigma);
    }

    /// <summary>Copies every parameter of <paramref name="from"/> into the same-named parameter of <paramref name="to"/>.</summary>
    public static void CopyShared(nn.Module from, nn.Module to)
    {
        var target = to.state_dict();
        using var noGrad = no_grad();
        foreach (var (name, value) in from.state_dict())
            if (target.TryGetValue(name, out var t)) t.copy_(value);
    }

    /// <summary>Bit-for-bit equality of shape and values.</summary>
    public static bool Same(Tensor a, Tensor b) => a.shape.SequenceEqual(b.shape) && a.eq(b).all().item<bool>();

    public static double MaxDiff(Tensor a, Tensor b) => (a - b).abs().max().item<float>();

    /// <summary>A detached copy of the state dict's values.</summary>
    public static Dictionary<string, Tensor> Snapshot(nn.Module model) =>
        model.state_dict().ToDictionary(p => p.Key, p => p.Value.detach().clone());
}
