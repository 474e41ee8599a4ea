namespace Engine.Backends;

/// <summary>A failure inside a backend, naming the backend and the kernel or operation that failed.</summary>
public class EngineException : Exception
{
    /// <summary>Creates the exception.</summary>
    public EngineException(string backend, string operation, string message, Exception? inner = null)
        : base($"[{backend}] {operation}: {message}", inner)
    {
        Backend = backend;
        Operation = operation;
    }

    /// <summary>The backend's name.</summary>
    public string Backend { get; }

    /// <summary>The kernel or operation.</summary>
    public string Operation { get; }
}

/// <summary>The backend asked for is not present on this machine (never a silent fallback).</summary>
public sealed class BackendUnavailableException(string backend, string message)
    : EngineException(backend, "create", message);
