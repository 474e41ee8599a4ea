using System.CommandLine;
using System.Globalization;
using Engine.Benchmarks;

namespace Engine.Cli;

/// <summary><c>bench composed</c>: a training step of the context-composed RNN against the full-rank plain RNN of the same width.</summary>
internal static class ComposedBenchCommand
{
    public static Command Create()
    {
        var networks = new Option<int>("--networks") { Description = "E (default 8).", DefaultValueFactory = _ => 8 };
        var hidden = new Option<string>("--hidden") { Description = "Comma-separated N (default 64,256).", DefaultValueFactory = _ => "64,256" };
        var rank = new Option<int>("--rank") { Description = "R (default 8).", DefaultValueFactory = _ => 8 };
        var batch = new Option<int>("--batch") { Description = "B (default 64).", DefaultValueFactory = _ => 64 };
        var steps = new Option<int>("--steps") { Description = "T (default 100: delaygo at dt 20 ms, its last 2 s).", DefaultValueFactory = _ => 100 };
        var threads = new Option<int>("--threads") { Description = "Host threads, 0 = all (default 0).", DefaultValueFactory = _ => 0 };
        var repeats = new Option<int>("--repeats") { Description = "Timed steps (default 10).", DefaultValueFactory = _ => 10 };
        var cmd = new Command("composed", "Forward + BPTT + Adam for E composed (one-hot context, rank R) and E plain full-rank networks of the same width; ms/step and the ratio.")
        {
            networks, hidden, rank, batch, steps, threads, repeats,
        };
        cmd.SetAction(r => CliErrors.Run(() =>
        {
            foreach (var text in r.GetValue(hidden)!.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
            {
                int n = int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out int v) ? v : throw new ArgumentException($"--hidden: '{text}' is not an integer.");
                var (composed, plain) = ComposedStepBenchmark.Run(r.GetValue(networks), n, r.GetValue(rank), r.GetValue(batch), r.GetValue(steps), r.GetValue(threads), r.GetValue(repeats));
                Console.WriteLine(composed.FormatLine());
                Console.WriteLine(plain.FormatLine());
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  N={n}: composed/plain time {composed.MedianMs / plain.MedianMs:F2}"));
            }

            return 0;
        }));
        return cmd;
    }
}
