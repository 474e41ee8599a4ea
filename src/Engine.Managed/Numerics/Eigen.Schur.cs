using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Engine.Numerics;

/// <summary>The Francis double-shift QR iteration of <see cref="Eigen"/> (EISPACK hqr / hqr2).</summary>
public static partial class Eigen
{
    /// <summary>
    /// Reduces the Hessenberg matrix in <paramref name="ws"/> to quasi-triangular real Schur form, writing the eigenvalues
    /// to its Re/Im; with <paramref name="vectors"/> the whole of H is updated and Qᵀ accumulates the transformations,
    /// otherwise only the active window is touched. False when 30·max(10, N) iterations did not deflate everything.
    /// </summary>
    /// <remarks>
    /// Deflation: H[l, l−1] = 0 or |H[l, l−1]| &lt; ε (|H[l−1, l−1]| + |H[l, l]|). A double step on rows and columns m..en starts where two
    /// consecutive sub-diagonal elements are small, chases the 3×3 bulge with Householder reflectors P = I − v vᵀ
    /// (v = (1, q, r) after scaling), and leaves the bottom 1×1 or 2×2 block to deflate. Exceptional shifts after every
    /// 10 iterations without a deflation, alternating Wilkinson's ad hoc shift (10, 30, …) and MATLAB's (20, 40, …).
    /// </remarks>
    private static unsafe bool Hqr(EigenWorkspace ws, bool vectors)
    {
        int nn = ws.Size;
        double[] re = ws.Re, im = ws.Im;
        const double eps = 2.220446049250313e-16;
        fixed (double* hp = ws.H, qp = ws.Qt)
        {
            double* h = hp;
            double norm = 0;
            for (int i = 0; i < nn; i++)
            {
                for (int j = Math.Max(i - 1, 0); j < nn; j++)
                {
                    norm += Math.Abs(h[i * nn + j]);
                }
            }

            double exshift = 0, p = 0, q = 0, r = 0, s, z, w, x, y;
            int en = nn - 1, iter = 0, total = 0, limit = 30 * Math.Max(10, nn);
            while (en >= 0)
            {
                // a single small sub-diagonal element
                int l = en;
                while (l > 0)
                {
                    s = Math.Abs(h[(l - 1) * nn + l - 1]) + Math.Abs(h[l * nn + l]);
                    if (s == 0)
                    {
                        s = norm;
                    }

                    double sub = h[l * nn + l - 1];
                    if (Math.Abs(sub) < eps * s || sub == 0)
                    {
                        // set the split to zero (as LAPACK's dlahqr): a window that later grows past it must not see a
                        // stale coupling, which the values-only path, updating the active window alone, would not have kept up
                        h[l * nn + l - 1] = 0;
                        break;
                    }

                    l--;
                }

                if (l == en)
                {
                    // one root
                    h[en * nn + en] += exshift;
                    re[en] = h[en * nn + en];
                    im[en] = 0;
                    en--;
                    iter = 0;
                    continue;
                }

                if (l == en - 1)
                {
                    // two roots
                    int a = en - 1;
                    w = h[en * nn + a] * h[a * nn + en];
                    p = (h[a * nn + a] - h[en * nn + en]) / 2;
                    q = p * p + w;
                    z = Math.Sqrt(Math.Abs(q));
                    h[en * nn + en] += exshift;
                    h[a * nn + a] += exshift;
                    x = h[en * nn + en];
                    if (q >= 0)
                    {
                        // a real pair
                        z = p >= 0 ? p + z : p - z;
                        re[a] = x + z;
                        re[en] = z != 0 ? x - w / z : re[a];
                        im[a] = 0;
                        im[en] = 0;
                        if (vectors)
                        {
                            x = h[en * nn + a];
                            s = Math.Abs(x) + Math.Abs(z);
                            p = x / s;
                            q = z / s;
                            r = Math.Sqrt(p * p + q * q);
                            p /= r;
                            q /= r;
                            Rotate(h + a * nn + a, h + en * nn + a, 1, nn - a, p, q);
                            Rotate(h + a, h + en, nn, en + 1, p, q);
                            Rotate(qp + a * nn, qp + en * nn, 1, nn, p, q);
                        }
                    }
                    else
                    {
                        // a complex pair, positive imaginary part first
                        re[a] = x + p;
                        re[en] = x + p;
                        im[a] = z;
                        im[en] = -z;
                    }

                    en -= 2;
                    iter = 0;
                    continue;
                }

                if (++total > limit)
                {
                    return false;
                }

                // the shift
                x = h[en * nn + en];
                y = h[(en - 1) * nn + en - 1];
                w = h[en * nn + en - 1] * h[(en - 1) * nn + en];
                if (iter > 0 && iter % 20 == 10)
                {
                    // Wilkinson's ad hoc shift
                    exshift += x;
                    for (int i = 0; i <= en; i++)
                    {
                        h[i * nn + i] -= x;
                    }

                    s = Math.Abs(h[en * nn + en - 1]) + Math.Abs(h[(en - 1) * nn + en - 2]);
                    x = y = 0.75 * s;
                    w = -0.4375 * s * s;
                }
                else if (iter > 0 && iter % 20 == 0)
                {
                    // MATLAB's ad hoc shift
                    s = (y - x) / 2;
                    s = s * s + w;
                    if (s > 0)
                    {
                        s = Math.Sqrt(s);
                        if (y < x)
                        {
                            s = -s;
                        }

                        s = x - w / ((y - x) / 2 + s);
                        for (int i = 0; i <= en; i++)
                        {
                            h[i * nn + i] -= s;
                        }

                        exshift += s;
                        x = y = w = 0.964;
                    }
                }

                iter++;

                // two consecutive small sub-diagonal elements
                int m = en - 2;
                while (true)
                {
                    z = h[m * nn + m];
                    r = x - z;
                    s = y - z;
                    p = (r * s - w) / h[(m + 1) * nn + m] + h[m * nn + m + 1];
                    q = h[(m + 1) * nn + m + 1] - z - r - s;
                    r = h[(m + 2) * nn + m + 1];
                    s = Math.Abs(p) + Math.Abs(q) + Math.Abs(r);
                    p /= s;
                    q /= s;
                    r /= s;
                    if (m == l)
                    {
                        break;
                    }

                    if (Math.Abs(h[m * nn + m - 1]) * (Math.Abs(q) + Math.Abs(r))
                        < eps * (Math.Abs(p) * (Math.Abs(h[(m - 1) * nn + m - 1]) + Math.Abs(z) + Math.Abs(h[(m + 1) * nn + m + 1]))))
                    {
                        break;
                    }

                    m--;
                }

                for (int i = m + 2; i <= en; i++)
                {
                    h[i * nn + i - 2] = 0;
                    if (i > m + 2)
                    {
                        h[i * nn + i - 3] = 0;
                    }
                }

                // the double QR step on rows and columns m..en
                int rowEnd = vectors ? nn : en + 1, colStart = vectors ? 0 : l;
                for (int k = m; k < en; k++)
                {
                    bool notLast = k != en - 1;
                    double scale = 1;
                    if (k != m)
                    {
                        p = h[k * nn + k - 1];
                        q = h[(k + 1) * nn + k - 1];
                        r = notLast ? h[(k + 2) * nn + k - 1] : 0;
                        scale = Math.Abs(p) + Math.Abs(q) + Math.Abs(r);
                        if (scale == 0)
                        {
                            continue;
                        }

                        p /= scale;
                        q /= scale;
                        r /= scale;
                    }

                    s = Math.Sqrt(p * p + q * q + r * r);
                    if (p < 0)
                    {
                        s = -s;
                    }

                    if (s == 0)
                    {
                        continue;
                    }

                    if (k != m)
                    {
                        h[k * nn + k - 1] = -s * scale;
                    }
                    else if (l != m)
                    {
                        h[k * nn + k - 1] = -h[k * nn + k - 1];
                    }

                    p += s;
                    x = p / s;
                    y = q / s;
                    z = r / s;
                    q /= p;
                    r /= p;
                    int bottom = Math.Min(en, k + 3);
                    double* row = h + k * nn;
                    if (notLast)
                    {
                        // rows k..k+2: p = a + q b + r c; a −= x p, b −= y p, c −= z p
                        Reflect3(row + k, row + nn + k, row + 2 * nn + k, rowEnd - k, 1, q, r, x, y, z);
                        // columns k..k+2 (strided): p = x a + y b + z c; a −= p, b −= q p, c −= r p
                        for (int i = colStart; i <= bottom; i++)
                        {
                            double* e = h + i * nn + k;
                            double t = x * e[0] + y * e[1] + z * e[2];
                            e[2] -= t * r;
                            e[0] -= t;
                            e[1] -= t * q;
                        }

                        if (vectors)
                        {
                            Reflect3(qp + k * nn, qp + (k + 1) * nn, qp + (k + 2) * nn, nn, x, y, z, 1, q, r);
                        }
                    }
                    else
                    {
                        Reflect2(row + k, row + nn + k, rowEnd - k, 1, q, x, y);
                        for (int i = colStart; i <= bottom; i++)
                        {
                            double* e = h + i * nn + k;
                            double t = x * e[0] + y * e[1];
                            e[0] -= t;
                            e[1] -= t * q;
                        }

                        if (vectors)
                        {
                            Reflect2(qp + k * nn, qp + (k + 1) * nn, nn, x, y, 1, q);
                        }
                    }
                }
            }

            ws.Norm = norm;
            return true;
        }
    }

    /// <summary>t = ca a + cb b + cc c; a −= da t, b −= db t, c −= dc t over <paramref name="length"/> contiguous elements.</summary>
    /// <remarks>Fused multiply-adds in the vector body and the scalar tail alike, so an element's result does not depend on where it falls.</remarks>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void Reflect3(double* a, double* b, double* c, int length, double ca, double cb, double cc, double da, double db, double dc)
    {
        int j = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            Vector256<double> vca = Vector256.Create(ca), vcb = Vector256.Create(cb), vcc = Vector256.Create(cc);
            Vector256<double> vda = Vector256.Create(da), vdb = Vector256.Create(db), vdc = Vector256.Create(dc);
            for (; j <= length - 4; j += 4)
            {
                var va = Vector256.Load(a + j);
                var vb = Vector256.Load(b + j);
                var vc = Vector256.Load(c + j);
                var t = Vector256.FusedMultiplyAdd(vcc, vc, Vector256.FusedMultiplyAdd(vcb, vb, vca * va));
                Vector256.Store(Vector256.FusedMultiplyAdd(-vdc, t, vc), c + j);
                Vector256.Store(Vector256.FusedMultiplyAdd(-vda, t, va), a + j);
                Vector256.Store(Vector256.FusedMultiplyAdd(-vdb, t, vb), b + j);
            }
        }

        for (; j < length; j++)
        {
            double t = Math.FusedMultiplyAdd(cc, c[j], Math.FusedMultiplyAdd(cb, b[j], ca * a[j]));
            c[j] = Math.FusedMultiplyAdd(-dc, t, c[j]);
            a[j] = Math.FusedMultiplyAdd(-da, t, a[j]);
            b[j] = Math.FusedMultiplyAdd(-db, t, b[j]);
        }
    }

    /// <summary>t = ca a + cb b; a −= da t, b −= db t over <paramref name="length"/> contiguous elements.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void Reflect2(double* a, double* b, int length, double ca, double cb, double da, double db)
    {
        int j = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            Vector256<double> vca = Vector256.Create(ca), vcb = Vector256.Create(cb);
            Vector256<double> vda = Vector256.Create(da), vdb = Vector256.Create(db);
            for (; j <= length - 4; j += 4)
            {
                var va = Vector256.Load(a + j);
                var vb = Vector256.Load(b + j);
                var t = Vector256.FusedMultiplyAdd(vcb, vb, vca * va);
                Vector256.Store(Vector256.FusedMultiplyAdd(-vda, t, va), a + j);
                Vector256.Store(Vector256.FusedMultiplyAdd(-vdb, t, vb), b + j);
            }
        }

        for (; j < length; j++)
        {
            double t = Math.FusedMultiplyAdd(cb, b[j], ca * a[j]);
            a[j] = Math.FusedMultiplyAdd(-da, t, a[j]);
            b[j] = Math.FusedMultiplyAdd(-db, t, b[j]);
        }
    }

    /// <summary>The plane rotation (a, b) ← (q a + p b, q b − p a) over <paramref name="count"/> elements <paramref name="stride"/> apart.</summary>
    private static unsafe void Rotate(double* a, double* b, int stride, int count, double p, double q)
    {
        for (int j = 0; j < count; j++)
        {
            double t = a[j * stride];
            a[j * stride] = q * t + p * b[j * stride];
            b[j * stride] = q * b[j * stride] - p * t;
        }
    }
}
