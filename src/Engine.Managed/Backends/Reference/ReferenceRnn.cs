using Engine.Kernels;
using Engine.Model;

namespace Engine.Backends.Reference;

/// <summary>
/// The oracle: one network, plain loops, float64. Written for reading; every other backend is checked
/// against it and it is checked against central finite differences.
/// </summary>
/// <remarks>
/// Forward, per trial, discrete and leaky cells: a_t = φ(W h_{t−1} + U x_t + b); h_t = (1 − α) h_{t−1} + α a_t + σ√α ξ_t;
/// y_t = C h_t + d. Rate cell: h_t = (1 − α) h_{t−1} + α (W φ(h_{t−1}) + U x_t + b) + σ√α ξ_t; y_t = C φ(h_t) + d.
/// Loss: L = Σ m (y − ŷ)² / max(1, Σ m), plus, when λ &gt; 0, the activity term λ · mean over (b, t, i) of h_t,i²
/// (which changes the gradient but not the returned MSE).
/// Backward, from t = T down to 1, with g the gradient reaching h_t: g += ∂y_t/∂h_tᵀ e_t (e_t = 2 m (y_t − ŷ_t) / M) +
/// 2λ h_t / (B T N); discrete/leaky: δ_t = α g ⊙ φ′(a_t), dW += δ_t h_{t−1}ᵀ, g ← (1 − α) g + Wᵀ δ_t; rate: δ_t = α g,
/// dW += δ_t φ(h_{t−1})ᵀ, g ← (1 − α) g + φ′(h_{t−1}) ⊙ Wᵀ δ_t; both: dU += δ_t x_tᵀ, db += δ_t; finally dh₀ = g when
/// h₀ is learned. Shapes: x [B][T][I], targets and mask [B][T][O], noise [B][T][N] (or empty), states [B][T][N],
/// outputs [B][T][O].
/// </remarks>
public static class ReferenceRnn
{
    /// <summary>Runs one network on B trials; writes states and outputs (either may be empty).</summary>
    public static void Forward(
        EnsembleSpec spec, ReadOnlySpan<double> p, int trials, int steps,
        ReadOnlySpan<double> inputs, ReadOnlySpan<double> noise, Span<double> states, Span<double> outputs)
    {
        int n = spec.Hidden;
        var acts = new double[trials * steps * n];
        var hs = new double[trials * steps * n];
        Run(spec, p, trials, steps, inputs, noise, hs, acts);
        if (!states.IsEmpty)
        {
            hs.CopyTo(states);
        }

        if (!outputs.IsEmpty)
        {
            Readout(spec, p, hs, outputs);
        }
    }

    /// <summary>
    /// The masked MSE of one network and the gradient of MSE + activity term with respect to every parameter;
    /// <c>activity</c> is λ of the regulariser λ · mean h² (0: none); <c>stateGradient</c>, when not empty, is a further
    /// dL/dh_t of the leading trials ([P][T][N], P ≤ B: a representational loss) added where the activity term is.
    /// </summary>
    public static double LossAndGradient(
        EnsembleSpec spec, ReadOnlySpan<double> p, int trials, int steps,
        ReadOnlySpan<double> inputs, ReadOnlySpan<double> targets, ReadOnlySpan<double> mask,
        ReadOnlySpan<double> noise, Span<double> gradient, double activity = 0, ReadOnlySpan<double> stateGradient = default)
    {
        int n = spec.Hidden, ni = spec.Inputs, no = spec.Outputs;
        var layout = spec.Layout;
        double alpha = spec.EffectiveAlpha;
        bool rate = spec.Cell == CellType.Rate;
        int act = (int)spec.Activation;
        var hs = new double[trials * steps * n];
        var acts = new double[trials * steps * n];
        Run(spec, p, trials, steps, inputs, noise, hs, acts);
        var ys = new double[trials * steps * no];
        Readout(spec, p, hs, ys);

        double maskSum = 0, sse = 0;
        for (int k = 0; k < ys.Length; k++)
        {
            double e = ys[k] - targets[k];
            maskSum += mask[k];
            sse += mask[k] * e * e;
        }

        double denom = Math.Max(1.0, maskSum);
        double activityScale = 2.0 * activity / ((double)trials * steps * n);
        gradient.Clear();
        var w = p.Slice(layout.WRecOffset, n * n);
        var c = p.Slice(layout.WOutOffset, no * n);
        var h0 = InitialState(spec, p);
        var g = new double[n];
        var delta = new double[n];
        var rPrev = new double[n];
        for (int b = 0; b < trials; b++)
        {
            Array.Clear(g);
            for (int t = steps - 1; t >= 0; t--)
            {
                int bt = b * steps + t;
                ReadOnlySpan<double> h = hs.AsSpan(bt * n, n);
                for (int o = 0; o < no; o++)
                {
                    int k = bt * no + o;
                    double e = 2.0 * mask[k] * (ys[k] - targets[k]) / denom;
                    gradient[layout.BOutOffset + o] += e;
                    for (int i = 0; i < n; i++)
                    {
                        // the readout reads h (discrete, leaky) or φ(h) (rate)
                        double read = rate ? ActivationCode.Apply(act, h[i]) : h[i];
                        double slope = rate ? ActivationCode.DerivativeFromOutput(act, read) : 1.0;
                        gradient[layout.WOutOffset + o * n + i] += e * read;
                        g[i] += c[o * n + i] * e * slope;
                    }
                }

                for (int i = 0; i < n; i++)
                {
                    g[i] += activityScale * h[i];
                }

                if (bt * n < stateGradient.Length)
                {
                    for (int i = 0; i < n; i++)
                    {
                        g[i] += stateGradient[bt * n + i];
                    }
                }

                ReadOnlySpan<double> a = acts.AsSpan(bt * n, n);
                ReadOnlySpan<double> hPrev = t > 0 ? hs.AsSpan((bt - 1) * n, n) : h0;
                for (int j = 0; j < n; j++)
                {
                    rPrev[j] = rate ? ActivationCode.Apply(act, hPrev[j]) : hPrev[j];
                }

                ReadOnlySpan<double> x = inputs.Slice(bt * ni, ni);
                for (int i = 0; i < n; i++)
                {
                    delta[i] = alpha * g[i] * (rate ? 1.0 : ActivationCode.DerivativeFromOutput(act, a[i]));
                    gradient[layout.BiasOffset + i] += delta[i];
                    for (int j = 0; j < n; j++)
                    {
                        gradient[layout.WRecOffset + i * n + j] += delta[i] * rPrev[j];
                    }

                    for (int j = 0; j < ni; j++)
                    {
                        gradient[layout.WInOffset + i * ni + j] += delta[i] * x[j];
                    }
                }

                for (int j = 0; j < n; j++)
                {
                    double back = 0;
                    for (int i = 0; i < n; i++)
                    {
                        back += w[i * n + j] * delta[i];
                    }

                    double slope = rate ? ActivationCode.DerivativeFromOutput(act, rPrev[j]) : 1.0;
                    g[j] = (1.0 - alpha) * g[j] + slope * back;
                }
            }

            if (layout.LearnedInitialState)
            {
                for (int j = 0; j < n; j++)
                {
                    gradient[layout.H0Offset + j] += g[j];
                }
            }
        }

        return sse / denom;
    }

    /// <summary>h₀ of one network: the learned vector or zeros.</summary>
    private static ReadOnlySpan<double> InitialState(EnsembleSpec spec, ReadOnlySpan<double> p)
    {
        var layout = spec.Layout;
        return layout.LearnedInitialState ? p.Slice(layout.H0Offset, spec.Hidden) : new double[spec.Hidden];
    }

    private static void Run(
        EnsembleSpec spec, ReadOnlySpan<double> p, int trials, int steps,
        ReadOnlySpan<double> inputs, ReadOnlySpan<double> noise, Span<double> hs, Span<double> acts)
    {
        int n = spec.Hidden, ni = spec.Inputs;
        var layout = spec.Layout;
        double alpha = spec.EffectiveAlpha;
        double noiseScale = spec.NoiseStd * Math.Sqrt(alpha);
        bool rate = spec.Cell == CellType.Rate;
        int act = (int)spec.Activation;
        var w = p.Slice(layout.WRecOffset, n * n);
        var u = p.Slice(layout.WInOffset, n * ni);
        var bias = p.Slice(layout.BiasOffset, n);
        var h0 = InitialState(spec, p);
        var r = new double[n];
        for (int b = 0; b < trials; b++)
        {
            for (int t = 0; t < steps; t++)
            {
                int bt = b * steps + t;
                ReadOnlySpan<double> hPrev = t > 0 ? hs.Slice((bt - 1) * n, n) : h0;
                for (int j = 0; j < n; j++)
                {
                    r[j] = rate ? ActivationCode.Apply(act, hPrev[j]) : hPrev[j];
                }

                ReadOnlySpan<double> x = inputs.Slice(bt * ni, ni);
                for (int i = 0; i < n; i++)
                {
                    double z = bias[i];
                    for (int j = 0; j < n; j++)
                    {
                        z += w[i * n + j] * r[j];
                    }

                    for (int j = 0; j < ni; j++)
                    {
                        z += u[i * ni + j] * x[j];
                    }

                    double a = rate ? z : ActivationCode.Apply(act, z);
                    acts[bt * n + i] = a;
                    double h = (1.0 - alpha) * hPrev[i] + alpha * a;
                    if (noiseScale != 0.0)
                    {
                        h += noiseScale * noise[bt * n + i];
                    }

                    hs[bt * n + i] = h;
                }
            }
        }
    }

    private static void Readout(EnsembleSpec spec, ReadOnlySpan<double> p, ReadOnlySpan<double> hs, Span<double> ys)
    {
        int n = spec.Hidden, no = spec.Outputs;
        var layout = spec.Layout;
        bool rate = spec.Cell == CellType.Rate;
        int act = (int)spec.Activation;
        var c = p.Slice(layout.WOutOffset, no * n);
        var d = p.Slice(layout.BOutOffset, no);
        int rows = hs.Length / n;
        for (int r = 0; r < rows; r++)
        {
            for (int o = 0; o < no; o++)
            {
                double y = d[o];
                for (int i = 0; i < n; i++)
                {
                    double h = hs[r * n + i];
                    y += c[o * n + i] * (rate ? ActivationCode.Apply(act, h) : h);
                }

                ys[r * no + o] = y;
            }
        }
    }
}
