using System.Runtime.Intrinsics;
using Engine.Backends.Cpu;
using Engine.FixedPoints;
using Engine.Kernels;
using NUnit.Framework;

namespace Engine.Tests.FixedPoints;

/// <summary>The fixed-point search's own vector tanh and exp against the scalar float64 functions.</summary>
public sealed unsafe class SearchTanhTests
{
    private static float[] Arguments()
    {
        var z = new float[8192];
        for (int i = 0; i < z.Length; i++)
        {
            z[i] = (i - z.Length / 2) / 200f;
        }

        float[] edge = [1e-6f, -3e-4f, 0.1249f, 0.1251f, -0.125f, 8.999f, 9.001f, -9.5f, 30f, -1e4f, 0f, -0f, 17.9f, 0.7f];
        edge.CopyTo(z, 0);
        return z;
    }

    [Test]
    public void Tanh_MatchesScalar_BothVectorWidths()
    {
        var z = Arguments();
        var y = new float[z.Length];
        fixed (float* pz = z, py = y)
        {
            for (int width = 0; width < 2; width++)
            {
                Array.Fill(y, float.NaN);
                for (int k = 0; k < z.Length; k += 16)
                {
                    if (width == 0 && Vector512.IsHardwareAccelerated)
                    {
                        Simd512.Store(SearchTanh.Apply<Simd512, Vector512<float>>(Simd512.Load(pz + k)), py + k);
                    }
                    else
                    {
                        Simd256.Store(SearchTanh.Apply<Simd256, Vector256<float>>(Simd256.Load(pz + k)), py + k);
                        Simd256.Store(SearchTanh.Apply<Simd256, Vector256<float>>(Simd256.Load(pz + k + 8)), py + k + 8);
                    }
                }

                for (int i = 0; i < z.Length; i++)
                {
                    double expected = Math.Tanh(z[i]);
                    Assert.That(y[i], Is.EqualTo(expected).Within(1e-7 + 1e-6 * Math.Abs(expected)), $"tanh({z[i]}), width {width}");
                    Assert.That(Math.Abs(y[i]), Is.LessThanOrEqualTo(1f), "bounded");
                    Assert.That(SearchTanh.Derivative<Simd256, Vector256<float>>(Vector256.Create(y[i])).GetElement(0),
                        Is.EqualTo(TanhActivation.DerivativeFromOutput(y[i])).Within(1e-7f));
                }
            }
        }
    }

    [Test]
    public void Exp_MatchesScalar_OnItsRange()
    {
        for (double x = 0; x <= 18; x += 0.01)
        {
            float xf = (float)x;
            float a = SearchTanh.Exp<Simd256, Vector256<float>>(Vector256.Create(xf)).GetElement(0);
            Assert.That(a, Is.EqualTo(Math.Exp(xf)).Within(3e-7 * Math.Exp(xf)), $"exp({xf})");
            if (Vector512.IsHardwareAccelerated)
            {
                Assert.That(SearchTanh.Exp<Simd512, Vector512<float>>(Vector512.Create(xf)).GetElement(3), Is.EqualTo(a), "same on both widths");
            }
        }
    }
}
