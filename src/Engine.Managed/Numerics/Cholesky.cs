using System.Numerics.Tensors;

namespace Engine.Numerics;

/// <summary>Cholesky factorisation and inverse of a symmetric positive-definite matrix, float64, in place (row-oriented, vectorised).</summary>
public static class Cholesky
{
    /// <summary>Overwrites the lower triangle of <paramref name="a"/> [n][n] with L (A = L Lᵀ); returns false when A is not positive definite.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    public static bool Factor(Span<double> a, int n)
    {
        for (int j = 0; j < n; j++)
        {
            var rowJ = a.Slice(j * n, j);
            double d = a[j * n + j] - TensorPrimitives.Dot<double>(rowJ, rowJ);
            if (!(d > 0))
            {
                return false;
            }

            double l = Math.Sqrt(d);
            a[j * n + j] = l;
            for (int i = j + 1; i < n; i++)
            {
                a[i * n + j] = (a[i * n + j] - TensorPrimitives.Dot<double>(a.Slice(i * n, j), rowJ)) / l;
            }
        }

        return true;
    }

    /// <summary>Overwrites SPD <paramref name="a"/> [n][n] with A⁻¹ (full, symmetric); returns false when A is not positive definite.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    public static bool Invert(Span<double> a, int n)
    {
        if (!Factor(a, n))
        {
            return false;
        }

        // Rows of L⁻¹ by forward substitution, L⁻¹[i,:] = (e_i − Σ_{k<i} L[i,k] L⁻¹[k,:]) / L[i,i]; then A⁻¹ = L⁻ᵀ L⁻¹.
        var pool = System.Buffers.ArrayPool<double>.Shared;
        var invArray = pool.Rent(n * n);
        var tArray = pool.Rent(n * n);
        var inv = invArray.AsSpan(0, n * n);
        var t = tArray.AsSpan(0, n * n);
        inv.Clear();
        for (int i = 0; i < n; i++)
        {
            var row = inv.Slice(i * n, i + 1);
            row[i] = 1.0;
            for (int k = 0; k < i; k++)
            {
                TensorPrimitives.MultiplyAdd(inv.Slice(k * n, i + 1), -a[i * n + k], row, row);
            }

            TensorPrimitives.Multiply(row, 1.0 / a[i * n + i], row);
        }

        // (A⁻¹)_ij = Σ_{k ≥ max(i,j)} L⁻¹[k,i] L⁻¹[k,j]: with T = (L⁻¹)ᵀ, a dot product of rows i and j from column max(i,j) on.
        for (int i = 0; i < n; i++)
        {
            for (int k = 0; k <= i; k++)
            {
                t[k * n + i] = inv[i * n + k];
            }
        }

        for (int i = 0; i < n; i++)
        {
            for (int j = 0; j <= i; j++)
            {
                double s = TensorPrimitives.Dot<double>(t.Slice(i * n + i, n - i), t.Slice(j * n + i, n - i));
                a[i * n + j] = s;
                a[j * n + i] = s;
            }
        }

        pool.Return(invArray);
        pool.Return(tArray);
        return true;
    }
}
