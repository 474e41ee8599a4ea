using System.CommandLine;
using Engine.Study;

namespace Engine.Cli;

/// <summary><c>demo</c>: a small degeneracy study (docs/studies/demo.json) planned, run and reported in one go.</summary>
internal static class DemoCommand
{
    /// <summary>The demo study, docs/studies/demo.json, embedded in the executable.</summary>
    internal static string Config()
    {
        using var stream = typeof(DemoCommand).Assembly.GetManifestResourceStream("demo.json")
            ?? throw new InvalidOperationException("The demo config is not embedded in this build.");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }

    public static Command Create()
    {
        var output = new Option<DirectoryInfo>("--out") { Description = "Study folder (default runs/demo); rerun to resume.", DefaultValueFactory = _ => new DirectoryInfo(Path.Combine("runs", "demo")) };
        var backend = new Option<string?>("--backend") { Description = "Backend (default auto)." };
        var threads = new Option<int>("--threads") { Description = "CPU threads, 0 = all cores (default 0).", DefaultValueFactory = _ => 0 };
        var cmd = new Command("demo", "A small degeneracy study (3-bit flip-flop, widths 32/64/128, 12 seeds each): trains, analyses behaviour, dynamics and weights, and writes report.html.")
        {
            output, backend, threads,
        };
        cmd.SetAction(r => CliErrors.Run(() =>
        {
            string dir = r.GetValue(output)!.FullName;
            var plan = StudyRunner.Plan(StudyConfig.Parse(Config(), "demo config"), dir);
            Console.WriteLine(StudyCommand.Describe(plan));
            return StudyCommand.Run(dir, null, r.GetValue(backend), r.GetValue(threads));
        }));
        return cmd;
    }
}
