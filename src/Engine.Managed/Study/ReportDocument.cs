using System.Net;
using System.Text;

namespace Engine.Study;

/// <summary>A report as a list of blocks, rendered once as Markdown and once as one self-contained HTML page.</summary>
/// <remarks>
/// Images are referenced by paths relative to the report's folder: Markdown links to them, HTML embeds them as
/// <c>data:image/png;base64</c> URIs read from that folder, so the page opens offline with no external reference.
/// Text is escaped for each format (Markdown table pipes; HTML through <see cref="WebUtility.HtmlEncode(string)"/>).
/// </remarks>
internal sealed class ReportDocument
{
    private readonly List<Block> _blocks = [];

    internal abstract record Block;

    internal sealed record Heading(int Level, string Text) : Block;

    internal sealed record Paragraph(string Text) : Block;

    internal sealed record Bullets(IReadOnlyList<string> Items) : Block;

    internal sealed record Table(IReadOnlyList<string> Header, IReadOnlyList<IReadOnlyList<string>> Rows) : Block;

    internal sealed record Image(string Alt, string Path) : Block;

    internal sealed record Gallery(string Label, IReadOnlyList<(string Caption, string Path)> Items) : Block;

    internal sealed record Code(string Language, string Text) : Block;

    internal sealed record RawMarkdown(string Text) : Block;

    public IReadOnlyList<Block> Blocks => _blocks;

    public ReportDocument Add(Block block)
    {
        _blocks.Add(block);
        return this;
    }

    public string ToMarkdown()
    {
        var sb = new StringBuilder();
        foreach (var block in _blocks)
        {
            switch (block)
            {
                case Heading h:
                    sb.Append('#', h.Level).Append(' ').Append(OneLine(h.Text)).Append("\n\n");
                    break;
                case Paragraph p:
                    sb.Append(p.Text.Trim()).Append("\n\n");
                    break;
                case Bullets b:
                    foreach (var item in b.Items)
                    {
                        sb.Append("- ").Append(OneLine(item)).Append('\n');
                    }

                    sb.Append('\n');
                    break;
                case Table t:
                    sb.Append("| ").AppendJoin(" | ", t.Header.Select(Cell)).Append(" |\n");
                    sb.Append('|').AppendJoin("|", t.Header.Select(_ => "---")).Append("|\n");
                    foreach (var row in t.Rows)
                    {
                        sb.Append("| ").AppendJoin(" | ", row.Select(Cell)).Append(" |\n");
                    }

                    sb.Append('\n');
                    break;
                case Image i:
                    sb.Append("![").Append(OneLine(i.Alt)).Append("](").Append(i.Path).Append(")\n\n");
                    break;
                case Gallery g:
                    sb.Append(g.Label).Append(": ")
                        .AppendJoin(" · ", g.Items.Select(x => $"[{OneLine(x.Caption)}]({x.Path})")).Append("\n\n");
                    break;
                case Code c:
                    string fence = c.Text.Contains("```", StringComparison.Ordinal) ? "~~~~" : "```";
                    sb.Append(fence).Append(c.Language).Append('\n').Append(c.Text.TrimEnd()).Append('\n').Append(fence).Append("\n\n");
                    break;
                case RawMarkdown r:
                    sb.Append(r.Text.Trim()).Append("\n\n");
                    break;
            }
        }

        return sb.ToString().TrimEnd() + "\n";
    }

    public string ToHtml(string title, string baseDir)
    {
        var sb = new StringBuilder();
        sb.Append("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>").Append(E(title)).Append("</title>\n<style>\n")
            .Append(Css).Append("</style>\n</head>\n<body>\n");
        foreach (var block in _blocks)
        {
            switch (block)
            {
                case Heading h:
                    sb.Append($"<h{h.Level}>").Append(E(h.Text)).Append($"</h{h.Level}>\n");
                    break;
                case Paragraph p:
                    sb.Append("<p>").Append(Inline(p.Text.Trim())).Append("</p>\n");
                    break;
                case Bullets b:
                    sb.Append("<ul>\n");
                    foreach (var item in b.Items)
                    {
                        sb.Append("<li>").Append(Inline(item)).Append("</li>\n");
                    }

                    sb.Append("</ul>\n");
                    break;
                case Table t:
                    AppendTable(sb, t.Header, t.Rows);
                    break;
                case Image i:
                    sb.Append("<figure>").Append(Img(baseDir, i.Path, i.Alt, null)).Append("<figcaption>").Append(E(i.Alt)).Append("</figcaption></figure>\n");
                    break;
                case Gallery g:
                    sb.Append("<div class=\"gallery\"><p>").Append(Inline(g.Label)).Append("</p>\n");
                    foreach (var (caption, path) in g.Items)
                    {
                        sb.Append("<figure class=\"small\">").Append(Img(baseDir, path, caption, "small")).Append("<figcaption>").Append(E(caption))
                            .Append("</figcaption></figure>\n");
                    }

                    sb.Append("</div>\n");
                    break;
                case Code c:
                    sb.Append("<pre><code>").Append(E(c.Text.TrimEnd())).Append("</code></pre>\n");
                    break;
                case RawMarkdown r:
                    AppendMarkdownLite(sb, r.Text);
                    break;
            }
        }

        sb.Append("</body>\n</html>\n");
        return sb.ToString();
    }

    private const string Css = """
        body { font-family: "DejaVu Sans", Verdana, sans-serif; max-width: 1100px; margin: 2em auto; padding: 0 1em; color: #222; line-height: 1.45; }
        h1, h2, h3 { line-height: 1.2; }
        h2 { border-bottom: 1px solid #ccc; padding-bottom: .2em; margin-top: 2em; }
        table { border-collapse: collapse; margin: 1em 0; font-size: .9em; }
        th, td { border: 1px solid #ccc; padding: .25em .6em; text-align: left; vertical-align: top; }
        th { background: #f2f2f2; }
        tr:nth-child(even) td { background: #fafafa; }
        code, pre { font-family: "DejaVu Sans Mono", Menlo, Consolas, monospace; font-size: .9em; }
        pre { background: #f6f6f6; padding: .8em; overflow-x: auto; }
        figure { margin: 1em 0; }
        figure img { max-width: 100%; }
        figcaption { font-size: .85em; color: #555; }
        .gallery figure.small { display: inline-block; margin: .3em; vertical-align: top; }
        img.small { width: 260px; }

        """;

    private static void AppendTable(StringBuilder sb, IReadOnlyList<string> header, IReadOnlyList<IReadOnlyList<string>> rows)
    {
        sb.Append("<table>\n<thead><tr>");
        foreach (var h in header)
        {
            sb.Append("<th>").Append(Inline(h)).Append("</th>");
        }

        sb.Append("</tr></thead>\n<tbody>\n");
        foreach (var row in rows)
        {
            sb.Append("<tr>");
            foreach (var cell in row)
            {
                sb.Append("<td>").Append(Inline(cell)).Append("</td>");
            }

            sb.Append("</tr>\n");
        }

        sb.Append("</tbody>\n</table>\n");
    }

    private static string Img(string baseDir, string path, string alt, string? cssClass)
    {
        string full = Path.Combine(baseDir, path);
        string cls = cssClass is null ? "" : $" class=\"{cssClass}\"";
        if (!File.Exists(full))
        {
            return $"<span>[missing figure: {E(path)}]</span>";
        }

        return $"<img{cls} alt=\"{E(alt)}\" src=\"data:image/png;base64,{Convert.ToBase64String(File.ReadAllBytes(full))}\">";
    }

    /// <summary>The subset of Markdown a recipe uses: headings, pipe tables, bullet lists and paragraphs, with `code` spans.</summary>
    private static void AppendMarkdownLite(StringBuilder sb, string markdown)
    {
        var lines = markdown.Replace("\r\n", "\n", StringComparison.Ordinal).Split('\n');
        int i = 0;
        while (i < lines.Length)
        {
            string line = lines[i].Trim();
            if (line.Length == 0)
            {
                i++;
            }
            else if (line.StartsWith('|'))
            {
                var rows = new List<IReadOnlyList<string>>();
                while (i < lines.Length && lines[i].Trim().StartsWith('|'))
                {
                    string row = lines[i].Trim();
                    if (!IsSeparatorRow(row))
                    {
                        rows.Add(SplitRow(row));
                    }

                    i++;
                }

                AppendTable(sb, rows.Count > 0 ? rows[0] : [], rows.Skip(1).ToArray());
            }
            else if (line.StartsWith('#'))
            {
                int level = Math.Clamp(line.TakeWhile(c => c == '#').Count(), 1, 6);
                sb.Append($"<h{Math.Max(level, 3)}>").Append(Inline(line.TrimStart('#').Trim())).Append($"</h{Math.Max(level, 3)}>\n");
                i++;
            }
            else if (line.StartsWith("- ", StringComparison.Ordinal) || line.StartsWith("* ", StringComparison.Ordinal))
            {
                sb.Append("<ul>\n");
                while (i < lines.Length && (lines[i].Trim().StartsWith("- ", StringComparison.Ordinal) || lines[i].Trim().StartsWith("* ", StringComparison.Ordinal)))
                {
                    sb.Append("<li>").Append(Inline(lines[i].Trim()[2..])).Append("</li>\n");
                    i++;
                }

                sb.Append("</ul>\n");
            }
            else
            {
                var para = new List<string>();
                while (i < lines.Length && lines[i].Trim().Length > 0 && !lines[i].Trim().StartsWith('|') && !lines[i].Trim().StartsWith('#'))
                {
                    para.Add(lines[i].Trim());
                    i++;
                }

                sb.Append("<p>").Append(Inline(string.Join(' ', para))).Append("</p>\n");
            }
        }
    }

    private static bool IsSeparatorRow(string row) => row.All(c => c is '|' or '-' or ':' or ' ') && row.Contains('-', StringComparison.Ordinal);

    private static string[] SplitRow(string row)
    {
        // Split on unescaped pipes, dropping the outer ones.
        var cells = new List<string>();
        var cell = new StringBuilder();
        for (int k = 0; k < row.Length; k++)
        {
            if (row[k] == '\\' && k + 1 < row.Length && row[k + 1] == '|')
            {
                cell.Append('|');
                k++;
            }
            else if (row[k] == '|')
            {
                cells.Add(cell.ToString().Trim());
                cell.Clear();
            }
            else
            {
                cell.Append(row[k]);
            }
        }

        cells.Add(cell.ToString().Trim());
        if (cells.Count > 0 && cells[0].Length == 0)
        {
            cells.RemoveAt(0);
        }

        if (cells.Count > 0 && cells[^1].Length == 0)
        {
            cells.RemoveAt(cells.Count - 1);
        }

        return cells.ToArray();
    }

    /// <summary>HTML-escaped text with `code` spans.</summary>
    private static string Inline(string text)
    {
        var parts = text.Split('`');
        if (parts.Length % 2 == 0)
        {
            return E(text); // an unpaired backtick: no code spans
        }

        var sb = new StringBuilder();
        for (int k = 0; k < parts.Length; k++)
        {
            sb.Append(k % 2 == 1 ? "<code>" + E(parts[k]) + "</code>" : E(parts[k]));
        }

        return sb.ToString();
    }

    private static string E(string text) => WebUtility.HtmlEncode(text);

    private static string OneLine(string text) => text.Replace("\r", " ", StringComparison.Ordinal).Replace("\n", " ", StringComparison.Ordinal);

    private static string Cell(string text) => OneLine(text).Replace("|", "\\|", StringComparison.Ordinal);
}
