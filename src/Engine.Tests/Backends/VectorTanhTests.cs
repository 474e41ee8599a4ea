using System.Runtime.Intrinsics;
using Engine.Kernels;
using Engine.Numerics;
using NUnit.Framework;

namespace Engine.Tests.Backends;

/// <summary>The one float32 vector tanh of the CPU paths (training and the fixed-point search) against the scalar float64 function.</summary>
public sealed unsafe class VectorTanhTests
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
                        Simd512.Store(TanhVector.Apply<Simd512, Vector512<float>>(Simd512.Load(pz + k)), py + k);
                    }
                    else
                    {
                        Simd256.Store(TanhVector.Apply<Simd256, Vector256<float>>(Simd256.Load(pz + k)), py + k);
                        Simd256.Store(TanhVector.Apply<Simd256, Vector256<float>>(Simd256.Load(pz + k + 8)), py + k + 8);
                    }
                }

                for (int i = 0; i < z.Length; i++)
                {
                    double expected = Math.Tanh(z[i]);
                    Assert.That(y[i], Is.EqualTo(expected).Within(1e-7 + 1e-6 * Math.Abs(expected)), $"tanh({z[i]}), width {width}");
                    Assert.That(Math.Abs(y[i]), Is.LessThanOrEqualTo(1f), "bounded");
                    Assert.That(TanhVector.Derivative<Simd256, Vector256<float>>(Vector256.Create(y[i])).GetElement(0),
                        Is.EqualTo(TanhActivation.DerivativeFromOutput(y[i])).Within(1e-7f));
                }
            }
        }
    }
}
