using Engine.Cli;

namespace Engine.Tests.Support;

/// <summary>Runs the command line in-process and captures what it prints.</summary>
public static class CliHarness
{
    /// <summary>Runs <c>engine ARGS</c>; returns the exit code, stdout and stderr.</summary>
    public static (int Code, string Out, string Err) Run(params string[] args)
    {
        var (oldOut, oldErr) = (Console.Out, Console.Error);
        var (o, e) = (new StringWriter(), new StringWriter());
        Console.SetOut(o);
        Console.SetError(e);
        try
        {
            return (EngineCli.Run(args), o.ToString(), e.ToString());
        }
        finally
        {
            Console.SetOut(oldOut);
            Console.SetError(oldErr);
        }
    }
}
