using Engine.Model;
using Engine.Util;

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
public record struct NetworkProgress
{
    /// <summary>A fresh record.</summary>
    public NetworkProgress()
    {
    }

    /// <summary>Status.</summary>
    public NetworkStatus Status { get; set; } = NetworkStatus.Training;

    /// <summary>Adam steps taken (epochs this network trained).</summary>
    public int Epochs { get; set; }

    /// <summary>Epochs trained since first reaching the threshold, or −1 before.</summary>
    public int SinceThreshold { get; set; } = -1;

    /// <summary>Most recent training loss.</summary>
    public double LastLoss { get; set; } = double.NaN;

    /// <summary>ReduceLROnPlateau: the multiplier applied to this network's learning rate so far.</summary>
    public double LrScale { get; set; } = 1.0;

    /// <summary>Exponential moving average of the training loss (decay 0.9): what the stop rule and the plateau schedule watch.</summary>
    public double SmoothedLoss { get; set; } = double.NaN;

    /// <summary>ReduceLROnPlateau: best smoothed loss seen.</summary>
    public double BestLoss { get; set; } = double.PositiveInfinity;

    /// <summary>ReduceLROnPlateau: epochs since the best loss improved.</summary>
    public int BadEpochs { get; set; }

    /// <summary>Finite-dataset mode: the latest MSE on the held-out test set (NaN before the first measurement).</summary>
    public double TestLoss { get; set; } = double.NaN;

    /// <summary>Finite-dataset mode: the lowest test MSE measured (the early-stopping estimate).</summary>
    public double BestTestLoss { get; set; } = double.PositiveInfinity;

    /// <summary>Finite-dataset mode: the run epoch of <see cref="BestTestLoss"/>.</summary>
    public int BestTestEpoch { get; set; }

    /// <summary>Finite-dataset mode: test measurements since the best one.</summary>
    public int TestStale { get; set; }
}

/// <summary>Everything needed to resume a run exactly: the ensemble, Adam's moments and every network's record.</summary>
public sealed class TrainingState
{
    /// <summary>Creates the state of a run whose networks are already initialised.</summary>
    public TrainingState(Ensemble ensemble, string taskName, IReadOnlyDictionary<string, string> taskSettings, TrainingOptions options)
    {
        Ensemble = ensemble;
        TaskName = taskName;
        TaskSettings = new Dictionary<string, string>(taskSettings);
        Options = options;
        int size = ensemble.Parameters.Length;
        FirstMoment = new float[size];
        SecondMoment = new float[size];
        InitialParameters = (float[])ensemble.Parameters.Clone();
        Networks = Enumerable.Range(0, ensemble.Spec.Networks).Select(_ => new NetworkProgress()).ToArray();
        int factors = options.Rank > 0 ? Guard.Buffer("low-rank factors [E][2][N][R]", sizeof(float), ensemble.Spec.Networks, 2, ensemble.Spec.Hidden, options.Rank) : 0;
        Factors = new float[factors];
        FactorFirstMoment = new float[factors];
        FactorSecondMoment = new float[factors];
        WeightChange = Enumerable.Repeat(double.NaN, ensemble.Spec.Networks).ToArray();
        KernelAlignment = Enumerable.Repeat(double.NaN, ensemble.Spec.Networks).ToArray();
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

    /// <summary>The parameters at initialisation [E][P] (for ‖W_T − W_0‖ and the initial kernel).</summary>
    public float[] InitialParameters { get; }

    /// <summary>Low-rank factors [E][2][N][R] (m_r then n_r as columns), empty at full rank.</summary>
    public float[] Factors { get; }

    /// <summary>Adam m of the factors.</summary>
    public float[] FactorFirstMoment { get; }

    /// <summary>Adam v of the factors.</summary>
    public float[] FactorSecondMoment { get; }

    /// <summary>Per-network records.</summary>
    public NetworkProgress[] Networks { get; }

    /// <summary>‖W_T − W_0‖_F per network (NaN until measured at the end of training).</summary>
    public double[] WeightChange { get; }

    /// <summary>Kernel alignment Tr(K_T K_0)/(‖K_T‖_F ‖K_0‖_F) per network on the probe batch (NaN until measured).</summary>
    public double[] KernelAlignment { get; }

    /// <summary>Epochs completed by the run as a whole.</summary>
    public int Epoch { get; set; }

    /// <summary>Puts networks that ran out of epochs back into training (after the budget was raised).</summary>
    public void ReopenNotConverged()
    {
        for (int e = 0; e < Networks.Length; e++)
        {
            if (Networks[e].Status == NetworkStatus.NotConverged)
            {
                Networks[e] = Networks[e] with { Status = NetworkStatus.Training };
            }
        }
    }

    /// <summary>Whether every network has stopped.</summary>
    public bool Finished => Networks.All(n => n.Status != NetworkStatus.Training);
}
