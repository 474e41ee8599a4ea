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

    /// <summary>
    /// The run directories named by <paramref name="paths"/>, each a run (holding a checkpoint) or a folder searched for runs
    /// (e.g. a study's output), with their training states; a folder contributes only the runs of <paramref name="task"/>.
    /// </summary>
    /// <exception cref="ArgumentException">A path that does not exist, a named run of another task, or no run of the task at all.</exception>
    public static IReadOnlyList<(string Dir, TrainingState State)> RunsOf(IEnumerable<string> paths, string task, string option)
    {
        var runs = new List<(string, TrainingState)>();
        foreach (string path in paths)
        {
            string full = Path.GetFullPath(path);
            if (!Directory.Exists(full))
            {
                throw new ArgumentException($"{option} {full}: no such directory.", option);
            }

            if (File.Exists(Path.Combine(full, Checkpoint.FileName)))
            {
                var state = Checkpoint.Load(Path.Combine(full, Checkpoint.FileName));
                if (state.TaskName != task)
                {
                    throw new ArgumentException($"{option} {full}: trained on task '{state.TaskName}'; expected a {task} run.", option);
                }

                runs.Add((full, state));
                continue;
            }

            foreach (string file in Directory.EnumerateFiles(full, Checkpoint.FileName, SearchOption.AllDirectories).Order(StringComparer.Ordinal))
            {
                var state = Checkpoint.Load(file);
                if (state.TaskName == task)
                {
                    runs.Add((Path.GetDirectoryName(file)!, state));
                }
            }
        }

        return runs.Count > 0 ? runs : throw new ArgumentException($"{option}: no {task} run (a directory holding {Checkpoint.FileName}) in {string.Join(", ", paths)}.", option);
    }
}
