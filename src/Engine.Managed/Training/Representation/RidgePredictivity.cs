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
    public static double GradientOfMean(ReadOnlySpan<double> zc, int n, int width, ReadOnlySpan<double> normalizedSum, int count, Span<double> gradient)
    {
        gradient.Clear();
        if (count == 0)
        {
            return double.NaN;
        }

        var lbar = new double[n * n];
        TensorPrimitives.Multiply(normalizedSum, 1.0 / count, lbar);
        var g = TransposeTimes(zc, zc, n, width);
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

        var m = g;
        var y = Times(lbar, n, n, zc, width);          // Y = L̄ Z, n × N
        var b = TransposeTimes(zc, y, n, width);        // B = Zᵀ L̄ Z, N × N
        var mb = Times(m, width, width, b, width);      // M B
        var mbm = Times(mb, width, width, m, width);    // M B M
        double rho = Trace(mb, width), trM2B = TensorPrimitives.Dot<double>(m, Backends.FaqSolver.Transpose(mb, width)); // tr(M (M B)) = ⟨M, (MB)ᵀ⟩
        var ym = Times(y, n, width, m, width);
        var zmbm = Times(zc, n, width, mbm, width);
        double own = -2.0 * RelativeRidge / width * trM2B;
        for (int i = 0; i < gradient.Length; i++)
        {
            gradient[i] = 2.0 * ym[i] - 2.0 * zmbm[i] + own * zc[i];
        }

        return rho;
    }

    /// <summary>C = A B for A [rows][inner] and B [inner][cols].</summary>
    private static double[] Times(ReadOnlySpan<double> a, int rows, int inner, ReadOnlySpan<double> b, int cols)
        => SmallGemm.Multiply(a, false, rows, inner, b, cols);

    /// <summary>C = Aᵀ B for A [rows][width] and B [rows][width] (C is width × width).</summary>
    private static double[] TransposeTimes(ReadOnlySpan<double> a, ReadOnlySpan<double> b, int rows, int width)
        => SmallGemm.Multiply(a, true, width, rows, b, width);

    private static double Trace(ReadOnlySpan<double> a, int n)
    {
        double t = 0;
        for (int i = 0; i < n; i++)
        {
            t += a[i * n + i];
        }

        return t;
    }
}
