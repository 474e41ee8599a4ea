using System.Numerics.Tensors;

namespace Engine.Numerics;

/// <summary>Eigenvectors of <see cref="Eigen"/>: back-substitution on the Schur form, then back to A's basis (EISPACK hqr2).</summary>
public static partial class Eigen
{
    /// <summary>
    /// Solves (T − λ_j I) y_j = 0 for every eigenvalue on the quasi-triangular T in H (column j of H becomes y_j; a pair's
    /// real and imaginary parts fill columns j and j + 1), then x_j = Q Z y_j, written as row j of Qᵀ.
    /// </summary>
    /// <remarks>
    /// y_j[j] = 1 and rows above by back-substitution, 2×2 blocks of T solved as complex 2×2 systems; a zero pivot
    /// (a repeated eigenvalue) is replaced by ε‖H‖, and a component growing past 1/√ε rescales the vector (EISPACK's
    /// overflow control). The map to A's basis is (Qᵀ)[j, :] = Σ_{k ≤ j} T[k, j] (Qᵀ)[k, :], rows from the last up, in place.
    /// </remarks>
    private static void BackSubstitute(EigenWorkspace ws)
    {
        int nn = ws.Size;
        double norm = ws.Norm;
        if (norm == 0)
        {
            // A = 0: every vector is an eigenvector; Q's columns are kept
            return;
        }

        const double eps = 2.220446049250313e-16;
        var h = ws.H.AsSpan();
        double[] d = ws.Re, e = ws.Im;
        double p, q, r = 0, s = 0, t, w, x, y, z = 0;
        for (int en = nn - 1; en >= 0; en--)
        {
            p = d[en];
            q = e[en];
            if (q == 0)
            {
                // a real vector
                int l = en;
                h[en * nn + en] = 1;
                for (int i = en - 1; i >= 0; i--)
                {
                    w = h[i * nn + i] - p;
                    r = 0;
                    for (int j = l; j <= en; j++)
                    {
                        r += h[i * nn + j] * h[j * nn + en];
                    }

                    if (e[i] < 0)
                    {
                        z = w;
                        s = r;
                        continue;
                    }

                    l = i;
                    if (e[i] == 0)
                    {
                        h[i * nn + en] = w != 0 ? -r / w : -r / (eps * norm);
                    }
                    else
                    {
                        // a 2×2 block above: real equations
                        x = h[i * nn + i + 1];
                        y = h[(i + 1) * nn + i];
                        q = (d[i] - p) * (d[i] - p) + e[i] * e[i];
                        t = (x * s - z * r) / q;
                        h[i * nn + en] = t;
                        h[(i + 1) * nn + en] = Math.Abs(x) > Math.Abs(z) ? (-r - w * t) / x : (-s - y * t) / z;
                    }

                    t = Math.Abs(h[i * nn + en]);
                    if (eps * t * t > 1)
                    {
                        for (int j = i; j <= en; j++)
                        {
                            h[j * nn + en] /= t;
                        }
                    }
                }
            }
            else if (q < 0)
            {
                // a complex vector, for the eigenvalue p + i q of the pair (en − 1, en): real part in column en − 1, imaginary in en
                int l = en - 1;
                int a = en - 1;
                if (Math.Abs(h[en * nn + a]) > Math.Abs(h[a * nn + en]))
                {
                    h[a * nn + a] = q / h[en * nn + a];
                    h[a * nn + en] = -(h[en * nn + en] - p) / h[en * nn + a];
                }
                else
                {
                    (h[a * nn + a], h[a * nn + en]) = Div(0, -h[a * nn + en], h[a * nn + a] - p, q);
                }

                h[en * nn + a] = 0;
                h[en * nn + en] = 1;
                for (int i = en - 2; i >= 0; i--)
                {
                    double ra = 0, sa = 0;
                    for (int j = l; j <= en; j++)
                    {
                        ra += h[i * nn + j] * h[j * nn + a];
                        sa += h[i * nn + j] * h[j * nn + en];
                    }

                    w = h[i * nn + i] - p;
                    if (e[i] < 0)
                    {
                        z = w;
                        r = ra;
                        s = sa;
                        continue;
                    }

                    l = i;
                    if (e[i] == 0)
                    {
                        (h[i * nn + a], h[i * nn + en]) = Div(-ra, -sa, w, q);
                    }
                    else
                    {
                        // a 2×2 block above: complex equations
                        x = h[i * nn + i + 1];
                        y = h[(i + 1) * nn + i];
                        double vr = (d[i] - p) * (d[i] - p) + e[i] * e[i] - q * q;
                        double vi = (d[i] - p) * 2 * q;
                        if (vr == 0 && vi == 0)
                        {
                            vr = eps * norm * (Math.Abs(w) + Math.Abs(q) + Math.Abs(x) + Math.Abs(y) + Math.Abs(z));
                        }

                        (h[i * nn + a], h[i * nn + en]) = Div(x * r - z * ra + q * sa, x * s - z * sa - q * ra, vr, vi);
                        if (Math.Abs(x) > Math.Abs(z) + Math.Abs(q))
                        {
                            h[(i + 1) * nn + a] = (-ra - w * h[i * nn + a] + q * h[i * nn + en]) / x;
                            h[(i + 1) * nn + en] = (-sa - w * h[i * nn + en] - q * h[i * nn + a]) / x;
                        }
                        else
                        {
                            (h[(i + 1) * nn + a], h[(i + 1) * nn + en]) = Div(-r - y * h[i * nn + a], -s - y * h[i * nn + en], z, q);
                        }
                    }

                    t = Math.Max(Math.Abs(h[i * nn + a]), Math.Abs(h[i * nn + en]));
                    if (eps * t * t > 1)
                    {
                        for (int j = i; j <= en; j++)
                        {
                            h[j * nn + a] /= t;
                            h[j * nn + en] /= t;
                        }
                    }
                }
            }
        }

        // x_j = Q Z y_j: row j of Qᵀ becomes Σ_{k ≤ j} y_j[k] (Qᵀ)[k, :], from the last row up so rows k < j are still Q Z's
        var qt = ws.Qt.AsSpan();
        var acc = ws.Row.AsSpan(0, nn);
        for (int j = nn - 1; j >= 0; j--)
        {
            acc.Clear();
            for (int k = 0; k <= j; k++)
            {
                double c = h[k * nn + j];
                if (c != 0)
                {
                    TensorPrimitives.MultiplyAdd(qt.Slice(k * nn, nn), c, acc, acc);
                }
            }

            acc.CopyTo(qt.Slice(j * nn, nn));
        }
    }

    /// <summary>(xr + i xi) / (yr + i yi), Smith's algorithm.</summary>
    private static (double Re, double Im) Div(double xr, double xi, double yr, double yi)
    {
        if (Math.Abs(yr) > Math.Abs(yi))
        {
            double r = yi / yr, d = yr + r * yi;
            return ((xr + r * xi) / d, (xi - r * xr) / d);
        }
        else
        {
            double r = yr / yi, d = yi + r * yr;
            return ((r * xr + xi) / d, (r * xi - xr) / d);
        }
    }
}
