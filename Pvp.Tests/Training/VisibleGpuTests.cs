using Pvp.Training;

namespace Pvp.Tests.Training;

/// <summary>A GPU the CPU-only libtorch cannot use is said out loud, so `device: auto` never trains on a GPU node's CPU unnoticed.</summary>
public sealed class VisibleGpuTests
{
    [Fact]
    public void AVisibleGpuWithTheCpuBackendIsNamed()
    {
        Assert.False(TorchSharp.torch.cuda.is_available()); // these machines: the CPU libtorch
        string? before = Environment.GetEnvironmentVariable("CUDA_VISIBLE_DEVICES");
        try
        {
            Environment.SetEnvironmentVariable("CUDA_VISIBLE_DEVICES", "0,1");
            string? warning = Devices.VisibleGpuWithoutCuda();
            Assert.NotNull(warning);
            Assert.Contains(File.Exists("/dev/nvidia0") ? "/dev/nvidia0 exists" : "CUDA_VISIBLE_DEVICES=0,1", warning);
            Assert.Contains("CPU build", warning);
            if (!File.Exists("/dev/nvidia0"))
            {
                Environment.SetEnvironmentVariable("CUDA_VISIBLE_DEVICES", "-1"); // "no GPU", as CUDA reads it
                Assert.Null(Devices.VisibleGpuWithoutCuda());
                Environment.SetEnvironmentVariable("CUDA_VISIBLE_DEVICES", null);
                Assert.Null(Devices.VisibleGpuWithoutCuda());
            }
        }
        finally
        {
            Environment.SetEnvironmentVariable("CUDA_VISIBLE_DEVICES", before);
        }
    }
}
