using Engine.Model;
using Engine.Util;

namespace Engine.Training;

/// <summary>Penalties on the recurrent weights W and their gradients, in float64 on the host.</summary>
/// <remarks>
/// R(W) = λ₁ Σ|W_ij| + λ₂ Σ W_ij² + λ_* Σ σ_i(W); ∂R/∂W = λ₁ sign(W) + 2λ₂ W + λ_* U Vᵀ, where W = U Σ Vᵀ is the
/// float64 SVD (MathNet). At W_ij = 0 the ℓ1 subgradient is 0. Networks are processed in parallel, each on its own.
/// </remarks>
public static class WeightRegularizer
{
    /// <summary>R(W) for one N×N matrix (row-major).</summary>
    public static double Penalty(ReadOnlySpan<double> w, int n, double l1, double l2, double nuclear)
    {
        double r = 0;
        foreach (double x in w)
        {
            r += l1 * Math.Abs(x) + l2 * x * x;
        }

        if (nuclear > 0)
        {
            r += nuclear * Svd(w, n).S.Sum();
        }

        return r;
    }

    /// <summary>Adds ∂R/∂W of one N×N matrix to <paramref name="dw"/>.</summary>
    public static void AddGradient(ReadOnlySpan<double> w, int n, double l1, double l2, double nuclear, Span<double> dw)
    {
        for (int k = 0; k < w.Length; k++)
        {
            dw[k] += l1 * Math.Sign(w[k]) + 2 * l2 * w[k];
        }

        if (nuclear > 0)
        {
            var svd = Svd(w, n);
            var uvt = svd.U * svd.VT;
            for (int i = 0; i < n; i++)
            {
                for (int j = 0; j < n; j++)
                {
                    dw[i * n + j] += nuclear * uvt[i, j];
                }
            }
        }
    }

    /// <summary>Adds ∂R/∂W to the W block of every active network's float32 gradient [E][P].</summary>
    public static void AddGradient(EnsembleSpec spec, TrainingOptions options, ReadOnlySpan<float> parameters, Span<float> gradient, ReadOnlySpan<byte> active, int threads = 0)
    {
        var layout = spec.Layout;
        int n = spec.Hidden;
        var p = parameters.ToArray();
        var g = gradient.ToArray();
        var act = active.ToArray();
        Parallelism.For(spec.Networks, threads, e =>
        {
            double l1 = options.L1Of(e), l2 = options.L2Of(e), nuc = options.NuclearOf(e);
            if (act[e] == 0 || (l1 == 0 && l2 == 0 && nuc == 0))
            {
                return;
            }

            var w = Widen(layout.WRec(p, e));
            var dw = new double[w.Length];
            AddGradient(w, n, l1, l2, nuc, dw);
            var dst = layout.WRec(g, e);
            for (int k = 0; k < dw.Length; k++)
            {
                dst[k] += (float)dw[k];
            }
        });
        g.CopyTo(gradient);
    }

    private static double[] Widen(ReadOnlySpan<float> a)
    {
        var d = new double[a.Length];
        for (int i = 0; i < a.Length; i++)
        {
            d[i] = a[i];
        }

        return d;
    }

    private static MathNet.Numerics.LinearAlgebra.Factorization.Svd<double> Svd(ReadOnlySpan<double> w, int n)
    {
        var m = MathNet.Numerics.LinearAlgebra.Matrix<double>.Build.Dense(n, n);
        for (int i = 0; i < n; i++)
        {
            for (int j = 0; j < n; j++)
            {
                m[i, j] = w[i * n + j];
            }
        }

        return m.Svd(computeVectors: true);
    }
}
