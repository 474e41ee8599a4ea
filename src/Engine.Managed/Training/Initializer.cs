using Engine.Model;
using Engine.Util;

namespace Engine.Training;

/// <summary>Initial parameters of a training run: standard or µP, full or low rank, each network from its own seed.</summary>
public static class Initializer
{
    /// <summary>A fresh training state: the networks initialised per <paramref name="options"/> from their seeds.</summary>
    /// <remarks>
    /// Standard: see <see cref="Ensemble.Initialize"/>. µP: W = J/N with J_ij ~ 𝒩(0, g²N), U_ij ~ 𝒩(0, 1), C stored as
    /// C_raw/(γN) with C_raw,ij ~ 𝒩(0, 1), b = d = 0. Low rank (R &gt; 0): the factors M, Nf have 𝒩(0, 1) entries drawn
    /// after the other weights from the same stream, and W = (1/N) M Nfᵀ.
    /// </remarks>
    public static TrainingState NewRun(EnsembleSpec spec, IReadOnlyList<long> seeds, string taskName,
        IReadOnlyDictionary<string, string> taskSettings, TrainingOptions options)
    {
        spec.Validate();
        options.Validate(spec.Networks);
        if (options.Parameterization == Parameterization.MuP && spec.Cell != CellType.Rate)
        {
            throw new ArgumentException($"The µP parameterisation uses the rate cell; the spec has cell '{spec.Cell.ToString().ToLowerInvariant()}'.", nameof(spec));
        }

        if (options.Rank > spec.Hidden)
        {
            throw new ArgumentOutOfRangeException(nameof(options), options.Rank, $"Rank ({options.Rank}) cannot exceed the hidden size ({spec.Hidden}).");
        }

        Guard.Buffer("training state [E][P] (4 blocks: parameters, Adam m and v, initial parameters)", 4 * sizeof(float), spec.Networks, spec.Layout.Stride);
        var ensemble = Ensemble.Initialize(spec, seeds);
        var state = new TrainingState(ensemble, taskName, taskSettings, options);
        var layout = spec.Layout;
        int n = spec.Hidden;
        for (int e = 0; e < spec.Networks; e++)
        {
            var p = layout.Network(ensemble.Parameters, e);
            var rng = Rng.For(seeds[e], Rng.InitStream, 1);
            if (options.Parameterization == Parameterization.MuP)
            {
                double gamma = options.GammaOf(e);
                Fill(layout.WRec(ensemble.Parameters, e), rng, options.Gain / Math.Sqrt(n));
                Fill(layout.WIn(ensemble.Parameters, e), rng, 1.0);
                Fill(layout.WOut(ensemble.Parameters, e), rng, 1.0 / (gamma * n));
                layout.Bias(ensemble.Parameters, e).Clear();
                layout.BOut(ensemble.Parameters, e).Clear();
            }

            if (options.Rank > 0)
            {
                int fs = LowRank.FactorStride(n, options.Rank);
                var f = state.Factors.AsSpan(e * fs, fs);
                Fill(f, rng, 1.0);
                LowRank.Compose<float>(f, n, options.Rank, layout.WRec(ensemble.Parameters, e));
            }

            p.CopyTo(layout.Network(state.InitialParameters, e));
        }

        return state;
    }

    private static void Fill(Span<float> dst, Rng rng, double std)
    {
        for (int i = 0; i < dst.Length; i++)
        {
            dst[i] = (float)(std * rng.NextGaussian());
        }
    }
}
