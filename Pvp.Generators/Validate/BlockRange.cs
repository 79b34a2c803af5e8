using System.Globalization;

namespace Pvp.Generators.Validate;

/// <summary>
/// A block range in C# range syntax (<c>"2..5"</c>, <c>"6.."</c>, <c>"..^2"</c>, <c>".."</c>) or one index
/// (<c>"3"</c>, <c>"^1"</c>), resolved against a depth to a half-open [Start, End).
/// </summary>
internal readonly record struct BlockRange
{
    private BlockRange(int start, int end)
    {
        Start = start;
        End = end;
    }

    public int Start { get; }
    public int End { get; }

    public static BlockRange All(int depth) => new(0, depth);

    /// <summary>
    /// Parses and resolves; false when the text is not a range (not when it falls outside the depth).
    /// </summary>
    public static bool TryParse(string text, int depth, out BlockRange range)
    {
        range = default;
        string s = text.Trim();
        int dots = s.IndexOf("..", System.StringComparison.Ordinal);
        if (dots < 0)
        {
            if (!TryIndex(s, depth, out int index)) return false;
            range = new BlockRange(index, index + 1);
            return true;
        }
        string left = s.Substring(0, dots).Trim(), right = s.Substring(dots + 2).Trim();
        int start = 0, end = depth;
        if (left.Length > 0 && !TryIndex(left, depth, out start)) return false;
        if (right.Length > 0 && !TryIndex(right, depth, out end)) return false;
        range = new BlockRange(start, end);
        return true;
    }

    private static bool TryIndex(string s, int depth, out int index)
    {
        bool fromEnd = s.StartsWith("^", System.StringComparison.Ordinal);
        string digits = fromEnd ? s.Substring(1) : s;
        index = 0;
        if (digits.Length == 0 || !int.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out int value))
            return false;
        index = fromEnd ? depth - value : value;
        return true;
    }

    /// <summary>"blocks 2 to 4", "block 3" or "no block" for messages.</summary>
    public string Describe()
        => End <= Start ? "no block" : End - Start == 1 ? $"block {Start}" : $"blocks {Start} to {End - 1}";
}
