namespace Engine.Numerics;

/// <summary>Column centring of a samples × width matrix, in float64.</summary>
internal static class Centering
{
    /// <summary>X − 1 μᵀ as float64 [S][N], μ the column means.</summary>
    public static double[] Centered(ReadOnlySpan<float> x, int samples, int width)
    {
        var mean = new double[width];
        for (int s = 0; s < samples; s++)
        {
            for (int k = 0; k < width; k++)
            {
                mean[k] += x[s * width + k];
            }
        }

        for (int k = 0; k < width; k++)
        {
            mean[k] /= samples;
        }

        var y = new double[samples * width];
        for (int s = 0; s < samples; s++)
        {
            for (int k = 0; k < width; k++)
            {
                y[s * width + k] = x[s * width + k] - mean[k];
            }
        }

        return y;
    }

    /// <summary>Copies a float64 [S][N] matrix into a packed [S][N_pad] float destination.</summary>
    public static void Pack(ReadOnlySpan<double> x, int samples, int width, Span<float> dst, int padded)
    {
        for (int s = 0; s < samples; s++)
        {
            for (int k = 0; k < width; k++)
            {
                dst[s * padded + k] = (float)x[s * width + k];
            }
        }
    }
}
