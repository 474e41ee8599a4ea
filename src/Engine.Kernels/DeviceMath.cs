namespace Engine.Kernels;

/// <summary>float64 functions written in plain arithmetic, so that they compile for every ILGPU backend (PTX has no float64 tanh or exp).</summary>
public static class DeviceMath
{
    private const double Ln2 = 0.69314718055994530942;

    /// <summary>tanh(x) to within a few ulp: −expm1(−2|x|) / (2 + expm1(−2|x|)) with the sign of x; ±1 beyond |x| = 19.1.</summary>
    public static double Tanh(double x)
    {
        double ax = x < 0 ? -x : x;
        if (ax > 19.1)
        {
            return x < 0 ? -1.0 : 1.0;
        }

        double em1 = ExpM1NonPositive(-2 * ax);
        double t = -em1 / (2 + em1);
        return x < 0 ? -t : t;
    }

    /// <summary>e^y − 1 for y ≤ 0 (y ≥ −40): a series near 0, else exp by range reduction y = k ln 2 + r.</summary>
    public static double ExpM1NonPositive(double y)
    {
        if (y > -0.35)
        {
            // the series directly: no cancellation in e^y − 1 near 0
            return Series(y);
        }

        int k = (int)(y / Ln2 - 0.5);   // y ≤ −0.35: round to nearest, k ≤ 0
        double r = y - k * Ln2;           // |r| ≤ ln 2 / 2
        double er = 1.0 + Series(r);
        double scale = 1.0, b = 0.5;
        for (int m = -k; m > 0; m >>= 1)
        {
            if ((m & 1) != 0)
            {
                scale *= b;
            }

            b *= b;
        }

        return er * scale - 1.0;
    }

    /// <summary>e^r − 1 = Σ_{n=1..18} rⁿ/n! (Horner), for |r| ≤ ln 2 / 2.</summary>
    private static double Series(double r)
    {
        double s = 1.0;
        for (int n = 18; n >= 2; n--)
        {
            s = 1.0 + s * r / n;
        }

        return s * r;
    }
}
