using System.Globalization;
using System.Numerics;
using System.Text;
using Engine.Model;
using Engine.Util;

namespace Engine.ClosedLoop;

/// <summary>One recorded training step of one agent.</summary>
/// <param name="Mode">closed or open.</param>
/// <param name="Agent">Agent index.</param>
/// <param name="Step">Training step (the state before that step's update).</param>
/// <param name="Loss">The training loss (closed-loop control loss, or open-loop imitation loss).</param>
/// <param name="ControlLoss">The closed-loop control loss of the current agent (equal to Loss in closed mode).</param>
/// <param name="Rho">ρ(P).</param>
/// <param name="Eigenvalues">The leading eigenvalues of P, sorted by modulus.</param>
/// <param name="K1">Position gain.</param>
/// <param name="K2">Velocity gain.</param>
/// <param name="Overlaps">The rank-one overlaps (null for a full W).</param>
/// <param name="ConflictDegrees">Angle between short- and long-horizon gradients (NaN when not computed).</param>
public sealed record StepRecord(string Mode, int Agent, int Step, double Loss, double ControlLoss, double Rho, Complex[] Eigenvalues,
    double K1, double K2, Overlaps? Overlaps, double ConflictDegrees)
{
    /// <summary>|λ₃|, the third eigenvalue of P (<see cref="ClosedLoopTheory.ThirdEigenvalue"/>).</summary>
    public double ThirdEigenvalue => ClosedLoopTheory.ThirdEigenvalue(Eigenvalues);

    /// <summary>
    /// Zig-zag: the fraction of consecutive parameter updates Δθ_s, Δθ_{s−1} since the previous record that point
    /// apart (⟨Δθ_s, Δθ_{s−1}⟩ &lt; 0); NaN when not measured (the first record, or fewer than two updates).
    /// </summary>
    public double ZigZag { get; init; } = double.NaN;
}

/// <summary>Trains a <see cref="ClosedLoopEnsemble"/> and records loss, spectrum, gains, overlaps and gradient conflict.</summary>
/// <remarks>
/// Every <c>every</c> steps (and at the last step) each agent's P = [[A, B zᵀ], [m C A, W + m C B zᵀ]] is decomposed
/// in float64 (≈10 ms for N = 100), in parallel over agents. Rows are produced in (step, agent) order whatever the
/// thread count.
/// </remarks>
public static class ClosedLoopRecorder
{
    /// <summary>How many leading eigenvalues a record keeps.</summary>
    public const int KeptEigenvalues = 6;

    /// <summary>Trains for <paramref name="steps"/> steps, recording every <paramref name="every"/> steps.</summary>
    /// <remarks><paramref name="onStep"/> sees each step's losses after its update; <paramref name="onRecord"/> sees the step of each record (parameters as recorded).</remarks>
    public static List<StepRecord> Train(ClosedLoopEnsemble ens, int steps, int every, int conflictShortHorizon = 0,
        Action<int, double[]>? onStep = null, Action<int>? onRecord = null)
    {
        ArgumentNullException.ThrowIfNull(ens);
        Util.Guard.AtLeast(every, 1, "record every");
        var all = new List<StepRecord>();
        int e = ens.Agents.Count;
        var before = new double[e][];
        var prev = new double[e][];
        var hasPrev = new bool[e];
        var pairs = new int[e];
        var apart = new int[e];
        for (int i = 0; i < e; i++)
        {
            before[i] = new double[ens.Layout.Length];
            prev[i] = new double[ens.Layout.Length];
        }

        for (int s = 0; s <= steps; s++)
        {
            if (s % every == 0 || s == steps)
            {
                var snap = Snapshot(ens, conflictShortHorizon);
                for (int i = 0; i < e; i++)
                {
                    all.Add(pairs[i] > 0 ? snap[i] with { ZigZag = apart[i] / (double)pairs[i] } : snap[i]);
                    pairs[i] = 0;
                    apart[i] = 0;
                }

                onRecord?.Invoke(s);
            }

            if (s < steps)
            {
                for (int i = 0; i < e; i++)
                {
                    ens.Parameters[i].CopyTo(before[i], 0);
                }

                var loss = ens.Step();
                for (int i = 0; i < e; i++)
                {
                    // Δθ_s = θ_{s+1} − θ_s, kept in before[i]; compare with Δθ_{s−1}
                    var d = before[i];
                    var th = ens.Parameters[i];
                    double dot = 0, nd = 0;
                    for (int k = 0; k < d.Length; k++)
                    {
                        d[k] = th[k] - d[k];
                        dot += d[k] * prev[i][k];
                        nd += d[k] * d[k];
                    }

                    if (hasPrev[i] && nd > 0 && ens.Status[i] == AgentStatus.Training)
                    {
                        pairs[i]++;
                        apart[i] += dot < 0 ? 1 : 0;
                    }

                    hasPrev[i] = nd > 0;
                    (before[i], prev[i]) = (prev[i], d);
                }

                onStep?.Invoke(s, loss);
            }
        }

        return all;
    }

    /// <summary>The records of every agent at the current parameters.</summary>
    public static StepRecord[] Snapshot(ClosedLoopEnsemble ens, int conflictShortHorizon)
    {
        ArgumentNullException.ThrowIfNull(ens);
        int e = ens.Agents.Count;
        var rec = new StepRecord[e];
        string mode = ens.IsOpenLoop ? "open" : "closed";
        Parallelism.For(e, ens.Backend.Threads, i =>
        {
            var th = ens.Parameters[i];
            int T = ens.Agents[i].Horizon;
            double loss = ens.LossAndGradient(i, null);
            double control = ens.IsOpenLoop
                ? ens.ClosedLoopLoss(i)
                : loss;
            Complex[] ev = ens.Options.Activation == ActivationKind.Identity && double.IsFinite(loss)
                ? ClosedLoopTheory.JointEigenvalues(ens.Plant, ens.Layout, th, ens.Options.Leak)
                : [];
            double rho = ev.Length > 0 ? ev[0].Magnitude : double.NaN;
            var (k1, k2) = ens.Plant.IsSiso && double.IsFinite(control)
                ? ClosedLoopTheory.FeedbackGains(ens.Plant, ens.Task, ens.Options.Activation, ens.Layout, th, T, ens.Options.Leak)
                : (double.NaN, double.NaN);
            Overlaps? o = ens.Options.RankOne ? ClosedLoopTheory.RankOneOverlaps(ens.Layout, th) : null;
            double angle = conflictShortHorizon > 0 && conflictShortHorizon < T && double.IsFinite(control) && !ens.IsOpenLoop
                ? ClosedLoopTheory.GradientConflictAngle(ens, i, conflictShortHorizon, T)
                : double.NaN;
            rec[i] = new StepRecord(mode, i, ens.StepCount, loss, control, rho, ev.Take(KeptEigenvalues).ToArray(), k1, k2, o, angle);
        });
        return rec;
    }

    /// <summary>Per-step metrics CSV: mode, agent, step, loss, control_loss, rho, k1, k2, the four overlaps, conflict_deg, lambda3, zigzag.</summary>
    public static string MetricsCsv(IEnumerable<StepRecord> records)
    {
        ArgumentNullException.ThrowIfNull(records);
        var sb = new StringBuilder("mode,agent,step,loss,control_loss,rho,k1,k2,sigma_zm,sigma_zu,sigma_vm,sigma_vu,conflict_deg,lambda3,zigzag\n");
        foreach (var r in records)
        {
            var o = r.Overlaps;
            sb.Append(CultureInfo.InvariantCulture, $"{r.Mode},{r.Agent},{r.Step},{F(r.Loss)},{F(r.ControlLoss)},{F(r.Rho)},{F(r.K1)},{F(r.K2)},");
            sb.Append(CultureInfo.InvariantCulture, $"{F(o?.Zm)},{F(o?.Zu)},{F(o?.Vm)},{F(o?.Vu)},{F(r.ConflictDegrees)},{F(r.ThirdEigenvalue)},{F(r.ZigZag)}\n");
        }

        return sb.ToString();
    }

    /// <summary>Eigenvalue CSV: mode, agent, step, index (by modulus), re, im, abs.</summary>
    public static string EigenvaluesCsv(IEnumerable<StepRecord> records)
    {
        ArgumentNullException.ThrowIfNull(records);
        var sb = new StringBuilder("mode,agent,step,index,re,im,abs\n");
        foreach (var r in records)
        {
            for (int k = 0; k < r.Eigenvalues.Length; k++)
            {
                var c = r.Eigenvalues[k];
                sb.Append(CultureInfo.InvariantCulture, $"{r.Mode},{r.Agent},{r.Step},{k},{F(c.Real)},{F(c.Imaginary)},{F(c.Magnitude)}\n");
            }
        }

        return sb.ToString();
    }

    private static string F(double? v) => v is { } x ? x.ToString("R", CultureInfo.InvariantCulture) : "";
}
