using Engine.Kernels;
using Engine.Kernels.FixedPoints;

namespace Engine.Backends.Reference;

/// <summary>The oracle of the Adam search: plain loops in float64, one seed at a time.</summary>
/// <remarks>
/// Per seed and iteration, discrete and leaky cells: z = W h + c (c = U u + b), a = φ(z), r = α (a − h),
/// g = α (Wᵀ (φ′(z) ⊙ r) − r). Rate cell: r = α (W φ(h) + c − h), g = α (φ′(h) ⊙ (Wᵀ r) − r). Both: q = ½‖r‖²;
/// status as in <see cref="FixedPointKernel.Assess"/>; Adam with m̂ = m/(1 − β₁ᵗ), v̂ = v/(1 − β₂ᵗ),
/// h ← h − lr m̂ / (√v̂ + ε). Shapes as in <see cref="FixedPointProblem"/>.
/// </remarks>
public sealed class ReferenceFixedPointSearch : FixedPointSearch
{
    private FixedPointProblem _p = null!;
    private AdamSearchOptions _o = null!;
    private double[] _w = [], _c = [], _h = [], _m = [], _v = [], _q = [];
    private int[] _status = [], _iterations = [];

    /// <inheritdoc />
    public override string Name => "reference";

    /// <inheritdoc />
    protected override void Load(FixedPointProblem problem, AdamSearchOptions options)
    {
        _p = problem;
        _o = options;
        var spec = problem.Spec;
        int e = spec.Networks, s = problem.SeedsPerNetwork, n = spec.Hidden;
        _w = new double[e * n * n];
        for (int net = 0; net < e; net++)
        {
            var w = spec.Layout.WRec(problem.Parameters, net);
            for (int k = 0; k < n * n; k++)
            {
                _w[net * n * n + k] = w[k];
            }
        }

        _c = problem.Drive();
        _h = problem.Seeds.Select(x => (double)x).ToArray();
        _m = new double[_h.Length];
        _v = new double[_h.Length];
        _q = new double[e * s];
        _status = new int[e * s];
        _iterations = new int[e * s];
    }

    /// <inheritdoc />
    protected override void Iterate(int first, int count, ReadOnlySpan<double> learningRates)
    {
        var spec = _p.Spec;
        int e = spec.Networks, s = _p.SeedsPerNetwork, n = spec.Hidden;
        int act = (int)spec.Activation;
        double alpha = spec.EffectiveAlpha;
        bool rate = spec.Cell == Model.CellType.Rate;
        var r = new double[n];
        var d = new double[n];
        var phi = new double[n];
        for (int it = first; it < first + count; it++)
        {
            for (int net = 0; net < e; net++)
            {
                var coefficients = AdamMath.Coefficients64(learningRates[net], it + 1, 1.0, _o.Epsilon);
                for (int seed = 0; seed < s; seed++)
                {
                    int row = net * s + seed;
                    if (_status[row] != SearchStatusCode.Active)
                    {
                        continue;
                    }

                    var h = _h.AsSpan(row * n, n);
                    var w = _w.AsSpan(net * n * n, n * n);
                    double q = 0;
                    for (int j = 0; j < n; j++)
                    {
                        phi[j] = rate ? ActivationCode.Apply(act, h[j]) : h[j];
                    }

                    for (int i = 0; i < n; i++)
                    {
                        double z = _c[net * n + i];
                        for (int j = 0; j < n; j++)
                        {
                            z += w[i * n + j] * phi[j];
                        }

                        double a = rate ? z : ActivationCode.Apply(act, z);
                        r[i] = alpha * (a - h[i]);
                        d[i] = rate ? r[i] : ActivationCode.DerivativeFromOutput(act, a) * r[i];
                        q += 0.5 * r[i] * r[i];
                    }

                    _q[row] = q;
                    if (!double.IsFinite(q))
                    {
                        (_status[row], _iterations[row]) = (SearchStatusCode.NonFinite, it);
                        continue;
                    }

                    if (q < _o.Tolerance)
                    {
                        (_status[row], _iterations[row]) = (SearchStatusCode.Converged, it);
                        continue;
                    }

                    if (it >= _o.MaxIterations)
                    {
                        (_status[row], _iterations[row]) = (SearchStatusCode.MaxIterations, it);
                        continue;
                    }

                    for (int j = 0; j < n; j++)
                    {
                        double g = 0;
                        for (int i = 0; i < n; i++)
                        {
                            g += w[i * n + j] * d[i];
                        }

                        double slope = rate ? ActivationCode.DerivativeFromOutput(act, phi[j]) : 1.0;
                        g = alpha * (slope * g - r[j]);
                        int k = row * n + j;
                        AdamMath.Update(ref h[j], ref _m[k], ref _v[k], g, coefficients);
                    }
                }
            }
        }
    }

    /// <inheritdoc />
    protected override void ReadProgress(Span<float> q, Span<int> status, Span<int> iterations)
    {
        for (int k = 0; k < _q.Length; k++)
        {
            q[k] = (float)_q[k];
        }

        _status.CopyTo(status);
        _iterations.CopyTo(iterations);
    }

    /// <inheritdoc />
    protected override void ReadStates(Span<float> states)
    {
        for (int k = 0; k < _h.Length; k++)
        {
            states[k] = (float)_h[k];
        }
    }
}
