using System.Numerics;
using System.Numerics.Tensors;

namespace Engine.Numerics;

/// <summary>The buffers of one <see cref="Eigen"/> call for N×N matrices; reuse one per thread so the hot path allocates nothing.</summary>
/// <remarks>
/// H [N×N] (the Hessenberg, then Schur form, then the triangular eigenvectors), Qᵀ [N×N] (row j = column j of the
/// accumulated Q Z, so every update of it runs along contiguous rows), and O(N) vectors; about 16 N² bytes.
/// </remarks>
public sealed class EigenWorkspace
{
    /// <summary>Buffers for N×N matrices.</summary>
    public EigenWorkspace(int n)
    {
        Util.Guard.AtLeast(n, 0, nameof(n));
        Size = n;
        H = new double[n * n];
        Qt = new double[n * n];
        Ort = new double[n];
        Row = new double[n];
        Re = new double[n];
        Im = new double[n];
    }

    /// <summary>N.</summary>
    public int Size { get; }

    [ThreadStatic]
    private static EigenWorkspace? _shared;

    /// <summary>This thread's cached workspace for size N (made anew when the size changes): the overloads without a workspace use it, so repeated calls allocate nothing.</summary>
    internal static EigenWorkspace Shared(int n)
    {
        var ws = _shared;
        if (ws is null || ws.Size != n)
        {
            ws = new EigenWorkspace(n);
            _shared = ws;
        }

        return ws;
    }

    internal double[] H { get; }

    internal double[] Qt { get; }

    internal double[] Ort { get; }

    internal double[] Row { get; }

    internal double[] Re { get; }

    internal double[] Im { get; }

    /// <summary>Σ |H[i, j]| over the Hessenberg part, set by the QR iteration (the back-substitution's scale).</summary>
    internal double Norm { get; set; }

    /// <summary>Copies A into H and reduces it to upper Hessenberg form in place (EISPACK orthes), the reflectors kept below the sub-diagonal.</summary>
    /// <remarks>
    /// Step m (1 ≤ m ≤ N − 2) reflects rows and columns m..N−1 with P = I − u uᵀ / h, u = x − ‖x‖ e (x: column m − 1
    /// below the diagonal, scaled by its 1-norm). Row-major, both products run along contiguous rows: f = Σ_i u_i H[i, :]
    /// then H[i, :] −= u_i f / h (left), and H[i, m:] −= (H[i, m:]·u / h) uᵀ for every row (right).
    /// </remarks>
    internal void Load(ReadOnlySpan<double> a)
    {
        int n = Size;
        a.CopyTo(H);
        var h = H.AsSpan();
        var ort = Ort.AsSpan();
        var f = Row.AsSpan();
        for (int m = 1; m < n - 1; m++)
        {
            double scale = 0;
            for (int i = m; i < n; i++)
            {
                scale += Math.Abs(h[i * n + m - 1]);
            }

            if (scale == 0)
            {
                ort[m] = 0;
                continue;
            }

            double hh = 0;
            for (int i = n - 1; i >= m; i--)
            {
                ort[i] = h[i * n + m - 1] / scale;
                hh += ort[i] * ort[i];
            }

            double g = Math.Sqrt(hh);
            if (ort[m] > 0)
            {
                g = -g;
            }

            hh -= ort[m] * g;
            ort[m] -= g;
            var u = ort[m..n];

            // left: H[m:, m:] −= u (uᵀ H[m:, m:]) / h
            var fm = f[m..n];
            fm.Clear();
            for (int i = m; i < n; i++)
            {
                TensorPrimitives.MultiplyAdd(h.Slice(i * n + m, n - m), ort[i], fm, fm);
            }

            TensorPrimitives.Multiply(fm, 1 / hh, fm);
            for (int i = m; i < n; i++)
            {
                var row = h.Slice(i * n + m, n - m);
                TensorPrimitives.MultiplyAdd(fm, -ort[i], row, row);
            }

            // right: H[:, m:] −= (H[:, m:] u) uᵀ / h
            for (int i = 0; i < n; i++)
            {
                var row = h.Slice(i * n + m, n - m);
                TensorPrimitives.MultiplyAdd(u, -TensorPrimitives.Dot(row, u) / hh, row, row);
            }

            ort[m] *= scale;
            h[m * n + m - 1] = scale * g;
        }
    }

    /// <summary>Forms Qᵀ from the reflectors <see cref="Load"/> left below the sub-diagonal (EISPACK ortran), then clears them.</summary>
    internal void AccumulateQ()
    {
        int n = Size;
        var h = H.AsSpan();
        var qt = Qt.AsSpan();
        var ort = Ort.AsSpan();
        qt.Clear();
        for (int i = 0; i < n; i++)
        {
            qt[i * n + i] = 1;
        }

        for (int m = n - 2; m >= 1; m--)
        {
            double sub = h[m * n + m - 1];
            if (sub == 0)
            {
                continue;
            }

            for (int i = m + 1; i < n; i++)
            {
                ort[i] = h[i * n + m - 1];
            }

            var u = ort[m..n];
            for (int j = m; j < n; j++)
            {
                var row = qt.Slice(j * n + m, n - m);
                double g = TensorPrimitives.Dot(u, row) / ort[m] / sub;
                TensorPrimitives.MultiplyAdd(u, g, row, row);
            }
        }

        ClearBelowSubdiagonal();
    }

    /// <summary>Zeroes H below its sub-diagonal (the reflectors' storage).</summary>
    internal void ClearBelowSubdiagonal()
    {
        int n = Size;
        for (int i = 2; i < n; i++)
        {
            H.AsSpan(i * n, i - 1).Clear();
        }
    }

    /// <summary>Writes the eigenvalues (NaN when <paramref name="ok"/> is false).</summary>
    internal void CopyValues(Span<Complex> values, bool ok)
    {
        for (int i = 0; i < Size; i++)
        {
            values[i] = ok ? new Complex(Re[i], Im[i]) : new Complex(double.NaN, double.NaN);
        }
    }

    /// <summary>Writes unit eigenvectors as columns of V [N×N] from Qt's rows (row j: vector j, or the real/imaginary parts of a pair).</summary>
    internal void CopyVectors(Span<Complex> vectors)
    {
        int n = Size;
        var qt = Qt.AsSpan();
        for (int j = 0; j < n; j++)
        {
            var re = qt.Slice(j * n, n);
            if (Im[j] == 0)
            {
                double norm = TensorPrimitives.Norm(re);
                double inv = norm > 0 ? 1 / norm : 0;
                for (int i = 0; i < n; i++)
                {
                    vectors[i * n + j] = new Complex(re[i] * inv, 0);
                }

                continue;
            }

            // a pair (j, j + 1), positive imaginary part first: v_j = a + i b, v_{j+1} = a − i b
            var im = qt.Slice((j + 1) * n, n);
            double nr = TensorPrimitives.Norm(re), ni = TensorPrimitives.Norm(im);
            double scale = Math.Sqrt(nr * nr + ni * ni);
            double s = scale > 0 ? 1 / scale : 0;
            for (int i = 0; i < n; i++)
            {
                vectors[i * n + j] = new Complex(re[i] * s, im[i] * s);
                vectors[i * n + j + 1] = new Complex(re[i] * s, -im[i] * s);
            }

            j++;
        }
    }
}
