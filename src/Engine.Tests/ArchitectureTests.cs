using System.Text.RegularExpressions;
using NUnit.Framework;

namespace Engine.Tests;

/// <summary>The library's layers point one way, read from the source: every folder of Engine.Managed uses only folders below it (or beside it where listed), never a circle.</summary>
/// <remarks>
/// A file's references are its <c>using Engine.X</c> directives and every <c>Engine.X.</c> or <c>X.</c> qualified name in
/// code (comments and strings aside), X being a folder. The layers, bottom up, are the README's architecture picture.
/// </remarks>
public sealed partial class ArchitectureTests
{
    /// <summary>Folder → layer; a folder may use its own layer's folders only through <see cref="Beside"/>.</summary>
    private static readonly Dictionary<string, int> Layer = new()
    {
        ["Kernels"] = 0,
        ["Util"] = 1, ["Numerics"] = 1,
        ["Model"] = 2,
        ["IO"] = 3, ["Plotting"] = 3,
        ["Tasks"] = 4,
        ["Backends"] = 5,
        ["Training"] = 6,
        ["Analysis"] = 7, ["Composed"] = 7, ["FixedPoints"] = 7, ["FixedPointRnn"] = 7, ["Distances"] = 7, ["ClosedLoop"] = 7,
        ["Study"] = 8, ["Benchmarks"] = 8, ["Diagnostics"] = 8,
    };

    /// <summary>Uses between folders of one layer (from → to); the reverse direction would be a circle.</summary>
    private static readonly HashSet<(string From, string To)> Beside =
    [
        ("Numerics", "Util"), ("Plotting", "IO"),
        ("Distances", "Analysis"), ("FixedPoints", "Analysis"),
        ("Study", "Benchmarks"), ("Diagnostics", "Benchmarks"),
    ];

    private static string Root()
    {
        var dir = new DirectoryInfo(TestContext.CurrentContext.TestDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Engine.sln")))
        {
            dir = dir.Parent;
        }

        return dir?.FullName ?? throw new InvalidOperationException("Engine.sln not found above the test directory.");
    }

    /// <summary>(file, its folder, the folders it uses) for every source file of Engine.Managed.</summary>
    private static IEnumerable<(string File, string Folder, HashSet<string> Uses)> Files()
    {
        string managed = Path.Combine(Root(), "src", "Engine.Managed");
        foreach (var file in Directory.EnumerateFiles(managed, "*.cs", SearchOption.AllDirectories))
        {
            string rel = Path.GetRelativePath(managed, file).Replace('\\', '/');
            if (rel.StartsWith("bin/", StringComparison.Ordinal) || rel.StartsWith("obj/", StringComparison.Ordinal) || !rel.Contains('/'))
            {
                continue;
            }

            string folder = rel[..rel.IndexOf('/')];
            var uses = new HashSet<string>();
            foreach (string raw in File.ReadLines(file))
            {
                string line = Strings().Replace(raw, "\"\"");
                int comment = line.IndexOf("//", StringComparison.Ordinal);
                if (comment >= 0)
                {
                    line = line[..comment];
                }

                foreach (Match m in Reference().Matches(line))
                {
                    string name = m.Groups[1].Value;
                    if (Layer.ContainsKey(name) && name != folder)
                    {
                        uses.Add(name);
                    }
                }
            }

            yield return (rel, folder, uses);
        }
    }

    [Test]
    public void EveryFolder_HasALayer()
    {
        var unknown = Files().Select(f => f.Folder).Distinct().Where(f => !Layer.ContainsKey(f)).ToArray();
        Assert.That(unknown, Is.Empty, "folders of Engine.Managed missing from the layer table (and the README picture)");
    }

    [Test]
    public void Folders_UseOnlyLayersBelowThem()
    {
        var wrong = new List<string>();
        foreach (var (file, folder, uses) in Files())
        {
            foreach (string used in uses)
            {
                int from = Layer[folder], to = Layer[used];
                if (to > from || (to == from && !Beside.Contains((folder, used))))
                {
                    wrong.Add($"{file} ({folder}, layer {from}) uses {used} (layer {to})");
                }
            }
        }

        Assert.That(wrong, Is.Empty);
    }

    [Test]
    public void OutsideTheBackendFolders_NothingNamesAConcreteBackend()
    {
        string[] concrete = ["CpuBackend", "ReferenceBackend", "IlgpuBackend", "Backends.Cpu", "Backends.Reference", "Backends.Ilgpu"];
        string src = Path.Combine(Root(), "src");
        var cli = Directory.EnumerateFiles(Path.Combine(src, "Engine.Cli"), "*.cs", SearchOption.AllDirectories)
            .Where(f => !f.Contains("/obj/", StringComparison.Ordinal) && !f.Contains("/bin/", StringComparison.Ordinal))
            .Select(f => Path.GetRelativePath(src, f));
        var managed = Files().Where(f => f.Folder != "Backends").Select(f => Path.Combine("Engine.Managed", f.File));
        var wrong = cli.Concat(managed)
            .SelectMany(f => File.ReadLines(Path.Combine(src, f))
                .Where(l => !l.TrimStart().StartsWith("//", StringComparison.Ordinal) && concrete.Any(c => l.Contains(c, StringComparison.Ordinal)))
                .Select(l => $"{f}: {l.Trim()}"))
            .ToArray();
        Assert.That(wrong, Is.Empty, "analyses receive IEnsembleBackend and never cast to, test for or reach into a concrete backend");
    }

    [GeneratedRegex(@"(?:\bEngine\.|(?<![\w.]))(Kernels|Util|Numerics|Plotting|Model|IO|Tasks|Backends|Training|Analysis|FixedPoints|FixedPointRnn|Distances|ClosedLoop|Study|Benchmarks|Diagnostics|Composed)\b(?=\s*[.;])")]
    private static partial Regex Reference();

    [GeneratedRegex("\"(?:[^\"\\\\]|\\\\.)*\"")]
    private static partial Regex Strings();
}
