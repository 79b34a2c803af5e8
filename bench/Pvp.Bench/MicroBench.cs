using System.Diagnostics;
using static TorchSharp.torch;

namespace Pvp.Bench;

/// <summary>
/// Where the quick start's training step goes: VptDeepMicro (32×32, width 64, 3 blocks) at the quick start's batches
/// (16 in stage 2, 64 before it), forward without gradients, forward with the loss, + backward, + AdamW, at 1 and 2
/// torch threads, the mean of 60 steps after 10 warm-up ones. At this size a step is a few hundred small ops, so their
/// fixed cost, not the arithmetic, sets the time.
/// </summary>
internal static class MicroBench
{
    public static int Run()
    {
        var cpu = Pvp.MixedPrecision.CpuFeatures.Current;
        Console.WriteLine($"micro: VptDeepMicro step parts; cpu: {cpu.Model}, flags {cpu.ReportedFlagsPresent}");
        int original = get_num_threads();
        Console.WriteLine("| threads | batch | forward, no grad (ms) | forward + loss (ms) | + backward (ms) | + AdamW (ms) |");
        Console.WriteLine("| ---: | ---: | ---: | ---: | ---: | ---: |");
        foreach (int threads in new[] { 1, 2 })
        foreach (int batch in new[] { 16, 64 })
        {
            set_num_threads(threads);
            manual_seed(0);
            using var model = new Pvp.Models.VptDeepMicro(10);
            model.train();
            using var optimizer = model.CreateAdamW(1e-3, 1e-4);
            using var x = randn(batch, 3, 32, 32);
            using var y = randint(0, 10, new long[] { batch });
            double Ms(Action step)
            {
                for (int i = 0; i < 10; i++) step();
                var clock = Stopwatch.StartNew();
                for (int i = 0; i < 60; i++) step();
                return clock.Elapsed.TotalMilliseconds / 60;
            }
            double forward = Ms(() => { using var s = NewDisposeScope(); using var g = no_grad(); model.call(x); });
            double loss = Ms(() => { using var s = NewDisposeScope(); nn.functional.cross_entropy(model.call(x), y); });
            double backward = Ms(() =>
            {
                using var s = NewDisposeScope();
                optimizer.ZeroGrad();
                nn.functional.cross_entropy(model.call(x), y).backward();
            });
            double step = Ms(() =>
            {
                using var s = NewDisposeScope();
                optimizer.ZeroGrad();
                nn.functional.cross_entropy(model.call(x), y).backward();
                optimizer.Step();
            });
            Console.WriteLine($"| {threads} | {batch} | {forward:F2} | {loss:F2} | {backward:F2} | {step:F2} |");
        }
        set_num_threads(original);
        return 0;
    }
}
