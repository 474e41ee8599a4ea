using Engine.Backends;

namespace Engine.Cli;

/// <summary>Turns the engine's validation errors into one clear line and exit code 2, never a stack trace.</summary>
internal static class CliErrors
{
    public static int Run(Func<int> action)
    {
        try
        {
            return action();
        }
        catch (Exception e) when (e is ArgumentException or InvalidDataException or EngineException or IOException or UnauthorizedAccessException or NotSupportedException)
        {
            Console.Error.WriteLine($"error: {Clean(e)}");
            return 2;
        }
    }

    /// <summary>The message without .NET's "(Parameter 'x')" and "Actual value was" suffixes.</summary>
    private static string Clean(Exception e)
    {
        string m = e.Message.Split('\n')[0].TrimEnd();
        int at = m.LastIndexOf(" (Parameter '", StringComparison.Ordinal);
        return at > 0 ? m[..at] : m;
    }
}
