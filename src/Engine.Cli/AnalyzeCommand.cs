using System.CommandLine;

namespace Engine.Cli;

/// <summary><c>analyze</c>: analyses of a trained run, one subcommand each.</summary>
internal static class AnalyzeCommand
{
    public static Command Create() => new("analyze", "Analyses of a trained run.")
    {
        AnalyzeChunksCommand.Create(),
    };
}
