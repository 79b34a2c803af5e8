using System;
using System.Text;

namespace Pvp.Generators.Emit;

/// <summary>A minimal writer of indented C# source (four spaces per level, "\n" line ends).</summary>
internal sealed class IndentedWriter
{
    private readonly StringBuilder builder = new();
    private int depth;

    public IndentedWriter Line(string text = "")
    {
        if (text.Length > 0) builder.Append(' ', depth * 4).Append(text);
        builder.Append('\n');
        return this;
    }

    /// <summary>
    /// Writes <paramref name="header"/>, an opening brace, and indents until the returned scope is disposed.
    /// </summary>
    public IDisposable Block(string header, string closing = "}")
    {
        Line(header);
        return Open(closing);
    }

    /// <summary>Writes an opening brace and indents until the returned scope is disposed.</summary>
    public IDisposable Open(string closing = "}")
    {
        Line("{");
        depth++;
        return new Closer(this, closing);
    }

    public override string ToString() => builder.ToString();

    private sealed class Closer : IDisposable
    {
        private readonly IndentedWriter writer;
        private readonly string closing;

        public Closer(IndentedWriter writer, string closing)
        {
            this.writer = writer;
            this.closing = closing;
        }

        public void Dispose()
        {
            writer.depth--;
            writer.Line(closing);
        }
    }
}
