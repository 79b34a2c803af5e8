using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Pvp.Threading;

/// <summary>
/// Makes libtorch's OpenMP threads sleep rather than spin while they wait (<c>OMP_WAIT_POLICY=PASSIVE</c>), unless the
/// user chose a policy. Spinning threads starve every other busy thread on the machine: measured on 2 cores, a
/// micro-ViT stage-2 cell took 2.9 s alone but over 120 s while a second pvp process ran beside it; with PASSIVE both
/// finished in 4.5 s. Pvp runs next to itself by design (loader threads; several <c>pvp tune</c> on one folder).
/// </summary>
public static class OpenMpWaitPolicy
{
    private const string Variable = "OMP_WAIT_POLICY";

    /// <summary>The policy libtorch will read when it loads (set by the user, or PASSIVE by Pvp).</summary>
    public static string? Current => Environment.GetEnvironmentVariable(Variable);

    /// <summary>
    /// Sets <c>OMP_WAIT_POLICY=PASSIVE</c> in the native environment when it is
    /// unset. It must run before libtorch loads (OpenMP reads it once); Pvp.Runtime
    /// does it when the assembly loads, and applications may call it first thing.
    /// </summary>
    public static void PreferPassive()
    {
        if (Environment.GetEnvironmentVariable(Variable) is not null) return;
        Environment.SetEnvironmentVariable(Variable, "PASSIVE"); // for child processes and Current
        // .NET keeps its own copy of the environment on Unix; OpenMP reads the C library's.
        if (!OperatingSystem.IsWindows())
        {
            try { _ = setenv(Variable, "PASSIVE", 0); }
            catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
            {
                /* no libc setenv: the default policy stays */
            }
        }
    }

// A library initializer is the point: it must run before any code of the user's loads libtorch.
#pragma warning disable CA2255
    [ModuleInitializer]
    internal static void OnLoad() => PreferPassive();
#pragma warning restore CA2255

    [DllImport("libc", EntryPoint = "setenv")]
    private static extern int setenv(
        [MarshalAs(UnmanagedType.LPUTF8Str)] string name,
        [MarshalAs(UnmanagedType.LPUTF8Str)] string value,
        int overwrite);
}
