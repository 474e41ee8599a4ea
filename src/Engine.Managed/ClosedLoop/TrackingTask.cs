using Engine.Util;

namespace Engine.ClosedLoop;

/// <summary>
/// Multi-frequency tracking: the plant's first state (position) must follow r_t = Σ_k a sin(ω_k t + φ_{k,b}),
/// observing only the tracking error C (x − x*).
/// </summary>
/// <remarks>
/// Targets x*_t = (r_t, 0, …) with state weights (1, 0, …), so the loss is (1/(B T)) Σ (x_{1,t} − r_t)²; phases
/// φ_{k,b} ~ U(0, 2π) from the task seed; x_0 = (r_0, 0, …). The closed loop is linear in r, so the tracking error
/// is the sum of the errors for each frequency alone: <see cref="Only"/> gives that single-frequency task (same
/// phases), from which <see cref="FrequencyAcquisition"/> reads when each frequency is learned.
/// </remarks>
public sealed class TrackingTask : ControlTask
{
    private readonly double[] _phases;
    private readonly bool[] _active;

    /// <summary>A tracking task for <paramref name="plant"/>; <paramref name="frequencies"/> in radians per step.</summary>
    public TrackingTask(Plant plant, double[] frequencies, int trials = 8, double amplitude = 1.0, long seed = 0)
        : this(plant, frequencies, trials, amplitude, Phases(frequencies, trials, seed), null)
    {
    }

    private TrackingTask(Plant plant, double[] frequencies, int trials, double amplitude, double[] phases, bool[]? active)
        : base("tracking", plant.N, InitialFor(plant.N, frequencies, trials, amplitude, phases, active), Weights(plant.N), observeError: true)
    {
        Frequencies = frequencies;
        Amplitude = amplitude;
        _phases = phases;
        _active = active ?? Enumerable.Repeat(true, frequencies.Length).ToArray();
        PlantRef = plant;
    }

    /// <summary>ω_k, radians per step.</summary>
    public double[] Frequencies { get; }

    /// <summary>a, the amplitude of each component.</summary>
    public double Amplitude { get; }

    private Plant PlantRef { get; }

    /// <summary>The same task with only frequency <paramref name="k"/> (same phases).</summary>
    public TrackingTask Only(int k)
    {
        var active = new bool[Frequencies.Length];
        active[k] = true;
        return new TrackingTask(PlantRef, Frequencies, Trials, Amplitude, _phases, active);
    }

    /// <inheritdoc/>
    public override void FillTargets(int horizon, double[] dst)
    {
        ArgumentNullException.ThrowIfNull(dst);
        Array.Clear(dst);
        int n = StateDim;
        for (int b = 0; b < Trials; b++)
        {
            for (int t = 0; t <= horizon; t++)
            {
                dst[(b * (horizon + 1) + t) * n] = Reference(Frequencies, Amplitude, _phases, _active, b, t);
            }
        }
    }

    private static double Reference(double[] f, double a, double[] phases, bool[]? active, int b, int t)
    {
        double r = 0;
        for (int k = 0; k < f.Length; k++)
        {
            if (active is null || active[k])
            {
                r += a * Math.Sin(f[k] * t + phases[b * f.Length + k]);
            }
        }

        return r;
    }

    private static double[] Phases(double[] f, int trials, long seed)
    {
        ArgumentNullException.ThrowIfNull(f);
        Guard.AtLeast(f.Length, 1, "frequencies");
        Guard.AtLeast(trials, 1, "trials");
        var rng = Rng.For(seed, Rng.DataStream);
        var ph = new double[trials * f.Length];
        for (int i = 0; i < ph.Length; i++)
        {
            ph[i] = rng.Uniform(0, 2 * Math.PI);
        }

        return ph;
    }

    private static double[] InitialFor(int n, double[] f, int trials, double a, double[] phases, bool[]? active)
    {
        var x0 = new double[trials * n];
        for (int b = 0; b < trials; b++)
        {
            x0[b * n] = Reference(f, a, phases, active, b, 0);
        }

        return x0;
    }

    private static double[] Weights(int n)
    {
        var w = new double[n];
        w[0] = 1;
        return w;
    }
}

/// <summary>When each frequency of a tracking task is acquired, from per-frequency loss curves.</summary>
public static class FrequencyAcquisition
{
    /// <summary>
    /// Per frequency, the first recorded step where its loss has covered half of its fall (L_k ≤ L_k(0) − ½ (L_k(0) − min L_k));
    /// −1 when it never fell. Returns the steps and the frequency indices in the order they were acquired.
    /// </summary>
    public static (int[] Steps, int[] Order) Analyze(IReadOnlyList<double[]> perFrequencyLoss)
    {
        ArgumentNullException.ThrowIfNull(perFrequencyLoss);
        int kf = perFrequencyLoss.Count;
        var steps = new int[kf];
        for (int k = 0; k < kf; k++)
        {
            var c = perFrequencyLoss[k];
            double l0 = c[0], min = c.Where(double.IsFinite).DefaultIfEmpty(l0).Min();
            steps[k] = -1;
            if (min < l0)
            {
                double level = l0 - 0.5 * (l0 - min);
                for (int i = 0; i < c.Length; i++)
                {
                    if (c[i] <= level)
                    {
                        steps[k] = i;
                        break;
                    }
                }
            }
        }

        var order = Enumerable.Range(0, kf).Where(k => steps[k] >= 0).OrderBy(k => steps[k]).ToArray();
        return (steps, order);
    }
}
