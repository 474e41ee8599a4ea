using Engine.Kernels;

namespace Engine.Distances;

/// <summary>The Procrustes-over-vector-fields step of DSA: min over orthogonal C of ‖A − C B Cᵀ‖_F by Adam on a Cayley parameter.</summary>
/// <remarks>
/// A and B (r × r, row-major) are first scaled to unit Frobenius norm. C = Cayley(S) = (I + S)⁻¹(I − S) with
/// S = (X − Xᵀ)/2 skew-symmetric, X starting at 0 (C = I). Loss f = ‖C B Cᵀ − A‖²_F; with R = C B Cᵀ − A and
/// M = (I + S)⁻¹: ∂f/∂C = 2(R C Bᵀ + Rᵀ C B), ∂f/∂S = −Mᵀ (∂f/∂C) (C + I)ᵀ, ∂f/∂X = (∂f/∂S − ∂f/∂Sᵀ)/2. Adam (β₁ 0.9,
/// β₂ 0.999, ε 1e-8, bias-corrected) runs the given iterations. Cayley maps reach only det C = +1, so the problem is
/// solved a second time with coordinates 0 and 1 of B swapped (B' = P B Pᵀ, det P = −1) and the lower loss kept.
/// Scores of the kept C: euclidean ‖A − C B Cᵀ‖_F and angular arccos⟨A, C B Cᵀ⟩ (both unit norm).
/// <see cref="Reference"/> solves one pair in float64 scalar code; the fast path (<see cref="DsaBatch{TS, TV}"/>) runs 16 (or
/// 8) problems at once in the lanes of a float32 SIMD vector.
/// </remarks>
public static class DsaAlignment
{
    /// <summary>(euclidean, angular) DSA scores of one pair, float64 oracle.</summary>
    public static (double Euclidean, double Angular) Reference(ReadOnlySpan<double> a, ReadOnlySpan<double> b, int r, int iterations, double learningRate)
    {
        var an = Normalized(a, "A");
        var bn = Normalized(b, "B");
        var first = Solve(an, bn, r, iterations, learningRate);
        if (r < 2)
        {
            return first;
        }

        var second = Solve(an, Swapped(bn, r), r, iterations, learningRate);
        return second.Euclidean < first.Euclidean ? second : first;
    }

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

    /// <summary>P B Pᵀ with P swapping coordinates 0 and 1.</summary>
    internal static double[] Swapped(double[] b, int r)
    {
        var perm = Enumerable.Range(0, r).ToArray();
        (perm[0], perm[1]) = (1, 0);
        var s = new double[r * r];
        for (int i = 0; i < r; i++)
        {
            for (int j = 0; j < r; j++)
            {
                s[i * r + j] = b[perm[i] * r + perm[j]];
            }
        }

        return s;
    }

    private static (double Euclidean, double Angular) Solve(double[] a, double[] b, int r, int iterations, double lr)
    {
        int rr = r * r;
        var x = new double[rr];
        var m = new double[rr];
        var v = new double[rr];
        var c = new double[rr];
        var inv = new double[rr];
        var cb = new double[rr];
        var res = new double[rr];
        var g = new double[rr];
        for (int it = 1; it <= iterations; it++)
        {
            Cayley(x, r, c, inv);
            Residual(a, b, c, r, cb, res);
            // G = 2 (R C Bᵀ + Rᵀ C B)
            for (int i = 0; i < r; i++)
            {
                for (int j = 0; j < r; j++)
                {
                    double sum = 0;
                    for (int k = 0; k < r; k++)
                    {
                        double rc = 0;
                        for (int l = 0; l < r; l++)
                        {
                            rc += res[i * r + l] * c[l * r + k];
                        }

                        sum += rc * b[j * r + k] + res[k * r + i] * cb[k * r + j];
                    }

                    g[i * r + j] = 2 * sum;
                }
            }

            // ∂f/∂S = −Mᵀ G (C + I)ᵀ, then ∂f/∂X = (∂f/∂S − ∂f/∂Sᵀ)/2
            var gs = new double[rr];
            for (int i = 0; i < r; i++)
            {
                for (int j = 0; j < r; j++)
                {
                    double sum = 0;
                    for (int k = 0; k < r; k++)
                    {
                        double mg = 0;
                        for (int l = 0; l < r; l++)
                        {
                            mg += inv[l * r + i] * g[l * r + k];
                        }

                        sum += mg * (c[j * r + k] + (j == k ? 1 : 0));
                    }

                    gs[i * r + j] = -sum;
                }
            }

            var coefficients = AdamMath.Coefficients64(lr, it);
            for (int i = 0; i < r; i++)
            {
                for (int j = 0; j < r; j++)
                {
                    double gx = 0.5 * (gs[i * r + j] - gs[j * r + i]);
                    int k = i * r + j;
                    AdamMath.Update(ref x[k], ref m[k], ref v[k], gx, coefficients);
                }
            }
        }

        Cayley(x, r, c, inv);
        Residual(a, b, c, r, cb, res);
        double loss = 0, inner = 0;
        for (int k = 0; k < rr; k++)
        {
            loss += res[k] * res[k];
            inner += a[k] * (res[k] + a[k]);
        }

        return (Math.Sqrt(loss), Cka.Angle(inner));
    }

    /// <summary>C = (I + S)⁻¹(I − S) and M = (I + S)⁻¹ for S = (X − Xᵀ)/2 (Gauss–Jordan; I + S never needs pivoting).</summary>
    private static void Cayley(double[] x, int r, double[] c, double[] inv)
    {
        var p = new double[r * r];
        for (int i = 0; i < r; i++)
        {
            for (int j = 0; j < r; j++)
            {
                double s = 0.5 * (x[i * r + j] - x[j * r + i]);
                p[i * r + j] = (i == j ? 1 : 0) + s;
                inv[i * r + j] = i == j ? 1 : 0;
            }
        }

        for (int k = 0; k < r; k++)
        {
            double piv = 1 / p[k * r + k];
            for (int j = 0; j < r; j++)
            {
                p[k * r + j] *= piv;
                inv[k * r + j] *= piv;
            }

            for (int i = 0; i < r; i++)
            {
                if (i == k)
                {
                    continue;
                }

                double f = p[i * r + k];
                for (int j = 0; j < r; j++)
                {
                    p[i * r + j] -= f * p[k * r + j];
                    inv[i * r + j] -= f * inv[k * r + j];
                }
            }
        }

        // C = M (I − S) = 2M − I·… : (I − S) = 2I − (I + S), so C = 2M − I.
        for (int i = 0; i < r; i++)
        {
            for (int j = 0; j < r; j++)
            {
                c[i * r + j] = 2 * inv[i * r + j] - (i == j ? 1 : 0);
            }
        }
    }

    /// <summary>cb = C B and res = C B Cᵀ − A.</summary>
    private static void Residual(double[] a, double[] b, double[] c, int r, double[] cb, double[] res)
    {
        for (int i = 0; i < r; i++)
        {
            for (int j = 0; j < r; j++)
            {
                double sum = 0;
                for (int k = 0; k < r; k++)
                {
                    sum += c[i * r + k] * b[k * r + j];
                }

                cb[i * r + j] = sum;
            }
        }

        for (int i = 0; i < r; i++)
        {
            for (int j = 0; j < r; j++)
            {
                double sum = 0;
                for (int k = 0; k < r; k++)
                {
                    sum += cb[i * r + k] * c[j * r + k];
                }

                res[i * r + j] = sum - a[i * r + j];
            }
        }
    }
}
