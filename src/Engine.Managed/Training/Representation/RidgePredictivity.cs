using System.Numerics.Tensors;
using Engine.Numerics;

namespace Engine.Training.Representation;

/// <summary>
/// How well a ridge readout of a new network's states predicts earlier networks' states, and its gradient with respect
/// to the new network's states (float64): the diversity term of Qian &amp; Pehlevan (SEEDS §4), earlier-from-new.
/// </summary>
/// <remarks>
/// Z (n × N, the new network) is the regressor and each earlier A_j (n × N_j) a frozen target, both column-centred;
/// λ = 10⁻³ tr(ZᵀZ)/N and M = (ZᵀZ + λI)⁻¹. The ridge fit's residual is f_j = ‖A_j‖² − tr(A_jᵀ Z M Zᵀ A_j), so
/// ρ_j = 1 − f_j/‖A_j‖² = tr(M Zᵀ L_j Z)/tr(L_j) with L_j = A_j A_jᵀ. The term is the mean over the J earlier networks,
/// ρ̄ = tr(M B) with L̄ = (1/J) Σ_j L_j/tr(L_j) and B = Zᵀ L̄ Z; with Y = L̄ Z,
/// ∇_Z ρ̄ = 2 Y M − 2 Z (M B M) − (2·10⁻³/N) tr(M² B) Z (the last part is λ's own dependence on Z). An earlier network
/// enters only through its Gram L_j, so a network costs O(J n² + n² N + n N² + N³) whatever the earlier widths.
/// </remarks>
public static class RidgePredictivity
{
    /// <summary>The ridge λ relative to tr(ZᵀZ)/N.</summary>
    public const double RelativeRidge = 1e-3;

    /// <summary>
    /// The mean ρ̄ over the earlier networks' centred Grams <paramref name="earlier"/> [n][n] and ∇_Z ρ̄ [n][width], for
    /// the centred <paramref name="zc"/> [n][width]; NaN (and a zero gradient) with no earlier Gram or a degenerate Z.
    /// </summary>
    public static double Gradient(ReadOnlySpan<double> zc, int n, int width, IReadOnlyList<double[]> earlier, Span<double> gradient)
    {
        var sum = new double[n * n];
        foreach (var l in earlier)
        {
            AddNormalized(l, n, sum);
        }

        return GradientOfMean(zc, n, width, sum, earlier.Count, gradient);
    }

    /// <summary>Adds L/tr(L) to <paramref name="sum"/> [n][n] (the running sum of normalised earlier Grams).</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    public static void AddNormalized(ReadOnlySpan<double> l, int n, Span<double> sum)
    {
        double tl = 0;
        for (int i = 0; i < n; i++)
        {
            tl += l[i * n + i];
        }

        TensorPrimitives.MultiplyAdd(l, 1.0 / tl, sum, sum);
    }

    /// <summary>
    /// ρ̄ and ∇_Z ρ̄ from the sum of the <paramref name="count"/> earlier networks' normalised Grams Σ_j L_j/tr(L_j)
    /// (<see cref="AddNormalized"/>): what <see cref="Gradient"/> computes, for callers that keep running sums.
    /// </summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    public static double GradientOfMean(ReadOnlySpan<double> zc, int n, int width, ReadOnlySpan<double> normalizedSum, int count, Span<double> gradient)
    {
        gradient.Clear();
        if (count == 0)
        {
            return double.NaN;
        }

        // Temporaries from the pool: n × n and n × N float64 blocks are large-object-heap sized at the default sizes.
        var pool = System.Buffers.ArrayPool<double>.Shared;
        var rented = new List<double[]>();
        Span<double> Take(int length)
        {
            var a = pool.Rent(length);
            rented.Add(a);
            return a.AsSpan(0, length);
        }

        try
        {
            int nn = n * n, ww = width * width, nw = n * width;
            var lbar = Take(nn);
            TensorPrimitives.Multiply(normalizedSum, 1.0 / count, lbar);
            var gArray = pool.Rent(ww);
            rented.Add(gArray);
            var g = gArray.AsSpan(0, ww);
            SmallGemm.Multiply(zc, true, width, n, zc, width, g);
            double traceG = 0;
            for (int i = 0; i < width; i++)
            {
                traceG += g[i * width + i];
            }

            if (!(traceG > 0) || !double.IsFinite(traceG))
            {
                return double.NaN;
            }

            double lambda = RelativeRidge * traceG / width;
            for (int i = 0; i < width; i++)
            {
                g[i * width + i] += lambda;
            }

            if (!Cholesky.Invert(g, width))
            {
                return double.NaN;
            }

            ReadOnlySpan<double> m = g;
            var y = Take(nw);
            SmallGemm.Multiply(lbar, false, n, n, zc, width, y);          // Y = L̄ Z, n × N
            var b = Take(ww);
            SmallGemm.Multiply(zc, true, width, n, y, width, b);           // B = Zᵀ L̄ Z, N × N
            var mb = Take(ww);
            SmallGemm.Multiply(m, false, width, width, b, width, mb);      // M B
            var mbm = Take(ww);
            SmallGemm.Multiply(mb, false, width, width, m, width, mbm);    // M B M
            double rho = 0, trM2B = 0;
            for (int i = 0; i < width; i++)
            {
                rho += mb[i * width + i];
                for (int q = 0; q < width; q++)
                {
                    trM2B += m[i * width + q] * mb[q * width + i];         // tr(M (M B))
                }
            }

            var ym = Take(nw);
            SmallGemm.Multiply(y, false, n, width, m, width, ym);
            var zmbm = Take(nw);
            SmallGemm.Multiply(zc, false, n, width, mbm, width, zmbm);
            double own = -2.0 * RelativeRidge / width * trM2B;
            for (int i = 0; i < gradient.Length; i++)
            {
                gradient[i] = 2.0 * ym[i] - 2.0 * zmbm[i] + own * zc[i];
            }

            return rho;
        }
        finally
        {
            foreach (var a in rented)
            {
                pool.Return(a);
            }
        }
    }
}
