using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Pvp.Blocks;

/// <summary>
/// The low-rank pair of LoRA: <c>lora_A</c> [r, in] (Kaiming-uniform with a = √5, i.e. U(−1/√in, 1/√in)) and
/// <c>lora_B</c> [out, r] (zeros), scaled by alpha / r.
/// </summary>
public sealed class LoraUpdate : nn.Module
{
    private readonly Parameter lora_A;
    private readonly Parameter lora_B;
    private readonly Parameter? lora_magnitude_vector;
    private readonly Scalar scale;

    /// <summary>Creates the pair.</summary>
    /// <param name="inFeatures">Input width.</param>
    /// <param name="outFeatures">Output width.</param>
    /// <param name="rank">The rank r.</param>
    /// <param name="alpha">Scale numerator: the update is (alpha / r)·B·A.</param>
    /// <param name="device">Where to allocate.</param>
    /// <param name="dtype">Type of A and B.</param>
    /// <param name="doraWeight">
    /// For DoRA, the frozen weight [out, in] this pair updates: its row norms start the magnitude
    /// (<c>lora_magnitude_vector</c>); null for plain LoRA.
    /// </param>
    public LoraUpdate(
        int inFeatures, int outFeatures, int rank, double alpha, Device? device = null, ScalarType? dtype = null,
        Tensor? doraWeight = null)
        : base(nameof(LoraUpdate))
    {
        if (rank <= 0 || rank > Math.Min(inFeatures, outFeatures))
            throw new ArgumentOutOfRangeException(nameof(rank), rank,
                $"LoRA rank must be in 1..{Math.Min(inFeatures, outFeatures)}.");
        Rank = rank;
        Scale = alpha / rank;
        scale = Scale.ToScalar();
        double bound = 1.0 / Math.Sqrt(inFeatures);
        lora_A = new Parameter(
            empty(new long[] { rank, inFeatures }, dtype: dtype, device: device).uniform_(-bound, bound));
        lora_B = new Parameter(zeros(new long[] { outFeatures, rank }, dtype: dtype, device: device));
        if (doraWeight is not null)
        {
            Dora = new DoraMagnitude(doraWeight, lora_A.dtype);
            lora_magnitude_vector = Dora.Vector;
        }
        RegisterComponents();
    }

    /// <summary>DoRA's magnitude of the weight this pair updates; null for plain LoRA.</summary>
    internal DoraMagnitude? Dora { get; }

    /// <summary>The rank r.</summary>
    public int Rank { get; }

    /// <summary>alpha / r.</summary>
    public double Scale { get; }

    /// <summary>A [r, in].</summary>
    public Parameter A => lora_A;

    /// <summary>B [out, r].</summary>
    public Parameter B => lora_B;

    /// <summary>ΔW = (alpha / r)·B·A, [out, in].</summary>
    public Tensor Delta() => DeltaOf(lora_A, lora_B, scale);

    /// <summary>
    /// ΔW = s·B·A: the one place LoRA's update matrix is formed (<see cref="LoraLinear"/> holds its pair itself).
    /// </summary>
    public static Tensor DeltaOf(Tensor a, Tensor b, Scalar scale) => b.matmul(a).mul_(scale);

    /// <summary>The update applied to inputs, s·x·Aᵀ·Bᵀ: the one place LoRA's branch is computed.</summary>
    public static Tensor ApplyOf(Tensor x, Tensor a, Tensor b, Scalar scale)
    {
        using var down = nn.functional.linear(x, a);
        return nn.functional.linear(down, b).mul_(scale);
    }

    /// <summary>
    /// The update applied to inputs: (alpha / r)·x·Aᵀ·Bᵀ, for when dropout on x rules out forming ΔW.
    /// </summary>
    public Tensor Apply(Tensor x) => ApplyOf(x, lora_A, lora_B, scale);
}
