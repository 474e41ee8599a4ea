using Engine.Model;

namespace Engine.Training;

/// <summary>Where a network stands in training.</summary>
public enum NetworkStatus
{
    /// <summary>Still training.</summary>
    Training = 0,

    /// <summary>Reached the threshold and finished its patience epochs.</summary>
    Converged = 1,

    /// <summary>Its loss or gradient turned NaN/Inf; frozen at its last finite parameters.</summary>
    Diverged = 2,

    /// <summary>Ran out of epochs above the threshold.</summary>
    NotConverged = 3,
}

/// <summary>Per-network training record.</summary>
public struct NetworkProgress
{
    /// <summary>Status.</summary>
    public NetworkStatus Status;

    /// <summary>Adam steps taken (epochs this network trained).</summary>
    public int Epochs;

    /// <summary>Epochs trained since first reaching the threshold, or −1 before.</summary>
    public int SinceThreshold;

    /// <summary>Most recent training loss.</summary>
    public double LastLoss;
}

/// <summary>Everything needed to resume a run exactly: the ensemble, Adam's moments and every network's record.</summary>
public sealed class TrainingState
{
    /// <summary>Creates the state of a fresh run.</summary>
    public TrainingState(Ensemble ensemble, string taskName, IReadOnlyDictionary<string, string> taskSettings, TrainingOptions options)
    {
        Ensemble = ensemble;
        TaskName = taskName;
        TaskSettings = new Dictionary<string, string>(taskSettings);
        Options = options;
        int size = ensemble.Parameters.Length;
        FirstMoment = new float[size];
        SecondMoment = new float[size];
        Networks = new NetworkProgress[ensemble.Spec.Networks];
        for (int e = 0; e < Networks.Length; e++)
        {
            Networks[e] = new NetworkProgress { Status = NetworkStatus.Training, SinceThreshold = -1, LastLoss = double.NaN };
        }
    }

    /// <summary>The networks being trained.</summary>
    public Ensemble Ensemble { get; }

    /// <summary>The task's name.</summary>
    public string TaskName { get; }

    /// <summary>The task's settings (enough to rebuild it through the registry).</summary>
    public Dictionary<string, string> TaskSettings { get; }

    /// <summary>Training options.</summary>
    public TrainingOptions Options { get; set; }

    /// <summary>Adam m [E][P].</summary>
    public float[] FirstMoment { get; }

    /// <summary>Adam v [E][P].</summary>
    public float[] SecondMoment { get; }

    /// <summary>Per-network records.</summary>
    public NetworkProgress[] Networks { get; }

    /// <summary>Epochs completed by the run as a whole.</summary>
    public int Epoch { get; set; }

    /// <summary>Puts networks that ran out of epochs back into training (after the budget was raised).</summary>
    public void ReopenNotConverged()
    {
        for (int e = 0; e < Networks.Length; e++)
        {
            if (Networks[e].Status == NetworkStatus.NotConverged)
            {
                Networks[e].Status = NetworkStatus.Training;
            }
        }
    }

    /// <summary>Whether every network has stopped.</summary>
    public bool Finished => Networks.All(n => n.Status != NetworkStatus.Training);
}
