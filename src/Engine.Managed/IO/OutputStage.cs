namespace Engine.IO;

/// <summary>All of a command's output files, or none: everything is written into a hidden staging folder, then moved into place.</summary>
/// <remarks>
/// Writers get staged paths from <see cref="PathOf"/> (or write anywhere under <see cref="Root"/>); <see cref="Commit"/> moves every
/// staged file to the same relative path under <see cref="Target"/> (each move an atomic rename in the same folder tree). Disposing
/// without committing deletes the staging folder, so a failure in the middle of a command leaves the previous outputs untouched.
/// </remarks>
public sealed class OutputStage : IDisposable
{
    /// <summary>Starts staging the outputs of a folder (created if needed).</summary>
    public OutputStage(string target)
    {
        ArgumentNullException.ThrowIfNull(target);
        Target = Path.GetFullPath(target);
        Directory.CreateDirectory(Target);
        Root = Path.Combine(Target, $".staging.{Environment.ProcessId}.{Guid.NewGuid():N}");
        Directory.CreateDirectory(Root);
    }

    /// <summary>The folder the files end up in.</summary>
    public string Target { get; }

    /// <summary>The staging folder.</summary>
    public string Root { get; }

    /// <summary>The staged path of <paramref name="relative"/> (its folder created).</summary>
    public string PathOf(string relative)
    {
        string path = Path.GetFullPath(Path.Combine(Root, relative));
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        return path;
    }

    /// <summary>Moves every staged file into <see cref="Target"/>; returns their final paths.</summary>
    public IReadOnlyList<string> Commit()
    {
        var moved = new List<string>();
        foreach (string file in Directory.EnumerateFiles(Root, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
        {
            string final = Path.Combine(Target, Path.GetRelativePath(Root, file));
            Directory.CreateDirectory(Path.GetDirectoryName(final)!);
            File.Move(file, final, overwrite: true);
            moved.Add(final);
        }

        Dispose();
        return moved;
    }

    /// <summary>Deletes the staging folder and whatever is left in it.</summary>
    public void Dispose()
    {
        if (Directory.Exists(Root))
        {
            Directory.Delete(Root, recursive: true);
        }
    }
}
