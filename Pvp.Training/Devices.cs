using TorchSharp;
using static TorchSharp.torch;

namespace Pvp.Training;

/// <summary>Turns a device name from options or a recipe into a torch device.</summary>
public static class Devices
{
    /// <summary><c>auto</c> → CUDA when available, else the CPU; <c>cpu</c>; <c>cuda</c> or <c>cuda:N</c>.</summary>
    /// <exception cref="ArgumentException">An unknown name, or CUDA asked for where it is not available.</exception>
    public static Device Resolve(string name)
    {
        string n = name.Trim().ToLowerInvariant();
        if (n == "auto") return cuda.is_available() ? CUDA : CPU;
        if (n == "cpu") return CPU;
        if (n == "cuda" || n.StartsWith("cuda:", StringComparison.Ordinal))
        {
            if (!cuda.is_available())
                throw new ArgumentException($"Device '{name}' was asked for, but CUDA is not available: " +
                                            "build with -p:TorchBackend=cuda on a machine with an NVIDIA GPU, or use 'cpu' or 'auto'.");
            return new Device(n);
        }
        throw new ArgumentException($"Unknown device '{name}': use auto, cpu, cuda or cuda:N.");
    }

    /// <summary>
    /// Under a scheduler that allots CPUs (Slurm's <c>SLURM_CPUS_PER_TASK</c>) and no explicit <c>OMP_NUM_THREADS</c>,
    /// limits torch's threads to the allotment: more threads than cores make OpenMP spin-wait on one another, which was
    /// measured here to slow a step 100-fold when another process held one of two cores. Returns the thread count in
    /// force.
    /// </summary>
    public static int ApplySchedulerThreadLimit()
    {
        if (Environment.GetEnvironmentVariable("OMP_NUM_THREADS") is null
            && int.TryParse(Environment.GetEnvironmentVariable("SLURM_CPUS_PER_TASK"), out int cpus)
            && cpus > 0 && cpus < get_num_threads())
            set_num_threads(cpus);
        return get_num_threads();
    }

    /// <summary>
    /// Why this machine looks like it has an NVIDIA GPU (a <c>/dev/nvidia0</c> device, or <c>CUDA_VISIBLE_DEVICES</c>
    /// naming one), or null: what <c>auto</c> on a CPU-only libtorch must say out loud, since it would otherwise train
    /// on the CPU of a GPU node without a word.
    /// </summary>
    public static string? VisibleGpuWithoutCuda()
    {
        if (cuda.is_available()) return null;
        string? visible = Environment.GetEnvironmentVariable("CUDA_VISIBLE_DEVICES");
        string? why = File.Exists("/dev/nvidia0") ? "/dev/nvidia0 exists"
            : visible is { Length: > 0 } && visible.Trim() != "-1"
              && !visible.Trim().StartsWith("NoDevFiles", StringComparison.Ordinal) ? $"CUDA_VISIBLE_DEVICES={visible}"
            : null;
        return why is null ? null
            : $"an NVIDIA GPU is visible ({why}), but this pvp's libtorch is the CPU build, so training runs on the CPU. " +
              "Use a pvp built with the CUDA backend (README: GPU clusters), or set device: cpu to silence this.";
    }

    /// <summary>
    /// What a run prints about where it runs: the CPU's model and torch's thread count, or the CUDA device.
    /// </summary>
    public static string Describe(Device device)
    {
        if (device.type == DeviceType.CUDA)
            return $"cuda:{Math.Max(0, device.index)} " +
                   $"(of {cuda.device_count()} CUDA device{(cuda.device_count() == 1 ? "" : "s")})";
        string model = "";
        try
        {
            model = File.Exists("/proc/cpuinfo")
                ? File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))
                      ?.Split(':', 2)[1].Trim() ?? ""
                : "";
        }
        catch (IOException)
        {
            // The CPU's name is information only.
        }
        return $"cpu{(model.Length > 0 ? $" ({model})" : "")}, {get_num_threads()} torch threads";
    }
}
