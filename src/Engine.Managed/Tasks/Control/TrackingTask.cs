using Engine.Model;
using Engine.Util;

namespace Engine.Tasks.Control;

/// <summary>
/// Multi-frequency tracking: each observed position c of the plant must follow
/// r_c,t = ρ(t) Σ_{k: c_k = c} a sin(ω_k t + φ_{k,b}), with ρ(t) = min(1, t / R) a ramp over R steps (R = 0: none).
/// </summary>
/// <remarks>
/// Channel c is row c of C, which must pick one state s_c (a unit row: positions of the integrators and the point
/// mass). Targets x*_t have r_c,t at s_c and 0 elsewhere, with state weights 1 on every s_c, so the loss is
/// (1/(B T)) Σ_{t,c} (x_{s_c,t} − r_c,t)². Phases φ_{k,b} ~ U(0, 2π) from the task seed; x_0 = x*_0. The agent sees
/// the tracking error C (x − x*), or with <c>observeReference</c> the position C x and the reference C x* as
/// separate inputs (Ger &amp; Barak's tracking agent). The closed loop is linear in r, so the tracking error is the
/// sum of the errors for each frequency alone: <see cref="Only"/> gives that single-frequency task (same phases),
/// from which <c>ClosedLoop.FrequencyAcquisition</c> reads when each frequency is learned.
/// </remarks>
public sealed class TrackingTask : ControlTask
{
    private readonly double[] _phases;
    private readonly bool[] _active;
    private readonly int[] _stateOf;

    /// <summary>
    /// A tracking task for <paramref name="plant"/>; <paramref name="frequencies"/> in radians per step,
    /// <paramref name="channels"/> the observed channel each frequency drives (default all channel 0).
    /// </summary>
    public TrackingTask(Plant plant, double[] frequencies, int trials = 8, double amplitude = 1.0, long seed = 0,
        int[]? channels = null, int rampSteps = 0, bool observeReference = false)
        : this(plant, frequencies, trials, amplitude, Phases(frequencies, trials, seed), null,
            CheckChannels(plant, frequencies, channels), rampSteps, observeReference)
    {
    }

    private TrackingTask(Plant plant, double[] frequencies, int trials, double amplitude, double[] phases, bool[]? active,
        int[] channels, int rampSteps, bool observeReference)
        : base("tracking", plant.N, new double[trials * plant.N], Weights(plant), observeError: !observeReference, observeReference)
    {
        Guard.AtLeast(rampSteps, 0, "ramp steps");
        Frequencies = frequencies;
        Amplitude = amplitude;
        Channels = channels;
        RampSteps = rampSteps;
        _phases = phases;
        _active = active ?? Enumerable.Repeat(true, frequencies.Length).ToArray();
        _stateOf = StatesOf(plant);
        PlantRef = plant;
        for (int b = 0; b < trials; b++)
        {
            for (int c = 0; c < _stateOf.Length; c++)
            {
                InitialStates[b * plant.N + _stateOf[c]] = Reference(b, 0, c);
            }
        }
    }

    /// <summary>ω_k, radians per step.</summary>
    public double[] Frequencies { get; }

    /// <summary>a, the amplitude of each component.</summary>
    public double Amplitude { get; }

    /// <summary>c_k, the observed channel (row of C) frequency k drives.</summary>
    public int[] Channels { get; }

    /// <summary>R, the steps over which the reference ramps up from 0 (0: no ramp).</summary>
    public int RampSteps { get; }

    private Plant PlantRef { get; }

    /// <summary>The same task with only frequency <paramref name="k"/> (same phases).</summary>
    public TrackingTask Only(int k)
    {
        var active = new bool[Frequencies.Length];
        active[k] = true;
        return new TrackingTask(PlantRef, Frequencies, Trials, Amplitude, _phases, active, Channels, RampSteps, ObserveReference);
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
                for (int c = 0; c < _stateOf.Length; c++)
                {
                    dst[(b * (horizon + 1) + t) * n + _stateOf[c]] = Reference(b, t, c);
                }
            }
        }
    }

    private double Reference(int b, int t, int channel)
    {
        double r = 0;
        for (int k = 0; k < Frequencies.Length; k++)
        {
            if (_active[k] && Channels[k] == channel)
            {
                r += Amplitude * Math.Sin(Frequencies[k] * t + _phases[b * Frequencies.Length + k]);
            }
        }

        return RampSteps > 0 && t < RampSteps ? r * t / RampSteps : r;
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

    private static int[] CheckChannels(Plant plant, double[] f, int[]? channels)
    {
        ArgumentNullException.ThrowIfNull(plant);
        ArgumentNullException.ThrowIfNull(f);
        channels ??= new int[f.Length];
        Guard.Length(channels.Length, f.Length, "tracking channels", "one per frequency");
        foreach (int c in channels)
        {
            if (c < 0 || c >= plant.Q)
            {
                throw new ArgumentOutOfRangeException(nameof(channels), c, $"tracking channel {c} is not an observed channel of plant '{plant.Name}' (q = {plant.Q}).");
            }
        }

        return channels;
    }

    /// <summary>s_c per channel: the state each row of C picks; the rows must be unit vectors.</summary>
    private static int[] StatesOf(Plant plant)
    {
        int n = plant.N;
        var s = new int[plant.Q];
        for (int c = 0; c < plant.Q; c++)
        {
            s[c] = -1;
            for (int i = 0; i < n; i++)
            {
                double v = plant.C[c * n + i];
                if (v == 1 && s[c] < 0)
                {
                    s[c] = i;
                }
                else if (v != 0)
                {
                    s[c] = -2;
                }
            }

            if (s[c] < 0)
            {
                throw new ArgumentException($"tracking needs every row of C to pick one state (a unit row); row {c} of plant '{plant.Name}' does not.", nameof(plant));
            }
        }

        return s;
    }

    private static double[] Weights(Plant plant)
    {
        var w = new double[plant.N];
        foreach (int i in StatesOf(plant))
        {
            w[i] = 1;
        }

        return w;
    }
}
