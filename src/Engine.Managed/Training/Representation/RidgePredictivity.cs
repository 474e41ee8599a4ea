using System.Numerics.Tensors;
using Engine.Numerics;

namespace Engine.Training.Representation;

/// <summary>
/// How well a ridge readout of a new network's states predicts earlier networks' states, and its gradient with respect
/// to the new network's states, in sample space (float64): the diversity term of Qian &amp; Pehlevan (SEEDS §4),
/// earlier-from-new.
/// </summary>
/// <remarks>
/// Z (n × N, the new network) is the regressor and each earlier A_j (n × N_j) a frozen target, both column-centred;
/// λ = 10⁻³ tr(ZᵀZ)/N. For W* = (ZᵀZ + λI)⁻¹ZᵀA the ridge objective is f = ‖A − ZW*‖² + λ‖W*‖², and by the push-through
/// identity f = λ tr(M L) with K = Z Zᵀ, M = (K + λI)⁻¹, L = A Aᵀ; ρ = 1 − f/‖A‖² = 1 − λ tr(M L)/tr(L). The term is the
/// mean ρ̄ over the earlier networks; with L̄ = (1/J) Σ_j L_j/tr(L_j) and S = M L̄ M,
/// ∇_Z ρ̄ = 2λ S Z − (2·10⁻³/N) (tr(M L̄) − λ tr(M² L̄)) Z (the second part is λ's own dependence on Z). Everything is
/// n × n, so a pair costs O(n²) once the Grams are formed: the earlier networks enter only through their Grams.
/// </remarks>
public static class RidgePredictivity
{
    /// <summary>The ridge λ relative to tr(ZᵀZ)/N.</summary>
    public const double RelativeRidge = 1e-3;

    /// <summary>
    /// ρ_j for every earlier Gram and ∇_Z of their mean; <paramref name="zc"/> [n][width] centred, <paramref name="k"/> its
    /// Gram, <paramref name="earlier"/> the earlier networks' centred Grams [n][n]. Writes <paramref name="rho"/> [J] and the
    /// gradient [n][width]; returns the mean ρ (NaN with no earlier Gram or a degenerate Z, and then a zero gradient).
    /// </summary>
    public static double Gradient(ReadOnlySpan<double> zc, ReadOnlySpan<double> k, int n, int width, IReadOnlyList<double[]> earlier, Span<double> rho, Span<double> gradient)
    {
        gradient.Clear();
        double traceK = Trace(k, n);
        if (earlier.Count == 0 || !(traceK > 0) || !double.IsFinite(traceK))
        {
            rho.Fill(double.NaN);
            return double.NaN;
        }

        double lambda = RelativeRidge * traceK / width;
        var m = k.ToArray();
        for (int i = 0; i < n; i++)
        {
            m[i * n + i] += lambda;
        }

        if (!Cholesky.Invert(m, n))
        {
            rho.Fill(double.NaN);
            return double.NaN;
        }

        var lbar = new double[n * n];
        int count = 0;
        for (int j = 0; j < earlier.Count; j++)
        {
            var l = earlier[j];
            double tl = Trace(l, n);
            rho[j] = 1.0 - lambda * TensorPrimitives.Dot<double>(m, l) / tl; // tr(M L) = ⟨M, L⟩ for symmetric M
            TensorPrimitives.MultiplyAdd(l, 1.0 / tl, lbar, lbar);
            count++;
        }

        TensorPrimitives.Multiply(lbar, 1.0 / count, lbar);
        var ml = Multiply(m, lbar, n);
        var s = Multiply(ml, m, n);
        double trML = Trace(ml, n), trMML = TensorPrimitives.Dot<double>(m, Transpose(ml, n)); // tr(M (M L̄)) = ⟨M, (M L̄)ᵀ⟩
        double own = -2.0 * RelativeRidge / width * (trML - lambda * trMML);
        for (int i = 0; i < n; i++)
        {
            var gi = gradient.Slice(i * width, width);
            for (int j = 0; j < n; j++)
            {
                double c = 2.0 * lambda * s[i * n + j] + (i == j ? own : 0.0);
                if (c != 0.0)
                {
                    TensorPrimitives.MultiplyAdd(zc.Slice(j * width, width), c, gi, gi);
                }
            }
        }

        return 1.0 - lambda * trML;
    }

    private static double Trace(ReadOnlySpan<double> a, int n)
    {
        double t = 0;
        for (int i = 0; i < n; i++)
        {
            t += a[i * n + i];
        }

        return t;
    }

    private static double[] Multiply(double[] a, double[] b, int n)
    {
        var c = new double[n * n];
        for (int i = 0; i < n; i++)
        {
            var ci = c.AsSpan(i * n, n);
            for (int k = 0; k < n; k++)
            {
                double v = a[i * n + k];
                if (v != 0.0)
                {
                    TensorPrimitives.MultiplyAdd(b.AsSpan(k * n, n), v, ci, ci);
                }
            }
        }

        return c;
    }

    private static double[] Transpose(double[] a, int n)
    {
        var t = new double[n * n];
        for (int i = 0; i < n; i++)
        {
            for (int j = 0; j < n; j++)
            {
                t[j * n + i] = a[i * n + j];
            }
        }

        return t;
    }
}
