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
            RunCommand.Create("run", "Evaluate a checkpoint on fresh trials and write states and outputs as .npy."),
            RunCommand.Create("record", "Alias of run."),
            EvalCommand.Create(),
            BenchCommand.Create(),
            SelfTestCommand.Create(),
            DevicesCommand.Create(),
            CompareCommand.Create(),
            DegeneracyCommand.Create(),
            FixedPointsCommand.Create(),
            ClosedLoopCommand.Create(),
            StudyCommand.Create(),
            DemoCommand.Create(),
        };
        return root.Parse(args).Invoke();
    }
}
