// Pvp's benchmarks: each prints figures and ratios measured side by side in one run.
//
//   dotnet run -c Release --project bench/Pvp.Bench -- step        generated vs hand-written VPT-deep ViT-S/16 step (and PyTorch, if installed)
//   dotnet run -c Release --project bench/Pvp.Bench -- memory      peak RSS and optimizer state of a ViT-B/16 step per variant
//   dotnet run -c Release --project bench/Pvp.Bench -- inference   LoRA merged vs unmerged; fused vs explicit attention
//   dotnet run -c Release --project bench/Pvp.Bench -- precision   bf16 frozen backbone vs fp32: step speed and few-shot accuracy
//   dotnet run -c Release --project bench/Pvp.Bench -- generator   generating and compiling 200 variants; incremental re-run
//   dotnet run -c Release --project bench/Pvp.Bench -- onnx [threads]  ViT-S/16 inference: TorchSharp vs ONNX Runtime on the exported file
//   dotnet run -c Release --project bench/Pvp.Bench -- peak        this host's float32 (and native bf16) GEMM peak through libtorch
//   dotnet run -c Release --project bench/Pvp.Bench -- search      successive halving vs the full grid on the built-in task
//   dotnet run -c Release --project bench/Pvp.Bench -- methods [rounds] [variants]  every (or the named) PETuning method on ViT-S/16
//   dotnet run -c Release --project bench/Pvp.Bench -- ops [rounds]      a VPT-deep ViT-S/16 block op by op, float32 and bf16
//   dotnet run -c Release --project bench/Pvp.Bench -- micro             the quick start's step in parts, 1 and 2 threads
using Pvp.Bench;
using static TorchSharp.torch;

Pvp.VariantRegistry.Load(typeof(Pvp.Models.VptDeepB16).Assembly);
string command = args.FirstOrDefault() ?? "help";
Console.WriteLine($"machine: {Environment.ProcessorCount} cores, torch threads {get_num_threads()}, {System.Runtime.InteropServices.RuntimeInformation.FrameworkDescription}, {System.Runtime.InteropServices.RuntimeInformation.OSDescription}");
return command switch
{
    "step" => StepBench.Run(args.Skip(1).ToArray()),
    "memory" => MemoryBench.Run(args.Skip(1).ToArray()),
    "memory-child" => MemoryBench.Child(args[1]),
    "inference" => InferenceBench.Run(),
    "precision" => PrecisionBench.Run(args.Skip(1).ToArray()),
    "generator" => GeneratorBench.Run(),
    "onnx" => OnnxBench.Run(args.Skip(1).ToArray()),
    "peak" => PeakOnly(),
    "search" => SearchBench.Run(args.Skip(1).ToArray()),
    "methods" => MethodsBench.Run(args.Skip(1).ToArray()),
    "methods-child" => MethodsBench.Child(args[1]),
    "ops" => OpsBench.Run(args.Skip(1).ToArray()),
    "micro" => MicroBench.Run(),
    _ => Help(),
};

static int PeakOnly()
{
    Peak.Measure();
    return 0;
}

static int Help()
{
    Console.WriteLine("usage: dotnet run -c Release --project bench/Pvp.Bench -- step|memory|inference|precision|generator|onnx|peak|search|methods|ops|micro");
    return 2;
}
