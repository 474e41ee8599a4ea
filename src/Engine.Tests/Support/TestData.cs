using Engine.Model;

namespace Engine.Tests.Support;

/// <summary>Random specs, parameters and batches for backend tests.</summary>
public static class TestData
{
    /// <summary>Random parameters with entries U(−scale, scale).</summary>
    public static float[] Parameters(EnsembleSpec spec, int seed, float scale = 0.5f)
    {
        var rng = new Random(seed);
        var p = new float[spec.Networks * spec.Layout.Stride];
        for (int i = 0; i < p.Length; i++)
        {
            p[i] = (float)((rng.NextDouble() * 2 - 1) * scale);
        }

        return p;
    }

    /// <summary>A batch of random inputs, targets, 0/1 mask (mostly 1) and noise.</summary>
    public static TrialBatch Batch(EnsembleSpec spec, int sets, int trials, int steps, int seed)
    {
        var rng = new Random(seed);
        var batch = TrialBatch.For(spec, sets, trials, steps);
        Fill(batch.Inputs, rng, 1f);
        Fill(batch.Targets, rng, 1f);
        for (int i = 0; i < batch.Mask.Length; i++)
        {
            batch.Mask[i] = rng.NextDouble() < 0.8 ? 1f : 0f;
        }

        for (int i = 0; i < batch.Noise.Length; i++)
        {
            batch.Noise[i] = (float)(Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble()));
        }

        return batch;
    }

    /// <summary>Fills with U(−scale, scale).</summary>
    public static void Fill(float[] dst, Random rng, float scale)
    {
        for (int i = 0; i < dst.Length; i++)
        {
            dst[i] = (float)((rng.NextDouble() * 2 - 1) * scale);
        }
    }

    /// <summary>Poisons a buffer with NaN so an unwritten element fails a comparison.</summary>
    public static float[] Poisoned(long length)
    {
        var a = new float[length];
        Array.Fill(a, float.NaN);
        return a;
    }

    /// <summary>Asserts |a − b| ≤ atol + rtol·|b| elementwise, reporting the worst index.</summary>
    public static void AssertClose(ReadOnlySpan<float> actual, ReadOnlySpan<float> expected, double rtol, double atol, string what)
    {
        NUnit.Framework.Assert.That(actual.Length, NUnit.Framework.Is.EqualTo(expected.Length), $"{what}: length");
        double worst = 0;
        int at = -1;
        for (int i = 0; i < actual.Length; i++)
        {
            double err = Math.Abs(actual[i] - expected[i]);
            double excess = err - (atol + rtol * Math.Abs(expected[i]));
            if (!double.IsFinite(actual[i]) || excess > worst)
            {
                worst = double.IsFinite(actual[i]) ? excess : double.PositiveInfinity;
                at = i;
                if (!double.IsFinite(actual[i]))
                {
                    break;
                }
            }
        }

        if (at >= 0)
        {
            NUnit.Framework.Assert.Fail($"{what}: element {at} is {actual[at]}, expected {expected[at]} (rtol {rtol}, atol {atol}).");
        }
    }

    /// <summary>The odd shapes every backend is checked on: (E, N, I, O, B, T, cell, activation, noise, learned h₀).</summary>
    public static IEnumerable<EnsembleSpec> OddSpecs()
    {
        yield return new EnsembleSpec { Networks = 1, Hidden = 1, Inputs = 1, Outputs = 1 };
        yield return new EnsembleSpec { Networks = 3, Hidden = 7, Inputs = 3, Outputs = 1, Activation = ActivationKind.Relu };
        yield return new EnsembleSpec { Networks = 2, Hidden = 33, Inputs = 1, Outputs = 3, Cell = CellType.Leaky, Alpha = 0.2f, InitialState = InitialStateKind.Learned };
        yield return new EnsembleSpec { Networks = 3, Hidden = 7, Inputs = 7, Outputs = 7, Cell = CellType.Leaky, Alpha = 0.5f, NoiseStd = 0.1f, Activation = ActivationKind.Identity };
        yield return new EnsembleSpec { Networks = 7, Hidden = 33, Inputs = 3, Outputs = 3, NoiseStd = 0.05f, InitialState = InitialStateKind.Learned };
    }
}
