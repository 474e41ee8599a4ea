using System.Runtime.Intrinsics;
using BenchmarkDotNet.Attributes;
using Engine.Numerics;

namespace Engine.Bench;

/// <summary>
/// The float32 vector tanh of the fast CPU paths, applied in place to 4096 values in [−4, 4] (the range of a trained
/// network's pre-activations), 512-bit vectors: tanh and its derivative through the output, as the forward pass uses them.
/// </summary>
/// <remarks>Run with <c>dotnet run -c Release --project bench/Engine.Bench -- --filter *Activation*</c>.</remarks>
public unsafe class ActivationBenchmarks
{
    private readonly float[] _z = new float[4096];
    private readonly float[] _y = new float[4096];
    private readonly float[] _d = new float[4096];

    /// <summary>Fills the inputs.</summary>
    [GlobalSetup]
    public void Setup()
    {
        var rng = new Random(1);
        for (int i = 0; i < _z.Length; i++)
        {
            _z[i] = (float)(8 * rng.NextDouble() - 4);
        }
    }

    /// <summary>The engine's vector tanh.</summary>
    [Benchmark(Baseline = true)]
    public float Tanh() => Run<TanhVector>();

    private float Run<TA>()
        where TA : struct, IVectorActivation
    {
        fixed (float* z = _z, y = _y, d = _d)
        {
            for (int k = 0; k < _z.Length; k += 16)
            {
                var a = TA.Apply<Simd512, Vector512<float>>(Simd512.Load(z + k));
                Simd512.Store(a, y + k);
                Simd512.Store(TA.Derivative<Simd512, Vector512<float>>(a), d + k);
            }
        }

        return _y[17] + _d[33];
    }
}
