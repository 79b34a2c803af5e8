using Pvp.Tests.Numerics;
using Pvp.Weights;

namespace Pvp.Tests.Weights;

/// <summary>PyTorch pickles written by real PyTorch: plain tensors load; anything else is refused by key, and nothing runs.</summary>
public class PickleSafetyTests
{
    [Fact]
    public void RealTorchSaveLoads()
    {
        var weights = StateDictFile.Load(TestTensors.TestData("plain_torch_save.pt"));
        Assert.Equal(new[] { 0f, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11 }, weights["a.weight"].data<float>().ToArray());
        Assert.Equal(new long[] { 3, 4 }, weights["a.weight"].shape);
        Assert.Equal(new[] { 1.5f, -2.0f, 0.25f }, weights["a.bias"].data<float>().ToArray());
    }

    [Fact]
    public void NonTensorValuesAreRefusedByKey()
    {
        var error = Assert.Throws<InvalidDataException>(() => StateDictFile.Load(TestTensors.TestData("mixed_values.pt")));
        Assert.Contains("step", error.Message);
        Assert.Contains("not tensors", error.Message);
    }

    [Fact]
    public void PicklesCarryingCodeAreRefusedWithoutRunningIt()
    {
        const string marker = "/tmp/pvp-pickle-was-executed";
        File.Delete(marker);
        var error = Assert.ThrowsAny<Exception>(() => StateDictFile.Load(TestTensors.TestData("code_payload.pt")));
        Assert.IsType<InvalidDataException>(error);
        Assert.Contains("code_payload.pt", error.Message);
        Assert.False(File.Exists(marker), "loading must never execute what a pickle asks for");
    }
}
