using System.Globalization;
using YamlDotNet.RepresentationModel;

namespace Pvp.Recipes;

/// <summary>
/// Reads one YAML mapping with typed accessors that report bad values at their line, and, when finished, every key
/// that was not asked for (a misspelt key must never be silently ignored).
/// </summary>
internal sealed class YamlSection
{
    private readonly string file;
    private readonly YamlMappingNode node;
    private readonly HashSet<string> known = new(StringComparer.Ordinal);

    public YamlSection(string file, YamlMappingNode node, string path)
    {
        this.file = file;
        this.node = node;
        Path = path;
    }

    public string Path { get; }

    private string Key(string key) => Path.Length == 0 ? key : $"{Path}.{key}";

    /// <summary>An error located at this section's start.</summary>
    public RecipeException Error(string message) => Error(node, message);

    public RecipeException Error(YamlNode at, string message) =>
        new($"{file}:{at.Start.Line}:{at.Start.Column}: {message}");

    private YamlNode? Get(string key)
    {
        known.Add(key);
        foreach (var (k, v) in node.Children)
            if (k is YamlScalarNode s && s.Value == key) return v;
        return null;
    }

    /// <summary>
    /// The value node of <paramref name="key"/> (matched by its text, whatever its tag or style), or null.
    /// </summary>
    public YamlNode? NodeOf(string key)
    {
        foreach (var (k, v) in node.Children)
            if (k is YamlScalarNode s && s.Value == key) return v;
        return null;
    }

    public bool Has(string key) => node.Children.Keys.OfType<YamlScalarNode>().Any(k => k.Value == key);

    private static bool IsNull(YamlNode value)
        => value is YamlScalarNode { Value: null or "" or "null" or "~" } s && s.Style == YamlDotNet.Core.ScalarStyle.Plain;

    private string Scalar(YamlNode value, string key, string expected)
    {
        if (value is not YamlScalarNode scalar || scalar.Value is null)
            throw Error(value, $"{Key(key)}: expected {expected}, got a {Kind(value)}.");
        return scalar.Value;
    }

    private static string Kind(YamlNode value) => value switch
    {
        YamlMappingNode => "mapping",
        YamlSequenceNode => "list",
        _ => "value",
    };

    public string? OptionalString(string key)
    {
        var value = Get(key);
        return value is null || IsNull(value) ? null : Scalar(value, key, "a string");
    }

    public string String(string key, string? fallback = null)
    {
        var value = Get(key);
        if (value is null || IsNull(value))
            return fallback ?? throw new RecipeException($"{file}:{node.Start.Line}:{node.Start.Column}: " +
                                                         $"missing key '{Key(key)}'.");
        return Scalar(value, key, "a string");
    }

    public int Int(string key, int? fallback, int min = int.MinValue, int max = int.MaxValue)
    {
        var value = Get(key);
        if (value is null)
            return fallback ?? throw new RecipeException($"{file}:{node.Start.Line}:{node.Start.Column}: " +
                                                         $"missing key '{Key(key)}'.");
        string text = Scalar(value, key, "a whole number");
        if (!int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out int result))
            throw Error(value, $"{Key(key)}: expected a whole number, got '{text}'.");
        if (result < min || result > max)
            throw Error(value, $"{Key(key)}: {result} is out of range; expected {Range(min, max)}.");
        return result;
    }

    public long Long(string key, long fallback, long min, long max)
    {
        var value = Get(key);
        if (value is null) return fallback;
        string text = Scalar(value, key, "a whole number");
        if (!long.TryParse(text.Replace("_", ""), NumberStyles.Integer, CultureInfo.InvariantCulture, out long result))
            throw Error(value, $"{Key(key)}: expected a whole number, got '{text}'.");
        if (result < min || result > max)
            throw Error(value, $"{Key(key)}: {result} is out of range; expected between {min} and {max}.");
        return result;
    }

    public int? OptionalInt(string key, int min = int.MinValue, int max = int.MaxValue)
        => Has(key) && !IsNull(Get(key)!) ? Int(key, null, min, max) : MarkKnown<int>(key);

    /// <summary>Records an absent (or null) optional key as one this section takes; its value is then null.</summary>
    private T? MarkKnown<T>(string key) where T : struct
    {
        known.Add(key);
        return null;
    }

    public double Double(string key, double fallback, double min = double.MinValue, double max = double.MaxValue,
        bool exclusiveMin = false)
    {
        var value = Get(key);
        if (value is null) return fallback;
        string text = Scalar(value, key, "a number");
        if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double result)
            || !double.IsFinite(result))
            throw Error(value, $"{Key(key)}: expected a number, got '{text}'.");
        if (result < min || result > max || (exclusiveMin && result <= min))
        {
            string upTo = max == double.MaxValue ? "" : $" and at most {max.ToString(CultureInfo.InvariantCulture)}";
            string expected = exclusiveMin ? $"more than {min.ToString(CultureInfo.InvariantCulture)}{upTo}" : Range(min, max);
            throw Error(value, $"{Key(key)}: {result.ToString(CultureInfo.InvariantCulture)} is out of range; expected {expected}.");
        }
        return result;
    }

    public bool Bool(string key, bool fallback)
    {
        var value = Get(key);
        if (value is null) return fallback;
        string text = Scalar(value, key, "true or false");
        return text switch
        {
            "true" or "True" or "yes" => true,
            "false" or "False" or "no" => false,
            _ => throw Error(value, $"{Key(key)}: expected true or false, got '{text}'."),
        };
    }

    public IReadOnlyList<int> IntList(string key, IReadOnlyList<int> fallback, int min, int max = int.MaxValue)
    {
        var value = Get(key);
        if (value is null) return fallback;
        if (value is not YamlSequenceNode list || list.Children.Count == 0)
            throw Error(value, $"{Key(key)}: expected a non-empty list of whole numbers such as [1, 2, 4].");
        var seen = new HashSet<int>();
        return list.Children.Select(item =>
        {
            string text = Scalar(item, key, "a whole number");
            if (!int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out int v) || v < min || v > max)
                throw Error(item, $"{Key(key)}: expected whole numbers " +
                                  $"{(max == int.MaxValue ? $"of at least {min}" : $"from {min} to {max}")}, got '{text}'.");
            if (!seen.Add(v)) throw Error(item, $"{Key(key)}: {v} appears twice; each value names one run.");
            return v;
        }).ToList();
    }

    /// <summary>A non-empty list of distinct numbers in [min, max] (the fallback when absent).</summary>
    public IReadOnlyList<double> DoubleList(
        string key, IReadOnlyList<double> fallback, double min, double max, int? length = null)
    {
        var value = Get(key);
        if (value is null) return fallback;
        if (value is not YamlSequenceNode list || list.Children.Count == 0)
            throw Error(value, $"{Key(key)}: expected a non-empty list of numbers such as [0.1, 0.01].");
        if (length is { } n && list.Children.Count != n)
            throw Error(value, $"{Key(key)}: expected {n} numbers, got {list.Children.Count}.");
        var seen = new HashSet<double>();
        return list.Children.Select(item =>
        {
            string text = Scalar(item, key, "a number");
            if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double v)
                || !double.IsFinite(v) || v < min || v > max)
                throw Error(item, $"{Key(key)}: expected numbers {Range(min, max)}, got '{text}'.");
            if (length is null && !seen.Add(v))
                throw Error(item, $"{Key(key)}: {text} appears twice; each value names one run.");
            return v;
        }).ToList();
    }

    /// <summary>One of <paramref name="choices"/> (the fallback when absent or null).</summary>
    public string Choice(string key, string fallback, params string[] choices)
    {
        var value = Get(key);
        if (value is null || IsNull(value)) return fallback;
        string text = Scalar(value, key, $"one of {string.Join(", ", choices)}");
        return choices.Contains(text, StringComparer.Ordinal)
            ? text
            : throw Error(value, $"{Key(key)}: expected one of {string.Join(", ", choices)}, got '{text}'.");
    }

    /// <summary>true, false, or null when absent.</summary>
    public bool? OptionalBool(string key) => Has(key) && !IsNull(Get(key)!) ? Bool(key, false) : MarkKnown<bool>(key);

    /// <summary>
    /// A string or a list of strings (empty when absent), each with the node it came from for errors.
    /// </summary>
    public IReadOnlyList<(string Value, YamlNode Node)> StringList(string key)
    {
        var value = Get(key);
        if (value is null || IsNull(value)) return Array.Empty<(string, YamlNode)>();
        if (value is YamlScalarNode) return new[] { (Scalar(value, key, "a string"), value) };
        if (value is not YamlSequenceNode list)
            throw Error(value, $"{Key(key)}: expected a string or a list of strings, got a {Kind(value)}.");
        return list.Children.Select(item => (Scalar(item, key, "a string"), item)).ToList();
    }

    public YamlSection? OptionalSection(string key)
    {
        var value = Get(key);
        if (value is null || IsNull(value)) return null;
        if (value is not YamlMappingNode mapping)
            throw Error(value, $"{Key(key)}: expected a mapping (key: value lines), got a {Kind(value)}.");
        return new YamlSection(file, mapping, Key(key));
    }

    public YamlSection Section(string key) =>
        OptionalSection(key) ?? throw new RecipeException($"{file}:{node.Start.Line}:{node.Start.Column}: " +
                                                          $"missing section '{Key(key)}'{MisspeltAs(key)}.");

    /// <summary>
    /// " (is 'stage_1' at 3:1 meant to be it?)" when a key of this mapping is a near miss of <paramref name="key"/>.
    /// </summary>
    private string MisspeltAs(string key)
    {
        foreach (var (k, _) in node.Children)
            if (k is YamlScalarNode { Value: { } name } && name != key && Close(name, key))
                return $" (is '{name}' at {k.Start.Line}:{k.Start.Column} meant to be it?)";
        return "";
    }

    /// <summary>Names that differ only in case, '_' or '-', or by at most two edits.</summary>
    private static bool Close(string a, string b)
    {
        static string Plain(string s)
            => s.Replace("_", "", StringComparison.Ordinal).Replace("-", "", StringComparison.Ordinal).ToLowerInvariant();
        if (Plain(a) == Plain(b)) return true;
        return Text.EditDistance.Between(a, b) <= Math.Min(2, Math.Max(1, b.Length / 3));
    }

    public IReadOnlyList<YamlSection> SectionList(string key)
    {
        var value = Get(key);
        if (value is not YamlSequenceNode list || list.Children.Count == 0)
            throw value is null
                ? new RecipeException($"{file}:{node.Start.Line}:{node.Start.Column}: " +
                                      $"missing list '{Key(key)}'{MisspeltAs(key)}.")
                : Error(value, $"{Key(key)}: expected a non-empty list of mappings.");
        return list.Children.Select((item, i) => item is YamlMappingNode m
            ? new YamlSection(file, m, $"{Key(key)}[{i}]")
            : throw Error(item, $"{Key(key)}[{i}]: expected a mapping.")).ToList();
    }

    /// <summary>
    /// Marks keys this section takes that are read only when present, so an unknown key's error lists them too.
    /// </summary>
    public void Expect(params string[] keys)
    {
        foreach (string key in keys) known.Add(key);
    }

    /// <summary>Fails on the first key that was never asked for, listing the keys this section takes.</summary>
    public void Finish()
    {
        foreach (var (k, _) in node.Children)
        {
            string name = (k as YamlScalarNode)?.Value ?? "?";
            if (!known.Contains(name))
            {
                string? meant = known.Where(x => Close(name, x)).Order(StringComparer.Ordinal).FirstOrDefault();
                throw Error(k, $"unknown key '{name}'{(Path.Length == 0 ? "" : $" in {Path}")}; " +
                               $"expected one of: {string.Join(", ", known.OrderBy(x => x, StringComparer.Ordinal))}." +
                               $"{(meant is null ? "" : $" Did you mean '{meant}'?")}");
            }
        }
    }

    private static string Range(double min, double max) =>
        (min == double.MinValue || min == int.MinValue) ? $"at most {max}" :
        (max == double.MaxValue || max == int.MaxValue) ? $"at least {min.ToString(CultureInfo.InvariantCulture)}" :
        $"between {min.ToString(CultureInfo.InvariantCulture)} and {max.ToString(CultureInfo.InvariantCulture)}";
}
