namespace Engine.Distances;

/// <summary>The Procrustes-over-vector-fields step of DSA: min over orthogonal C of ‖A − C B Cᵀ‖_F by Adam on a Cayley parameter.</summary>
/// <remarks>
/// A and B (r × r, row-major) are first scaled to unit Frobenius norm. C = Cayley(S) = (I + S)⁻¹(I − S) with
/// S = (X − Xᵀ)/2 skew-symmetric, X starting at 0 (C = I). Loss f = ‖C B Cᵀ − A‖²_F; with R = C B Cᵀ − A and
/// M = (I + S)⁻¹: ∂f/∂C = 2(R C Bᵀ + Rᵀ C B), ∂f/∂S = −Mᵀ (∂f/∂C) (C + I)ᵀ, ∂f/∂X = (∂f/∂S − ∂f/∂Sᵀ)/2. Adam (β₁ 0.9,
/// β₂ 0.999, ε 1e-8, bias-corrected) runs the given iterations. Cayley maps reach only det C = +1, so the problem is
/// solved a second time with coordinates 0 and 1 of B swapped (B' = P B Pᵀ, det P = −1) and the lower loss kept.
/// Scores of the kept C: euclidean ‖A − C B Cᵀ‖_F and angular arccos⟨A, C B Cᵀ⟩ (both unit norm). This class prepares the
/// problems; the iterations run in the backend's distance kernels (<see cref="Engine.Backends.IDistanceKernels.AlignDsa"/>):
/// float64 scalar code on the reference, 16 (or 8) problems per float32 SIMD vector on the CPU, a thread per problem on ILGPU.
/// </remarks>
public static class DsaAlignment
{
    /// <summary>A / ‖A‖_F; throws for a zero operator.</summary>
    internal static double[] Normalized(ReadOnlySpan<double> a, string name)
    {
        double norm = 0;
        foreach (double x in a)
        {
            norm += x * x;
        }

        norm = Math.Sqrt(norm);
        if (!(norm > 0) || !double.IsFinite(norm))
        {
            throw new ArgumentException($"Operator {name} has norm {norm}: DSA needs a non-zero finite operator.", name);
        }

        var y = new double[a.Length];
        for (int k = 0; k < a.Length; k++)
        {
            y[k] = a[k] / norm;
        }

        return y;
    }

    /// <summary>P B Pᵀ with P swapping coordinates 0 and 1; with <paramref name="columnsOnly"/>, B P (columns 0 and 1 swapped).</summary>
    internal static double[] Swapped(double[] b, int r, bool columnsOnly = false)
    {
        var perm = Enumerable.Range(0, r).ToArray();
        (perm[0], perm[1]) = (1, 0);
        var s = new double[r * r];
        for (int i = 0; i < r; i++)
        {
            for (int j = 0; j < r; j++)
            {
                s[i * r + j] = b[(columnsOnly ? i : perm[i]) * r + perm[j]];
            }
        }

        return s;
    }
}
