namespace Engine.Numerics;

/// <summary>Cholesky factorisation and inverse of a symmetric positive-definite matrix, float64, in place.</summary>
public static class Cholesky
{
    /// <summary>Overwrites the lower triangle of <paramref name="a"/> [n][n] with L (A = L Lᵀ); returns false when A is not positive definite.</summary>
    public static bool Factor(Span<double> a, int n)
    {
        for (int j = 0; j < n; j++)
        {
            double d = a[j * n + j];
            for (int k = 0; k < j; k++)
            {
                d -= a[j * n + k] * a[j * n + k];
            }

            if (!(d > 0))
            {
                return false;
            }

            double l = Math.Sqrt(d);
            a[j * n + j] = l;
            for (int i = j + 1; i < n; i++)
            {
                double s = a[i * n + j];
                for (int k = 0; k < j; k++)
                {
                    s -= a[i * n + k] * a[j * n + k];
                }

                a[i * n + j] = s / l;
            }
        }

        return true;
    }

    /// <summary>Overwrites SPD <paramref name="a"/> [n][n] with A⁻¹ (full, symmetric); returns false when A is not positive definite.</summary>
    public static bool Invert(Span<double> a, int n)
    {
        if (!Factor(a, n))
        {
            return false;
        }

        // L⁻¹ in the lower triangle (forward substitution column by column), then A⁻¹ = L⁻ᵀ L⁻¹.
        var inv = new double[n * n];
        for (int j = 0; j < n; j++)
        {
            inv[j * n + j] = 1.0 / a[j * n + j];
            for (int i = j + 1; i < n; i++)
            {
                double s = 0;
                for (int k = j; k < i; k++)
                {
                    s -= a[i * n + k] * inv[k * n + j];
                }

                inv[i * n + j] = s / a[i * n + i];
            }
        }

        for (int i = 0; i < n; i++)
        {
            for (int j = 0; j <= i; j++)
            {
                double s = 0;
                for (int k = i; k < n; k++)
                {
                    s += inv[k * n + i] * inv[k * n + j];
                }

                a[i * n + j] = s;
                a[j * n + i] = s;
            }
        }

        return true;
    }
}
