using Engine.Kernels;
using NUnit.Framework;

namespace Engine.Tests.Backends;

/// <summary>The float64 tanh the closed-loop kernels use (PTX has none) against Math.Tanh.</summary>
public sealed class DeviceMathTests
{
    [Test]
    public void Tanh_MatchesMathTanh_ToAFewUlp()
    {
        double worst = 0, at = 0;
        var xs = Enumerable.Range(-250_000, 500_001).Select(i => i * 1e-4)
            .Concat(Enumerable.Range(-300, 601).Select(i => Math.Sign(i) * Math.Pow(10, -Math.Abs(i) / 20.0)))
            .Concat([0.0, 19.0999, 19.1001, 40, -40, 1e300, -1e300]);
        foreach (double x in xs)
        {
            double want = Math.Tanh(x), got = DeviceMath.Tanh(x);
            double rel = want == 0 ? Math.Abs(got) : Math.Abs(got - want) / Math.Abs(want);
            if (rel > worst)
            {
                worst = rel;
                at = x;
            }
        }

        Assert.That(worst, Is.LessThan(1e-15), $"worst relative error {worst:G3} at x = {at:R}");
        Assert.That(DeviceMath.Tanh(-0.3), Is.EqualTo(-DeviceMath.Tanh(0.3)), "odd");
    }
}
