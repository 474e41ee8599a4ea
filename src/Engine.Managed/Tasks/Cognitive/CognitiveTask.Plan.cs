using Engine.Util;

namespace Engine.Tasks.Cognitive;

/// <summary>Trial plans (epoch sequence, durations, stimuli) and their rendering into inputs, targets, mask and roles.</summary>
public sealed partial class CognitiveTask
{
    private readonly record struct Stimulus(int Ring, double Direction, double Strength);

    private readonly record struct Segment(int Role, int Steps, bool Fixation, bool Go, Stimulus[] Stimuli);

    private sealed record TrialPlan(Segment[] Segments, double Response, bool Respond)
    {
        public int Steps => Segments.Sum(s => s.Steps);
    }

    private static readonly double[] Coherences = [0.16, 0.32, 0.64];

    private int Ms(double ms) => Math.Max(1, (int)Math.Round(ms * Options.TimeScale / Options.Dt));

    private int LongestTrial() => Plan(null).Steps;

    /// <summary>One trial's plan; a null generator gives the longest trial (every duration at its maximum).</summary>
    private TrialPlan Plan(Rng? rng)
    {
        int Pick(params double[] ms) => Ms(rng is null ? ms.Max() : ms[rng.NextInt(ms.Length)]);
        int Between(double lo, double hi) => Ms(rng is null ? hi : rng.Uniform(lo, hi));
        double Dir() => rng is null ? 0 : rng.Uniform(0, 2 * Math.PI);
        double U(double lo, double hi) => rng is null ? lo : rng.Uniform(lo, hi);
        bool Coin() => rng is not null && rng.NextDouble() < 0.5;
        Segment S(int role, int steps, bool fix, bool go, params Stimulus[] st) => new(role, steps, fix, go, st);
        int go = Ms(500);
        switch (Name)
        {
            case "delaygo" or "delayanti" or "fdgo":
            {
                double d = Dir();
                var fix = S(EpochRoles.Fix, Pick(300, 500, 700), true, false);
                var stim = S(EpochRoles.StimMem, Pick(200, 400, 600), true, false, new Stimulus(0, d, 1));
                if (Name == "fdgo")
                {
                    // The stimulus stays on and the go cue comes U(500, 1500) ms after its onset (stim epoch then go).
                    int total = Between(500, 1500);
                    int first = Math.Max(1, total / 2);
                    return new TrialPlan([fix, stim with { Steps = first }, S(EpochRoles.GoPro, go, false, true, new Stimulus(0, d, 1))], d, true);
                }

                var delay = S(EpochRoles.Delay, Pick(200, 400, 800, 1600), true, false);
                bool anti = Name == "delayanti";
                return new TrialPlan([fix, stim, delay, S(anti ? EpochRoles.GoAnti : EpochRoles.GoPro, go, false, true)], anti ? Wrap(d + Math.PI) : d, true);
            }

            case "dm1" or "dm2" or "contextdm1":
            {
                double d1 = Dir(), d2 = Wrap(d1 + U(0.5 * Math.PI, 1.5 * Math.PI));
                double mean = U(0.8, 1.2), coh = rng is null ? 0.16 : Coherences[rng.NextInt(3)] * (Coin() ? 1 : -1);
                double s1 = mean * (1 + coh), s2 = mean * (1 - coh);
                var fix = S(EpochRoles.Fix, Between(100, 400), true, false);
                int dur = Pick(400, 800, 1600);
                if (Name == "contextdm1")
                {
                    double cohB = rng is null ? 0.16 : Coherences[rng.NextInt(3)] * (Coin() ? 1 : -1);
                    double t1 = mean * (1 + cohB), t2 = mean * (1 - cohB);
                    var both = S(EpochRoles.CtxDm1Stim, dur, true, false,
                        new Stimulus(0, d1, s1), new Stimulus(0, d2, s2), new Stimulus(1, d1, t1), new Stimulus(1, d2, t2));
                    return new TrialPlan([fix, both, S(EpochRoles.GoPro, go, false, true)], s1 > s2 ? d1 : d2, true);
                }

                int ring = Name == "dm1" ? 0 : 1;
                var stim = S(ring == 0 ? EpochRoles.Dm1Stim : EpochRoles.Dm2Stim, dur, true, false, new Stimulus(ring, d1, s1), new Stimulus(ring, d2, s2));
                return new TrialPlan([fix, stim, S(EpochRoles.GoPro, go, false, true)], s1 > s2 ? d1 : d2, true);
            }

            case "delaydm1":
            {
                double d1 = Dir(), d2 = Wrap(d1 + U(0.5 * Math.PI, 1.5 * Math.PI));
                double mean = U(0.8, 1.2), coh = rng is null ? 0.16 : Coherences[rng.NextInt(3)] * (Coin() ? 1 : -1);
                double s1 = mean * (1 + coh), s2 = mean * (1 - coh);
                return new TrialPlan(
                [
                    S(EpochRoles.Fix, Pick(300, 500, 700), true, false),
                    S(EpochRoles.Ddm1Stim1, Pick(200, 400, 600), true, false, new Stimulus(0, d1, s1)),
                    S(EpochRoles.DdmDelay, Pick(200, 400, 800, 1600), true, false),
                    S(EpochRoles.Ddm1Stim2, Pick(200, 400, 600), true, false, new Stimulus(0, d2, s2)),
                    S(EpochRoles.Delay, Between(100, 300), true, false),
                    S(EpochRoles.GoPro, go, false, true),
                ], s1 > s2 ? d1 : d2, true);
            }

            default:
            {
                // dmsgo / dmcgo: stim1 → delay1 → stim2 (the go cue); saccade to stim2 on a match, else keep fixating.
                bool category = Name == "dmcgo";
                double d1 = Dir();
                bool match = Coin();
                double d2;
                if (category)
                {
                    // Categories are the half-circles [0, π) and [π, 2π); the test is drawn in the same or the other half.
                    bool upper = d1 < Math.PI;
                    d2 = rng is null ? 0 : (upper == match ? rng.Uniform(0.1, Math.PI - 0.1) : rng.Uniform(Math.PI + 0.1, 2 * Math.PI - 0.1));
                }
                else
                {
                    d2 = match ? d1 : Wrap(d1 + U(0.25 * Math.PI, 1.75 * Math.PI));
                }

                int test = category ? EpochRoles.DmcTest : EpochRoles.DmsTest;
                return new TrialPlan(
                [
                    S(EpochRoles.Fix, Pick(300, 500, 700), true, false),
                    S(EpochRoles.StimMem, Pick(200, 400, 600), true, false, new Stimulus(0, d1, 1)),
                    S(EpochRoles.Delay, Pick(200, 400, 800, 1600), true, false),
                    S(test, go, false, true, new Stimulus(0, d2, 1)),
                ], d2, match);
            }
        }
    }

    private static double Wrap(double a)
    {
        double r = a % (2 * Math.PI);
        return r < 0 ? r + 2 * Math.PI : r;
    }

    private static double Bump(double direction, double preferred)
    {
        double d = Circular(direction, preferred);
        return 0.8 * Math.Exp(-d * d / (2 * (Math.PI / 8) * (Math.PI / 8)));
    }

    /// <summary>Renders the plans into [B][T][·] buffers; the first fixation of each trial absorbs T − its length.</summary>
    private void Fill(TrialPlan[] plans, int steps, Rng rng, Span<float> inputs, Span<float> targets, Span<float> mask, int[]? roles)
    {
        int ni = Inputs, no = Outputs, m = Ring;
        double noise = 0.01 * Math.Sqrt(2 / Options.Alpha);
        int ignore = Ms(100 / Options.TimeScale);
        inputs.Clear();
        for (int b = 0; b < plans.Length; b++)
        {
            var plan = plans[b];
            int pad = steps - plan.Steps;
            int t = 0;
            for (int sIndex = 0; sIndex < plan.Segments.Length; sIndex++)
            {
                var seg = plan.Segments[sIndex];
                int len = seg.Steps + (sIndex == 0 ? pad : 0);
                for (int k = 0; k < len; k++, t++)
                {
                    var x = inputs.Slice((b * steps + t) * ni, ni);
                    var y = targets.Slice((b * steps + t) * no, no);
                    var w = mask.Slice((b * steps + t) * no, no);
                    x[0] = seg.Fixation ? 1f : 0f;
                    foreach (var st in seg.Stimuli)
                    {
                        for (int i = 0; i < m; i++)
                        {
                            x[1 + st.Ring * m + i] += (float)(st.Strength * Bump(st.Direction, 2 * Math.PI * i / m));
                        }
                    }

                    bool responding = seg.Go && plan.Respond;
                    y[0] = responding ? 0.05f : 0.8f;
                    for (int i = 0; i < m; i++)
                    {
                        y[1 + i] = responding ? (float)(0.05 + Bump(plan.Response, 2 * Math.PI * i / m)) : 0.05f;
                    }

                    float weight = t < ignore ? 0f : seg.Go ? (k < ignore ? 0f : 5f) : 1f;
                    w.Fill(weight);
                    w[0] = 2 * weight;
                    if (roles is not null)
                    {
                        roles[b * steps + t] = seg.Role;
                    }
                }
            }
        }

        for (int i = 0; i < plans.Length * steps * ni; i++)
        {
            inputs[i] += (float)(noise * rng.NextGaussian());
        }
    }
}

/// <summary>A batch of cognitive trials with their per-step roles and what scoring needs.</summary>
/// <remarks>Inputs [B][T][I], targets and mask [B][T][O], roles [B][T] (indices into <see cref="EpochRoles.Names"/>).</remarks>
public sealed class CognitiveBatch
{
    /// <summary>Allocates an empty batch.</summary>
    public CognitiveBatch(int trials, int steps, int inputs, int outputs)
    {
        Trials = trials;
        Steps = steps;
        InputCount = inputs;
        OutputCount = outputs;
        Inputs = new float[trials * steps * inputs];
        Targets = new float[trials * steps * outputs];
        Mask = new float[trials * steps * outputs];
        Roles = new int[trials * steps];
        TargetDirection = new double[trials];
        Respond = new bool[trials];
    }

    /// <summary>B.</summary>
    public int Trials { get; }

    /// <summary>T.</summary>
    public int Steps { get; }

    /// <summary>I.</summary>
    public int InputCount { get; }

    /// <summary>O.</summary>
    public int OutputCount { get; }

    /// <summary>Inputs [B][T][I].</summary>
    public float[] Inputs { get; }

    /// <summary>Targets [B][T][O].</summary>
    public float[] Targets { get; }

    /// <summary>Loss weights [B][T][O].</summary>
    public float[] Mask { get; }

    /// <summary>The role of every step [B][T].</summary>
    public int[] Roles { get; }

    /// <summary>The response direction of each trial (radians).</summary>
    public double[] TargetDirection { get; }

    /// <summary>Whether each trial asks for a saccade (false: a no-go trial, keep fixating).</summary>
    public bool[] Respond { get; }
}
