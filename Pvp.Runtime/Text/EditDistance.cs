namespace Pvp.Text;

/// <summary>How far one name is from another, for the "did you mean" of every error about a misspelt name.</summary>
public static class EditDistance
{
    /// <summary>
    /// The Levenshtein distance: insertions, deletions and
    /// substitutions from <paramref name="a"/> to <paramref name="b"/>.
    /// </summary>
    public static int Between(string a, string b)
    {
        var row = Enumerable.Range(0, b.Length + 1).ToArray();
        for (int i = 1; i <= a.Length; i++)
        {
            int diagonal = row[0];
            row[0] = i;
            for (int j = 1; j <= b.Length; j++)
            {
                int above = row[j];
                row[j] = Math.Min(Math.Min(row[j] + 1, row[j - 1] + 1), diagonal + (a[i - 1] == b[j - 1] ? 0 : 1));
                diagonal = above;
            }
        }
        return row[b.Length];
    }
}
