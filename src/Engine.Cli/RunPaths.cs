using Engine.IO;
using Engine.Training;

namespace Engine.Cli;

/// <summary>Checks that a path given to an analysis verb is an existing run directory, before anything opens or creates it.</summary>
internal static class RunPaths
{
    /// <summary>The full path of an existing run directory with a checkpoint; otherwise an error naming the option and the path.</summary>
    public static string Existing(string path, string option)
    {
        string full = Path.GetFullPath(path);
        if (File.Exists(full))
        {
            throw new ArgumentException($"{option} {full} is a file; expected a run directory holding {Checkpoint.FileName}.", option);
        }

        if (!Directory.Exists(full))
        {
            throw new ArgumentException($"{option} {full}: no such run directory.", option);
        }

        if (!File.Exists(Path.Combine(full, Checkpoint.FileName)))
        {
            throw new ArgumentException($"{option} {full}: no {Checkpoint.FileName} in this directory.", option);
        }

        return full;
    }
}
