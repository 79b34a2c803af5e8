using TorchSharp;
using static TorchSharp.torch;

namespace Pvp.Tests.Training;

/// <summary>Training steps on one fixed batch, for comparing two optimizers step for step.</summary>
internal static class OptimizerSteps
{
    /// <summary><paramref name="count"/> steps of cross-entropy on (<paramref name="x"/>, <paramref name="y"/>): zero, backward, step.</summary>
    public static void Run(PetModel model, Tensor x, Tensor y, Action zero, Action step, int count)
    {
        for (int i = 0; i < count; i++)
        {
            zero();
            using var loss = nn.functional.cross_entropy(model.call(x), y);
            loss.backward();
            step();
        }
    }
}
