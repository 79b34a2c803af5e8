using System.Diagnostics;
using System.Globalization;
using Pvp.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Pvp.Bench;

/// <summary>
/// The VPT-deep ViT-S/16 training step (forward, backward, AdamW; batch 16; 224×224): the generated model against a
/// hand-written TorchSharp module, interleaved in one process, and against PyTorch eager on the same machine when
/// <c>python3 -c "import torch"</c> works (bench/pytorch/install.sh installs Debian's python3-torch with OpenBLAS).
/// </summary>
internal static class StepBench
{
    public static int Run(string[] args)
    {
        int batch = 16, rounds = args.Contains("--quick") ? 3 : 7;
        manual_seed(0);
        using var x = randn(batch, 3, 224, 224);
        using var y = randint(0, 100, new long[] { batch });

        using var generated = new VptDeepS16(numClasses: 100);
        generated.train();
        using var generatedOptimizer = generated.CreateAdamW(1e-3, 1e-4);
        using var hand = new HandWrittenVptDeep(classes: 100);
        hand.train();
        using var handOptimizer = optim.AdamW(hand.parameters().Where(p => p.requires_grad), 1e-3, weight_decay: 1e-4);
        Console.WriteLine($"trainable: generated {generated.TrainableParameterCount:N0}, hand-written {hand.parameters().Where(p => p.requires_grad).Sum(p => p.numel()):N0}");

        void GeneratedStep()
        {
            using var scope = NewDisposeScope();
            generatedOptimizer.ZeroGrad();
            nn.functional.cross_entropy(generated.call(x), y).backward();
            generatedOptimizer.Step();
        }
        void HandStep()
        {
            using var scope = NewDisposeScope();
            handOptimizer.zero_grad();
            nn.functional.cross_entropy(hand.call(x), y).backward();
            handOptimizer.step();
        }

        var peak = Peak.Measure();
        var seconds = Measure.Interleaved(warmup: 1, rounds, GeneratedStep, HandStep);
        // ViT-S/16: width 384, 12 blocks, 50 prompt tokens at every block.
        double flops = Peak.VptDeepStepFlops(batch, 224, 16, 384, 12, 50);
        double generatedIps = batch / seconds[0], handIps = batch / seconds[1];
        Console.WriteLine($"generated VptDeepS16 step:     {seconds[0]:F3} s  = {generatedIps:F2} images/s");
        Console.WriteLine($"hand-written TorchSharp step:  {seconds[1]:F3} s  = {handIps:F2} images/s");
        Console.WriteLine($"ratio generated / hand-written time: {seconds[0] / seconds[1]:F3} (target ≤ 1.03)");
        Console.WriteLine($"step {flops / 1e9:F0} GFLOP (matrix products, forward + input gradients): generated " +
                          $"{flops / seconds[0] / 1e9:F1} GFLOP/s = {peak.Share(flops / seconds[0] / 1e9)}, hand-written " +
                          $"{flops / seconds[1] / 1e9:F1} GFLOP/s = {peak.Share(flops / seconds[1] / 1e9)}");

        double? pytorchIps = RunPyTorch(batch, rounds);
        if (pytorchIps is { } p)
        {
            Console.WriteLine($"PyTorch eager step:            {batch / p:F3} s  = {p:F2} images/s");
            Console.WriteLine($"ratio generated / PyTorch images/s: {generatedIps / p:F2}× (target ≥ 1.5×)");
        }
        return 0;
    }

    private static double? RunPyTorch(int batch, int rounds)
    {
        string script = Path.Combine(AppContext.BaseDirectory, "vpt_step.py");
        try
        {
            var start = new ProcessStartInfo(File.Exists("/usr/bin/python3") ? "/usr/bin/python3" : "python3", $"\"{script}\" --batch {batch} --rounds {rounds} --threads {get_num_threads()}")
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            };
            using var process = Process.Start(start)!;
            string output = process.StandardOutput.ReadToEnd();
            string error = process.StandardError.ReadToEnd();
            process.WaitForExit();
            if (process.ExitCode != 0)
            {
                Console.WriteLine($"PyTorch: not measured ({error.Trim().Split('\n').LastOrDefault()}); run bench/pytorch/install.sh first.");
                return null;
            }
            Console.Write(string.Join("", output.Split('\n').Where(l => l.StartsWith("pytorch:", StringComparison.Ordinal)).Select(l => l + "\n")));
            string line = output.Split('\n').First(l => l.StartsWith("images_per_second=", StringComparison.Ordinal));
            return double.Parse(line["images_per_second=".Length..], CultureInfo.InvariantCulture);
        }
        catch (System.ComponentModel.Win32Exception)
        {
            Console.WriteLine("PyTorch: not measured (no python3).");
            return null;
        }
    }
}
