using System.Text;

namespace Engine.IO;

/// <summary>An exclusive, process-wide claim on a folder: one writer at a time (a training run, a study shard, a study merge).</summary>
/// <remarks>
/// A <c>.lock</c> file opened with <see cref="FileShare.None"/>, which .NET on Linux and macOS backs with an advisory
/// <c>flock</c>: the operating system releases it when the process dies, so <c>kill -9</c> never leaves a lock held. The
/// file <c>.lock.owner</c> beside it holds the owner's host and pid, for the error a second writer gets; it is deleted
/// when the lock is released normally, so an owner file found beside a free lock names a writer that died, and the new
/// writer reports that it took the folder over (<see cref="TakeoverMessage"/>). Once the lock is held, no other writer
/// is active, so the temp files an interrupted <see cref="AtomicFile"/> write left behind (<c>.NAME.PID.GUID.tmp</c>)
/// are deleted.
/// </remarks>
public sealed class FolderLock : IDisposable
{
    /// <summary>The lock file's name inside the folder.</summary>
    public const string FileName = ".lock";

    private readonly FileStream _stream;
    private readonly string _ownerPath;
    private bool _disposed;

    private FolderLock(FileStream stream, string folder, string ownerPath, string? takeover, IReadOnlyList<string> removed)
    {
        _stream = stream;
        Folder = folder;
        _ownerPath = ownerPath;
        TakeoverMessage = takeover;
        RemovedTempFiles = removed;
    }

    /// <summary>The folder (full path).</summary>
    public string Folder { get; }

    /// <summary>When a previous writer died holding the folder: one line naming it and saying this process took over; else null.</summary>
    public string? TakeoverMessage { get; }

    /// <summary>Leftover temp files of interrupted atomic writes that were deleted on acquiring the lock.</summary>
    public IReadOnlyList<string> RemovedTempFiles { get; }

    /// <summary>The host, pid and start time of the process holding <paramref name="folder"/>, or null when no owner file exists.</summary>
    public static string? Owner(string folder)
    {
        try
        {
            return File.ReadAllText(Path.Combine(folder, FileName + ".owner")).Trim() is { Length: > 0 } line ? line : null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>Claims <paramref name="folder"/> (created if needed) for <paramref name="what"/> (e.g. "the run", "shard 0").</summary>
    /// <exception cref="IOException">Another process holds it; the message names the folder, the owner's host and pid, and what to do.</exception>
    public static FolderLock Acquire(string folder, string what)
    {
        ArgumentNullException.ThrowIfNull(folder);
        string full = Path.GetFullPath(folder);
        Directory.CreateDirectory(full);
        string path = Path.Combine(full, FileName);
        string ownerPath = path + ".owner";
        FileStream fs;
        try
        {
            fs = new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        }
        catch (IOException e)
        {
            string? owner = Owner(full);
            for (int i = 0; owner is null && i < 10; i++)
            {
                Thread.Sleep(20); // the owner writes its file just after taking the lock
                owner = Owner(full);
            }

            owner ??= "another process";
            throw new IOException($"{full}: {what} is already being written by {owner}; one writer per folder (wait for it to finish, or stop it; its work resumes).", e);
        }

        string? takeover = Owner(full) is { } previous
            ? $"{full}: took over from {previous}, which is no longer running (its lock was free)."
            : null;
        File.WriteAllText(ownerPath, $"{Environment.MachineName} pid {Environment.ProcessId} since {DateTime.UtcNow:O}\n", Encoding.UTF8);
        return new FolderLock(fs, full, ownerPath, takeover, RemoveTempFiles(full));
    }

    /// <summary>
    /// Deletes the temp files interrupted <see cref="AtomicFile"/> writes left in <paramref name="folder"/> (and, with
    /// <paramref name="recursive"/>, its subfolders); call it only while holding the lock that owns them.
    /// </summary>
    public static IReadOnlyList<string> RemoveTempFiles(string folder, bool recursive = false)
    {
        var removed = new List<string>();
        if (!Directory.Exists(folder))
        {
            return removed;
        }

        foreach (string temp in Directory.EnumerateFiles(folder, ".*.tmp", recursive ? SearchOption.AllDirectories : SearchOption.TopDirectoryOnly))
        {
            try
            {
                File.Delete(temp);
                removed.Add(temp);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
            }
        }

        return removed;
    }

    /// <summary>Releases the folder: deletes the owner file, then the lock.</summary>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        try
        {
            File.Delete(_ownerPath);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
        }

        _stream.Dispose();
    }
}
