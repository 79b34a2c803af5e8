namespace Pvp.Checkpoints;

/// <summary>A checkpoint does not fit a model: names each missing, unexpected and mis-shaped key.</summary>
public sealed class CheckpointMismatchException : Exception
{
    /// <summary>Creates the exception; the message lists every problem.</summary>
    public CheckpointMismatchException(string source, string target,
        IReadOnlyList<string> missing, IReadOnlyList<string> unexpected, IReadOnlyList<string> misShaped)
        : base(Describe(source, target, missing, unexpected, misShaped))
    {
        Missing = missing;
        Unexpected = unexpected;
        MisShaped = misShaped;
    }

    /// <summary>Keys the model needs that the checkpoint lacks.</summary>
    public IReadOnlyList<string> Missing { get; }

    /// <summary>Keys in the checkpoint that the model does not have.</summary>
    public IReadOnlyList<string> Unexpected { get; }

    /// <summary>
    /// Keys present in both with different shapes, each as <c>key: checkpoint [..] vs model [..]</c>.
    /// </summary>
    public IReadOnlyList<string> MisShaped { get; }

    private static string Describe(
        string source,
        string target,
        IReadOnlyList<string> missing,
        IReadOnlyList<string> unexpected,
        IReadOnlyList<string> misShaped)
    {
        var lines = new List<string> { $"Checkpoint '{source}' does not fit {target}:" };
        lines.AddRange(missing.Select(k => $"  missing:     {k} (the model has it, the checkpoint does not)"));
        lines.AddRange(unexpected.Select(k => $"  unexpected:  {k} (the checkpoint has it, the model does not)"));
        lines.AddRange(misShaped.Select(k => $"  mis-shaped:  {k}"));
        lines.Add("Was it exported from another variant or backbone? Load it into the variant named in its metadata.");
        return string.Join(Environment.NewLine, lines);
    }
}
