using System.Text.RegularExpressions;

namespace Pvp.Recipes.Cluster;

/// <summary>
/// Checks every value that reaches a Slurm script or a Kubernetes manifest for what it is (a Slurm time, a memory size,
/// a partition name, a DNS-1123 name, a positive count, a path without control characters), so that nothing a user or a
/// shared recipe passes can add a line to a script or a key to a manifest. Each refusal is one line naming the option
/// or recipe key and what it accepts.
/// </summary>
public static partial class SchedulerValues
{
    /// <summary>Slurm's <c>--time</c> forms: minutes, m:s, h:m:s, d-h, d-h:m, d-h:m:s, or UNLIMITED/INFINITE.</summary>
    [GeneratedRegex(@"^(?:[0-9]+(?::[0-9]+){0,2}|[0-9]+-[0-9]+(?::[0-9]+){0,2}|UNLIMITED|INFINITE)\z")]
    private static partial Regex SlurmTimePattern();

    /// <summary>Slurm's <c>--mem</c>: a whole number with an optional unit K, M, G or T.</summary>
    [GeneratedRegex(@"^[0-9]+[KMGTkmgt]?\z")]
    private static partial Regex SlurmMemoryPattern();

    /// <summary>A Slurm partition, account or QOS name (a comma-separated list for partitions).</summary>
    [GeneratedRegex(@"^[A-Za-z0-9_][A-Za-z0-9_.\-]*(?:,[A-Za-z0-9_][A-Za-z0-9_.\-]*)*\z")]
    private static partial Regex SlurmNamePattern();

    /// <summary>A DNS-1123 label (namespaces): lower-case letters, digits and '-', starting and ending alphanumeric.</summary>
    [GeneratedRegex(@"^[a-z0-9](?:[-a-z0-9]*[a-z0-9])?\z")]
    private static partial Regex DnsLabelPattern();

    /// <summary>A DNS-1123 subdomain (claim names): labels joined by '.'.</summary>
    [GeneratedRegex(@"^[a-z0-9](?:[-a-z0-9]*[a-z0-9])?(?:\.[a-z0-9](?:[-a-z0-9]*[a-z0-9])?)*\z")]
    private static partial Regex DnsSubdomainPattern();

    /// <summary>A container image reference: registry/path:tag@digest characters only.</summary>
    [GeneratedRegex(@"^[A-Za-z0-9][A-Za-z0-9._\-/:@+]*\z")]
    private static partial Regex ImagePattern();

    /// <summary>A Slurm time limit, e.g. <c>04:00:00</c> or <c>2-00:00:00</c>.</summary>
    public static string SlurmTime(string option, string value) =>
        Matches(SlurmTimePattern(), value) ? value
            : throw Refused(option, value, "a Slurm time such as 30, 04:00:00 or 2-12:00:00 (minutes, h:m:s, d-h:m:s)");

    /// <summary>A Slurm memory size, e.g. <c>32G</c>.</summary>
    public static string SlurmMemory(string option, string value) =>
        Matches(SlurmMemoryPattern(), value) ? value : throw Refused(option, value, "a memory size such as 32G or 4000M (a whole number, unit K, M, G or T)");

    /// <summary>A partition or account name (letters, digits, '_', '.', '-'; partitions may be a comma-separated list).</summary>
    public static string SlurmName(string option, string value) =>
        Matches(SlurmNamePattern(), value) ? value : throw Refused(option, value, "a Slurm name of letters, digits, '_', '.' and '-', starting with a letter, digit or '_' (a comma-separated list for partitions)");

    /// <summary>A count of at least <paramref name="least"/>.</summary>
    public static int Count(string option, int value, int least = 1) =>
        value >= least ? value : throw new ArgumentException($"{option} {value}: expected a whole number of at least {least}.");

    /// <summary>A Kubernetes namespace (a DNS-1123 label of at most 63 characters).</summary>
    public static string DnsLabel(string option, string value) =>
        value.Length <= 63 && Matches(DnsLabelPattern(), value) ? value
            : throw Refused(option, value, "a DNS-1123 label: at most 63 lower-case letters, digits and '-', starting and ending with a letter or digit");

    /// <summary>A Kubernetes object name such as a PersistentVolumeClaim's (a DNS-1123 subdomain of at most 253 characters).</summary>
    public static string DnsSubdomain(string option, string value) =>
        value.Length <= 253 && Matches(DnsSubdomainPattern(), value) ? value
            : throw Refused(option, value, "a DNS-1123 name: lower-case letters, digits, '-' and '.', starting and ending with a letter or digit");

    /// <summary>A container image reference such as <c>registry.example/pvp:0.1</c>.</summary>
    public static string Image(string option, string value) =>
        value.Length <= 4096 && Matches(ImagePattern(), value) ? value
            : throw Refused(option, value, "an image reference such as registry.example/pvp:0.1 (no spaces, quotes or control characters)");

    /// <summary>
    /// A path that a script or manifest names: absolute and free of control characters (a newline in it would end a
    /// directive); spaces, quotes and shell characters are fine, since every path is written quoted.
    /// </summary>
    public static string Path(string what, string value)
    {
        if (value.Length == 0) throw new ArgumentException($"{what} is empty.");
        if (value.Any(char.IsControl))
            throw new ArgumentException($"{what} '{Printable(value)}' contains a control character (a newline or tab, say), which cannot be written safely " +
                                        "into a job script or manifest; rename it.");
        return value;
    }

    /// <summary>
    /// The command nodes start pvp with: shell words, written as given before the subcommand (so no control characters,
    /// and nothing that ends or chains a command).
    /// </summary>
    public static string Command(string option, string value)
    {
        if (value.Trim().Length == 0) throw new ArgumentException($"{option} is empty; give how the nodes start pvp, e.g. 'pvp' or 'dotnet /shared/pvp/pvp.dll'.");
        if (value.Any(char.IsControl) || value.IndexOfAny(new[] { ';', '&', '|', '`', '<', '>', '#' }) >= 0 || value.Contains("$(", StringComparison.Ordinal))
            throw Refused(option, value, "the words that start pvp on a node, e.g. 'pvp' or 'dotnet /shared/pvp/pvp.dll' (no ';', '&', '|', '`', '$(', redirections or newlines)");
        return value;
    }

    /// <summary>A value for an <c>#SBATCH</c> directive, double-quoted (as sbatch's directive parser reads quotes and backslashes) when it needs to be.</summary>
    internal static string Directive(string value) =>
        value.All(c => char.IsAsciiLetterOrDigit(c) || "/._-=:+,@%".Contains(c))
            ? value
            : "\"" + value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal) + "\"";

    private static bool Matches(Regex pattern, string value) => value.Length <= 256 && pattern.IsMatch(value);

    private static ArgumentException Refused(string option, string value, string expected) =>
        new($"{option} '{Printable(value)}': expected {expected}.");

    /// <summary>The value as one line: control characters shown as escapes.</summary>
    internal static string Printable(string value) =>
        string.Concat(value.Take(120).Select(c => c switch
        {
            '\n' => "\\n",
            '\r' => "\\r",
            '\t' => "\\t",
            _ when char.IsControl(c) => $"\\u{(int)c:x4}",
            _ => c.ToString(),
        })) + (value.Length > 120 ? "…" : "");
}
