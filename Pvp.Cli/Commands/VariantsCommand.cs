using Pvp.Cli.Settings;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Pvp.Cli.Commands;

/// <summary><c>pvp variants</c>: the registered variants, the user's assemblies' included.</summary>
internal sealed class VariantsCommand : Command<VariantSettings>
{
    /// <inheritdoc />
    public override int Execute(CommandContext context, VariantSettings settings, CancellationToken cancellationToken)
    {
        settings.LoadAssemblies();
        if (Console.IsOutputRedirected)
        {
            // Piped or written to a file: one tab-separated line per
            // variant, for grep and cut, not a table 800 columns wide.
            Output.Raw("variant\tbackbone\tattaches\tdeclared in\n");
            foreach (var v in VariantRegistry.All)
                Output.Raw($"{v.Name}\t{v.Backbone}\t" +
                           $"{(v.Attachments.Count == 0 ? "(plain backbone)" : string.Join("; ", v.Attachments))}\t" +
                           $"{v.Type.Assembly.GetName().Name}\n");
            return 0;
        }
        var table = new Table().AddColumns("variant", "backbone", "attaches", "declared in");
        foreach (var v in VariantRegistry.All)
            table.AddRow(Markup.Escape(v.Name), Markup.Escape(v.Backbone.ToString()),
                Markup.Escape(v.Attachments.Count == 0
                    ? "(plain backbone: everything trains)"
                    : string.Join("; ", v.Attachments)),
                Markup.Escape(v.Type.Assembly.GetName().Name ?? ""));
        AnsiConsole.Write(table);
        return 0;
    }
}
