using Engine.Model;

namespace Engine.Training;

/// <summary>Gradients of the weight regularisers on W, added on the host in float64.</summary>
/// <remarks>
/// R(W) = λ₁ Σ|W_ij| + λ₂ Σ W_ij² + λ_* Σ σ_i(W); ∂R/∂W = λ₁ sign(W) + 2λ₂ W + λ_* U Vᵀ, where W = U Σ Vᵀ is the
/// float64 SVD (MathNet). At W_ij = 0 the ℓ1 subgradient is 0. Networks are processed in parallel, each on its own.
/// </remarks>
public static class WeightRegularizer
{
    /// <summary>Adds ∂R/∂W to the W block of every active network's gradient; returns R per network in <paramref name="penalty"/>.</summary>
    public static void AddGradient(EnsembleSpec spec, TrainingOptions options, ReadOnlySpan<float> parameters, Span<float> gradient,
        ReadOnlySpan<byte> active, Span<double> penalty)
    {
        var layout = spec.Layout;
        int n = spec.Hidden;
        var p = parameters.ToArray();
        var g = new float[gradient.Length];
        gradient.CopyTo(g);
        var act = active.ToArray();
        var pen = new double[spec.Networks];
        Parallel.For(0, spec.Networks, e =>
        {
            if (act[e] == 0)
            {
                return;
            }

            double l1 = options.L1Of(e), l2 = options.L2Of(e), nuc = options.NuclearOf(e);
            if (l1 == 0 && l2 == 0 && nuc == 0)
            {
                return;
            }

            var w = layout.WRec(p, e).ToArray();
            var dw = layout.WRec(g, e);
            double r = 0;
            for (int k = 0; k < w.Length; k++)
            {
                double x = w[k];
                dw[k] += (float)(l1 * Math.Sign(x) + 2 * l2 * x);
                r += l1 * Math.Abs(x) + l2 * x * x;
            }

            if (nuc > 0)
            {
                var m = MathNet.Numerics.LinearAlgebra.Matrix<double>.Build.Dense(n, n, (i, j) => w[i * n + j]);
                var svd = m.Svd(computeVectors: true);
                var uvt = svd.U * svd.VT;
                for (int i = 0; i < n; i++)
                {
                    for (int j = 0; j < n; j++)
                    {
                        dw[i * n + j] += (float)(nuc * uvt[i, j]);
                    }
                }

                r += nuc * svd.S.Sum();
            }

            pen[e] = r;
        });
        g.CopyTo(gradient);
        pen.CopyTo(penalty);
    }
}
