using System.Numerics;

namespace Engine.Training;

/// <summary>Low-rank recurrent weights W = (1/N) M Nᵀ = (1/N) Σ_r m_r n_rᵀ, trained through the factors.</summary>
/// <remarks>
/// Per network the factors are [2][N][R]: M (N×R, row i holds m_{1..R, i}) then Nf (N×R). Gradients flow from dW:
/// dM = (1/N) dW Nf and dNf = (1/N) dWᵀ M. The backend keeps W itself (frozen in its Adam step) and receives the
/// product of the factors before each epoch, so every backend trains low-rank networks without kernels of its own.
/// </remarks>
public static class LowRank
{
    /// <summary>Floats per network: 2·N·R.</summary>
    public static int FactorStride(int hidden, int rank) => 2 * hidden * rank;

    /// <summary>Writes W = (1/N) M Nfᵀ for one network.</summary>
    public static void Compose<T>(ReadOnlySpan<T> factors, int n, int rank, Span<T> w)
        where T : IFloatingPointIeee754<T>
    {
        var m = factors[..(n * rank)];
        var f = factors.Slice(n * rank, n * rank);
        double inv = 1.0 / n;
        for (int i = 0; i < n; i++)
        {
            for (int j = 0; j < n; j++)
            {
                double s = 0;
                for (int r = 0; r < rank; r++)
                {
                    s += double.CreateTruncating(m[i * rank + r]) * double.CreateTruncating(f[j * rank + r]);
                }

                w[i * n + j] = T.CreateTruncating(s * inv);
            }
        }
    }

    /// <summary>Maps dW of one network to the factors' gradient [2][N][R].</summary>
    public static void Pullback<T>(ReadOnlySpan<T> factors, ReadOnlySpan<T> dw, int n, int rank, Span<T> dFactors)
        where T : IFloatingPointIeee754<T>
    {
        var m = factors[..(n * rank)];
        var f = factors.Slice(n * rank, n * rank);
        var dm = dFactors[..(n * rank)];
        var df = dFactors.Slice(n * rank, n * rank);
        double inv = 1.0 / n;
        for (int i = 0; i < n; i++)
        {
            for (int r = 0; r < rank; r++)
            {
                double a = 0, b = 0;
                for (int j = 0; j < n; j++)
                {
                    a += double.CreateTruncating(dw[i * n + j]) * double.CreateTruncating(f[j * rank + r]);
                    b += double.CreateTruncating(dw[j * n + i]) * double.CreateTruncating(m[j * rank + r]);
                }

                dm[i * rank + r] = T.CreateTruncating(a * inv);
                df[i * rank + r] = T.CreateTruncating(b * inv);
            }
        }
    }
}
