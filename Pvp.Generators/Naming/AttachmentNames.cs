using System.Collections.Generic;
using System.Linq;
using System.Text;
using Pvp.Generators.Validate;

namespace Pvp.Generators.Naming;

/// <summary>
/// The naming step: the field (and state-dict segment) of each attached module type at each site: its snake_case type
/// name, with the site appended when one type sits at several, and <c>_module</c> when that would be a block field or a
/// C# keyword.
/// </summary>
internal static class AttachmentNames
{
    /// <summary>The block's own fields, which an attached module must not shadow.</summary>
    public static readonly string[] ReservedFieldNames =
        new[] { "norm1", "attn", "norm2", "mlp", "adapter", "adapter_attn" }.Concat(SsfAttribute.ModuleNames).ToArray();

    /// <summary>Field name per (type, site).</summary>
    public static Dictionary<(string Type, AttachSite Site), string> Assign(IEnumerable<ResolvedAttachment> attachments)
    {
        var names = new Dictionary<(string, AttachSite), string>();
        foreach (var group in attachments.GroupBy(a => a.TypeFullName))
        {
            var sitesOfType = group.Select(a => a.Site).Distinct().ToList();
            foreach (var site in sitesOfType)
            {
                string name = SnakeCase(group.First().TypeName);
                if (sitesOfType.Count > 1) name += "_" + SnakeCase(site.ToString());
                if (ReservedFieldNames.Contains(name) || Microsoft.CodeAnalysis.CSharp.SyntaxFacts.GetKeywordKind(name) != Microsoft.CodeAnalysis.CSharp.SyntaxKind.None)
                    name += "_module";
                names[(group.Key, site)] = name;
            }
        }
        return names;
    }

    /// <summary>"ScaleShift" → "scale_shift"; "SSFAdapter" → "ssf_adapter".</summary>
    public static string SnakeCase(string name)
    {
        var text = new StringBuilder();
        for (int i = 0; i < name.Length; i++)
        {
            char c = name[i];
            if (char.IsUpper(c) && i > 0 && (char.IsLower(name[i - 1]) || (i + 1 < name.Length && char.IsLower(name[i + 1])))) text.Append('_');
            text.Append(char.ToLowerInvariant(c));
        }
        return text.ToString();
    }
}
