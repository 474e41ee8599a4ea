using Engine.Model;

namespace Engine.Backends.Reference;

/// <summary>The plain float64 reference behind the backend interface: slow, obviously right, the oracle.</summary>
public sealed class ReferenceBackend : IEnsembleBackend
{
    /// <inheritdoc />
    public string Name => "reference";

    /// <inheritdoc />
    public string Device => $"CPU reference (float64 loops, 1 thread)";

    /// <inheritdoc />
    public int Threads => 1;

    /// <inheritdoc />
    public bool ApproximateMath => false;

    /// <inheritdoc />
    public bool IsHostCpu => true;

    /// <inheritdoc />
    public IEnsembleRunner CreateRunner(EnsembleSpec spec) => new ReferenceRunner(spec);

    /// <inheritdoc />
    public IDistanceKernels Distances { get; } = new ReferenceDistanceKernels();

    /// <inheritdoc />
    public IClosedLoopAgents CreateClosedLoopAgents(ClosedLoopProblem problem) => new ReferenceClosedLoopAgents(problem);

    /// <inheritdoc />
    public IFixedPointSearch CreateFixedPointSearch() => new ReferenceFixedPointSearch();

    /// <inheritdoc />
    public void Dispose()
    {
    }
}

/// <summary>Runs each network through <see cref="ReferenceRnn"/> in float64 and rounds results to float32.</summary>
internal sealed class ReferenceRunner(EnsembleSpec spec) : HostRunner(spec)
{
    public override void Forward(TrialBatch batch, Span<float> outputs, Span<float> states)
    {
        CheckForward(batch, outputs.Length, states.Length);
        int b = batch.Trials, t = batch.Steps, n = Spec.Hidden, no = Spec.Outputs;
        var ys = new double[b * t * no];
        var hs = new double[b * t * n];
        for (int e = 0; e < Spec.Networks; e++)
        {
            var (p, x, _, _, xi) = Slices(batch, e);
            ReferenceRnn.Forward(Spec, p, b, t, x, xi, hs, ys);
            Narrow(ys, outputs.Slice(e * ys.Length, ys.Length));
            if (!states.IsEmpty)
            {
                Narrow(hs, states.Slice(e * hs.Length, hs.Length));
            }
        }
    }

    public override void ComputeGradients(TrialBatch batch, ReadOnlySpan<byte> active, Span<float> loss, Span<float> gradientNormSquared)
    {
        CheckGradients(batch, active.Length, loss.Length, gradientNormSquared.Length);
        int stride = Layout.Stride;
        var grad = new double[stride];
        for (int e = 0; e < Spec.Networks; e++)
        {
            var dst = Gradient.AsSpan(e * stride, stride);
            if (active[e] == 0)
            {
                dst.Clear();
                loss[e] = 0f;
                gradientNormSquared[e] = 0f;
                continue;
            }

            var (p, x, y, m, xi) = Slices(batch, e);
            loss[e] = (float)ReferenceRnn.LossAndGradient(Spec, p, batch.Trials, batch.Steps, x, y, m, xi, grad, ActivityStrength[e], StateGradient(p, batch, x, xi, e));
            double norm = 0;
            for (int k = 0; k < stride; k++)
            {
                dst[k] = (float)grad[k];
                norm += grad[k] * grad[k];
            }

            gradientNormSquared[e] = (float)norm;
        }
    }

    /// <summary>dTerm/dh of the state loss for network e's probe trials [P][T][N] (empty without one, or when it is off for e).</summary>
    private double[] StateGradient(double[] p, TrialBatch batch, double[] x, double[] xi, int e)
    {
        if (StateLoss is not { } term)
        {
            return [];
        }

        int probe = term.ProbeTrials, steps = batch.Steps, n = Spec.Hidden;
        var hs = new double[batch.Trials * steps * n];
        ReferenceRnn.Forward(Spec, p, batch.Trials, steps, x, xi, hs, default);
        var h = new float[probe * steps * n];
        Narrow(hs.AsSpan(0, h.Length), h);
        var g = new float[h.Length];
        return term.Gradient(e, h, g) ? Widen(g) : [];
    }

    private (double[] P, double[] X, double[] Y, double[] M, double[] Xi) Slices(TrialBatch batch, int e)
    {
        int s = batch.SetOf(e);
        int bt = batch.Trials * batch.Steps;
        int stride = Layout.Stride;
        int noise = Spec.NoiseStd > 0f ? bt * Spec.Hidden : 0;
        return (
            Widen(Parameters.AsSpan(e * stride, stride)),
            Widen(batch.Inputs.AsSpan(s * bt * Spec.Inputs, bt * Spec.Inputs)),
            Widen(batch.Targets.AsSpan(s * bt * Spec.Outputs, bt * Spec.Outputs)),
            Widen(batch.Mask.AsSpan(s * bt * Spec.Outputs, bt * Spec.Outputs)),
            Widen(batch.Noise.AsSpan(e * noise, noise)));
    }

    private static double[] Widen(ReadOnlySpan<float> src)
    {
        var dst = new double[src.Length];
        for (int i = 0; i < src.Length; i++)
        {
            dst[i] = src[i];
        }

        return dst;
    }

    private static void Narrow(ReadOnlySpan<double> src, Span<float> dst)
    {
        for (int i = 0; i < src.Length; i++)
        {
            dst[i] = (float)src[i];
        }
    }
}
