using System.CommandLine;

namespace Engine.Cli;

/// <summary>The command line: <c>train</c>, <c>run</c>/<c>record</c>, <c>bench</c>, <c>selftest</c>, <c>devices</c>.</summary>
public static class EngineCli
{
    /// <summary>Parses and runs one command; returns the process exit code (0 ok, 2 bad input, 130 interrupted).</summary>
    public static int Run(string[] args)
    {
        var root = new RootCommand("RNN ensemble engine: train, run and benchmark ensembles of recurrent networks.")
        {
            TrainCommand.Create(),
            TrainSequenceCommand.Create(),
            RunCommand.Create("run", "Evaluate a checkpoint on fresh trials and write states and outputs as .npy."),
            RunCommand.Create("record", "Alias of run."),
            EvalCommand.Create(),
            BenchCommand.Create(),
            SelfTestCommand.Create(),
            DevicesCommand.Create(),
            CompareCommand.Create(),
            DegeneracyCommand.Create(),
            FixedPointsCommand.Create(),
            AnalyzeCommand.Create(),
            ClosedLoopCommand.Create(),
            StudyCommand.Create(),
            DemoCommand.Create(),
            CompareRunsCommand.Create(),
        };
        var parsed = root.Parse(args);
        if (parsed.Errors.Count > 0)
        {
            // System.CommandLine would print every error and the help, and exit 1; the README promises one line and exit 2.
            string verb = parsed.CommandResult.Command is { } c && c != root ? $" {c.Name}" : "";
            Console.Error.WriteLine($"error: {parsed.Errors[0].Message.Split('\n')[0].Trim()} (see: engine{verb} --help)");
            return 2;
        }

        return parsed.Invoke();
    }
}
