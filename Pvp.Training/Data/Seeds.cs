namespace Pvp.Training.Data;

/// <summary>Seeds derived from a run's seed, the same in every process and on every machine.</summary>
public static class Seeds
{
    /// <summary>
    /// A stable non-negative 32-bit seed from (seed, a, b), e.g. (run seed, epoch, image
    /// index): SplitMix64's finalizer, not <see cref="HashCode"/>, which varies per process.
    /// </summary>
    public static int Mix(int seed, int a, int b)
    {
        ulong z = (ulong)(uint)seed * 0x9E3779B97F4A7C15UL ^ (ulong)(uint)a * 0xBF58476D1CE4E5B9UL ^ (ulong)(uint)b * 0x94D049BB133111EBUL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return (int)((z ^ (z >> 31)) & 0x7FFFFFFF);
    }
}
