using System.Globalization;
using System.Text;
using Engine.Backends;
using Engine.Kernels;
using Engine.Model;

namespace Engine.Diagnostics;

/// <summary>One comparison of a backend against the float64 reference.</summary>
/// <param name="Name">Shape and quantity, e.g. <c>E3-N7-tanh/gradient</c>.</param>
/// <param name="MaxError">Largest mixed error max_k |a_k − r_k| / max(1, |r_k|).</param>
/// <param name="Tolerance">The bound it is held to for this backend.</param>
/// <param name="Passed">MaxError ≤ Tolerance and every value finite (false for a skipped check).</param>
/// <param name="SkipReason">Why the check did not run (the backend does not support the case yet); null when it ran.</param>
public sealed record SelfTestCheck(string Name, double MaxError, double Tolerance, bool Passed, string? SkipReason = null)
{
    /// <summary>The check did not run: the backend threw <see cref="NotSupportedException"/> for its case.</summary>
    public bool Skipped => SkipReason is not null;

    /// <summary>The check ran and did not pass.</summary>
    public bool Failed => !Passed && !Skipped;

    /// <inheritdoc />
    public override string ToString() => Skipped
        ? string.Create(CultureInfo.InvariantCulture, $"SKIP  {Name,-42} {SkipReason}")
        : string.Create(CultureInfo.InvariantCulture, $"{(Passed ? "PASS" : "FAIL")}  {Name,-42} max err {MaxError,10:E2}  tol {Tolerance:E1}");
}

/// <summary>
/// Checks a backend's forward pass, loss, BPTT gradient, gradient norm and Adam step against the reference on a few
/// odd shapes, for use on a real device (<c>engine selftest --backend cuda</c>).
/// </summary>
/// <remarks>
/// Error of a check: max over elements of |a − r| / max(1, |r|) (relative for large values, absolute for small).
/// Tolerances are per backend: tight for the CPU paths, looser for CUDA and OpenCL where tanh is an approximate
/// instruction (~1e-3 relative). Adam is checked against the formula applied in float64 to the backend's own gradient,
/// so it isolates the optimizer from gradient error. Shapes: (E, N, I, O, B, T) = (3, 7, 3, 2, 5, 9), (2, 33, 1, 3, 3, 7),
/// (5, 65, 4, 1, 2, 5), (4, 129, 2, 2, 2, 3), (3, 17, 2, 2, 4, 6), covering the three cells (the last is the rate cell,
/// h_t = (1 − α) h_{t−1} + α (W φ(h_{t−1}) + U x_t + b) + σ√α ξ_t, y_t = C φ(h_t) + d, with the activity regulariser
/// λ_e · mean h² at λ = (2.5, 0.5, 7), which adds 2λ_e h_t / (B T N) to the gradient reaching h_t), the three
/// activations, noise, learned h₀, shared and per-network trials and an inactive network. A case whose runner throws
/// <see cref="NotSupportedException"/> (a backend without that cell or regulariser yet) reports its checks as skipped.
/// </remarks>
public static class BackendSelfTest
{
    /// <summary>Runs every check of <paramref name="backend"/> against the reference backend.</summary>
    /// <param name="backend">The backend under test.</param>
    /// <param name="maxHidden">Skip shapes with more hidden units (keeps runs on slow simulators short).</param>
    public static IReadOnlyList<SelfTestCheck> Run(IEnsembleBackend backend, int maxHidden = int.MaxValue)
    {
        ArgumentNullException.ThrowIfNull(backend);
        bool approx = backend.ApproximateMath;
        var tol = approx ? new Tolerances(5e-3, 5e-3, 5e-3, 2e-2, 1e-4) : new Tolerances(2e-5, 2e-5, 2e-4, 1e-3, 1e-5);
        using var reference = BackendFactory.Create("reference");
        var results = new List<SelfTestCheck>();
        foreach (var (name, spec, sets, trials, steps, activity) in Cases().Where(c => c.Spec.Hidden <= maxHidden))
        {
            RunCase(backend, reference, name, spec, sets, trials, steps, activity, tol, results);
        }

        return results;
    }

    /// <summary>The checks as aligned lines with a final summary line.</summary>
    public static string Format(IReadOnlyList<SelfTestCheck> checks)
    {
        ArgumentNullException.ThrowIfNull(checks);
        var sb = new StringBuilder();
        foreach (var c in checks)
        {
            sb.AppendLine(c.ToString());
        }

        int failed = checks.Count(c => c.Failed);
        int skipped = checks.Count(c => c.Skipped);
        sb.Append(CultureInfo.InvariantCulture, $"{checks.Count - failed - skipped}/{checks.Count} checks passed");
        if (skipped > 0)
        {
            sb.Append(CultureInfo.InvariantCulture, $", {skipped} skipped");
        }

        return sb.ToString();
    }

    private readonly record struct Tolerances(double Forward, double Loss, double Gradient, double Norm, double Adam);

    /// <summary>The checks of one case, in order (a skipped case reports each of them as skipped).</summary>
    private static readonly string[] CheckNames = ["forward.outputs", "forward.states", "loss", "gradient", "gradient-norm2", "adam"];

    private static IEnumerable<(string Name, EnsembleSpec Spec, int Sets, int Trials, int Steps, float[]? Activity)> Cases()
    {
        yield return ("E3-N7-tanh", new EnsembleSpec { Networks = 3, Hidden = 7, Inputs = 3, Outputs = 2 }, 1, 5, 9, null);
        yield return ("E2-N33-leaky-relu-noise-h0", new EnsembleSpec
        {
            Networks = 2, Hidden = 33, Inputs = 1, Outputs = 3, Cell = CellType.Leaky, Alpha = 0.2f,
            Activation = ActivationKind.Relu, NoiseStd = 0.1f, InitialState = InitialStateKind.Learned,
        }, 2, 3, 7, null);
        yield return ("E5-N65-leaky-linear", new EnsembleSpec
        {
            Networks = 5, Hidden = 65, Inputs = 4, Outputs = 1, Cell = CellType.Leaky, Alpha = 0.5f, Activation = ActivationKind.Identity,
        }, 5, 2, 5, null);
        yield return ("E4-N129-tanh-h0", new EnsembleSpec
        {
            Networks = 4, Hidden = 129, Inputs = 2, Outputs = 2, InitialState = InitialStateKind.Learned,
        }, 1, 2, 3, null);
        yield return ("E3-N17-rate-tanh-noise-h0-activity", new EnsembleSpec
        {
            Networks = 3, Hidden = 17, Inputs = 2, Outputs = 2, Cell = CellType.Rate, Alpha = 0.2f, NoiseStd = 0.1f,
            InitialState = InitialStateKind.Learned,
        }, 3, 4, 6, [2.5f, 0.5f, 7f]);
    }

    private static void RunCase(
        IEnsembleBackend backend, IEnsembleBackend reference, string name, EnsembleSpec spec, int sets, int trials, int steps,
        float[]? activity, Tolerances tol, List<SelfTestCheck> results)
    {
        IEnsembleRunner runner;
        try
        {
            runner = backend.CreateRunner(spec);
        }
        catch (NotSupportedException e)
        {
            Skip(name, e.Message, results);
            return;
        }

        using (runner)
        {
            if (activity is not null)
            {
                try
                {
                    runner.SetActivityRegularization(activity);
                }
                catch (NotSupportedException e)
                {
                    Skip(name, e.Message, results);
                    return;
                }
            }

            RunCase(runner, reference, name, spec, sets, trials, steps, activity, tol, results);
        }
    }

    private static void Skip(string name, string reason, List<SelfTestCheck> results)
    {
        foreach (var check in CheckNames)
        {
            results.Add(new SelfTestCheck($"{name}/{check}", double.NaN, double.NaN, false, reason));
        }
    }

    private static void RunCase(
        IEnsembleRunner runner, IEnsembleBackend reference, string name, EnsembleSpec spec, int sets, int trials, int steps,
        float[]? activity, Tolerances tol, List<SelfTestCheck> results)
    {
        var rng = new Random(name.Length * 7919 + spec.Hidden);
        int e = spec.Networks, stride = spec.Layout.Stride;
        var p = Uniform(rng, e * stride, 1.5 / Math.Sqrt(spec.Hidden));
        var batch = TrialBatch.For(spec, sets, trials, steps);
        Uniform(rng, batch.Inputs, 1.0);
        Uniform(rng, batch.Targets, 1.0);
        for (int k = 0; k < batch.Mask.Length; k++)
        {
            batch.Mask[k] = rng.NextDouble() < 0.8 ? 1f : 0f;
        }

        for (int k = 0; k < batch.Noise.Length; k++)
        {
            batch.Noise[k] = (float)(Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble()));
        }

        var active = new byte[e];
        Array.Fill(active, (byte)1);
        if (e > 2)
        {
            active[1] = 0;
        }

        long rows = (long)e * trials * steps;
        var (yRef, hRef) = (new float[rows * spec.Outputs], new float[rows * spec.Hidden]);
        var (lossRef, normRef, gRef) = (new float[e], new float[e], new float[e * stride]);
        using (var r = reference.CreateRunner(spec))
        {
            if (activity is not null)
            {
                r.SetActivityRegularization(activity);
            }

            r.SetParameters(p);
            r.Forward(batch, yRef, hRef);
            r.ComputeGradients(batch, active, lossRef, normRef);
            r.GetGradients(gRef);
        }

        var (y, h) = (Poisoned(yRef.Length), Poisoned(hRef.Length));
        var (loss, norm, g) = (Poisoned(e), Poisoned(e), Poisoned(gRef.Length));
        runner.SetParameters(p);
        runner.Forward(batch, y, h);
        results.Add(Check($"{name}/forward.outputs", y, yRef, tol.Forward));
        results.Add(Check($"{name}/forward.states", h, hRef, tol.Forward));
        runner.ComputeGradients(batch, active, loss, norm);
        runner.GetGradients(g);
        results.Add(Check($"{name}/loss", loss, lossRef, tol.Loss));
        results.Add(Check($"{name}/gradient", g, gRef, tol.Gradient));
        results.Add(Check($"{name}/gradient-norm2", norm, normRef, tol.Norm));

        var m = Uniform(rng, p.Length, 0.1);
        var v = new float[p.Length];
        for (int k = 0; k < v.Length; k++)
        {
            v[k] = (float)(rng.NextDouble() * 0.01);
        }

        runner.SetOptimizerState(m, v);
        var coeffs = new AdamCoefficients[e];
        for (int k = 0; k < e; k++)
        {
            coeffs[k] = AdamMath.Coefficients(k == e - 1 && e > 1 ? 0f : 1e-2f * (k + 1), k + 1, k % 2 == 0 ? 1f : 0.5f);
        }

        runner.AdamStep(coeffs);
        var pExp = new float[p.Length];
        for (int n = 0; n < e; n++)
        {
            var c = coeffs[n];
            for (int k = n * stride; k < (n + 1) * stride; k++)
            {
                if (c.StepSize == 0f)
                {
                    pExp[k] = p[k];
                    continue;
                }

                double gs = (double)g[k] * c.GradScale;
                double mn = AdamMath.Beta1 * (double)m[k] + (1 - (double)AdamMath.Beta1) * gs;
                double vn = AdamMath.Beta2 * (double)v[k] + (1 - (double)AdamMath.Beta2) * gs * gs;
                pExp[k] = (float)(p[k] - c.StepSize * mn / (Math.Sqrt(vn) * c.InvSqrtBias2 + AdamMath.Epsilon));
            }
        }

        var pAfter = Poisoned(p.Length);
        runner.GetParameters(pAfter);
        results.Add(Check($"{name}/adam", pAfter, pExp, tol.Adam));
    }

    private static SelfTestCheck Check(string name, float[] actual, float[] expected, double tolerance)
    {
        double worst = 0;
        bool finite = true;
        for (int k = 0; k < actual.Length; k++)
        {
            if (!float.IsFinite(actual[k]))
            {
                finite = false;
                worst = double.PositiveInfinity;
                break;
            }

            double err = Math.Abs((double)actual[k] - expected[k]) / Math.Max(1.0, Math.Abs((double)expected[k]));
            worst = Math.Max(worst, err);
        }

        return new SelfTestCheck(name, worst, tolerance, finite && worst <= tolerance);
    }

    private static float[] Uniform(Random rng, int length, double bound)
    {
        var a = new float[length];
        Uniform(rng, a, bound);
        return a;
    }

    private static void Uniform(Random rng, float[] a, double bound)
    {
        for (int k = 0; k < a.Length; k++)
        {
            a[k] = (float)((rng.NextDouble() * 2 - 1) * bound);
        }
    }

    private static float[] Poisoned(long length)
    {
        var a = new float[length];
        Array.Fill(a, float.NaN);
        return a;
    }
}
