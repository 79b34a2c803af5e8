using System.Collections.Generic;
using System.Linq;
using System.Text;
using Pvp.Generators.Methods;
using Pvp.Generators.Validate;

namespace Pvp.Generators.Naming;

/// <summary>
/// The naming step: the field (and state-dict segment) of each data-described module type at each site: its snake_case
/// type name, with the site appended when one type sits at several, and <c>_module</c> when that would be a block's or
/// another method's field, or a C# keyword.
/// </summary>
internal static class AttachmentNames
{
    /// <summary>The block's own fields, which no module may shadow.</summary>
    public static readonly string[] BlockFields = { "norm1", "attn", "norm2", "mlp", "drop_path" };

    /// <summary>
    /// Each data-described method (<c>[Attach]</c>, <c>[SiteMethod]</c>) with its fields named; the others as they are.
    /// Names the self-describing methods chose (<c>adapter</c>, <c>ssf_attn</c>) are taken like the block's own.
    /// </summary>
    public static IEnumerable<ResolvedSiteMethod> Assign(IReadOnlyList<ResolvedSiteMethod> methods)
    {
        var reserved = new HashSet<string>(BlockFields);
        foreach (var m in methods.Where(m => m.Method is not DeclaredSiteMethod))
            foreach (var module in m.Method.Modules(m.Context)) reserved.Add(module.Field);
        var declared = methods.Select(m => m.Method).OfType<DeclaredSiteMethod>().ToList();
        var names = new Dictionary<(string, AttachSite), string>();
        foreach (var group in declared.GroupBy(m => m.TypeFullName))
        {
            var sitesOfType = group.SelectMany(m => m.Sites).Distinct().ToList();
            foreach (var site in sitesOfType)
            {
                string name = SnakeCase(group.First().TypeName);
                if (sitesOfType.Count > 1) name += "_" + SnakeCase(site.ToString());
                if (reserved.Contains(name)
                    || Microsoft.CodeAnalysis.CSharp.SyntaxFacts.GetKeywordKind(name) != Microsoft.CodeAnalysis.CSharp.SyntaxKind.None)
                    name += "_module";
                names[(group.Key, site)] = name;
            }
        }
        return methods.Select(m => m.Method is DeclaredSiteMethod d
            ? m with { Method = d.WithFields(d.Sites.ToDictionary(site => site,
                site => names[(d.TypeFullName, site)])) }
            : m);
    }

    /// <summary>"ScaleShift" → "scale_shift"; "SSFAdapter" → "ssf_adapter".</summary>
    public static string SnakeCase(string name)
    {
        var text = new StringBuilder();
        for (int i = 0; i < name.Length; i++)
        {
            char c = name[i];
            if (char.IsUpper(c) && i > 0
                && (char.IsLower(name[i - 1]) || (i + 1 < name.Length && char.IsLower(name[i + 1]))))
                text.Append('_');
            text.Append(char.ToLowerInvariant(c));
        }
        return text.ToString();
    }
}
