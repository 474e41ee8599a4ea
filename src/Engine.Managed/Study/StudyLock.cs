using System.Text;

namespace Engine.Study;

/// <summary>An exclusive, process-wide claim on a folder: one writer per shard (and one merge) at a time.</summary>
/// <remarks>
/// A <c>.lock</c> file opened with <see cref="FileShare.None"/>, which .NET on Linux and macOS backs with an advisory
/// <c>flock</c>: the operating system releases it when the process dies, so <c>kill -9</c> never leaves a stale lock. The
/// file <c>.lock.owner</c> beside it holds the owner's host and pid for the error message a second writer gets.
/// </remarks>
public sealed class StudyLock : IDisposable
{
    private readonly FileStream _stream;

    private StudyLock(FileStream stream) => _stream = stream;

    /// <summary>Claims <paramref name="folder"/> (created if needed).</summary>
    /// <exception cref="IOException">Another process holds it; the message names the folder and the owner.</exception>
    public static StudyLock Acquire(string folder, string what)
    {
        Directory.CreateDirectory(folder);
        string path = Path.Combine(folder, ".lock");
        try
        {
            var fs = new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            File.WriteAllText(path + ".owner", $"{Environment.MachineName} pid {Environment.ProcessId} since {DateTime.UtcNow:O}\n", Encoding.UTF8);
            return new StudyLock(fs);
        }
        catch (IOException e)
        {
            string owner = "another process";
            try
            {
                owner = File.ReadAllText(path + ".owner").Trim() is { Length: > 0 } line ? line : owner;
            }
            catch (IOException)
            {
            }

            throw new IOException($"{Path.GetFullPath(folder)}: {what} is already being written by {owner}; one writer per study folder (wait for it to finish, or stop it; its work resumes).", e);
        }
    }

    /// <inheritdoc />
    public void Dispose() => _stream.Dispose();
}
