using Engine.ClosedLoop;
using Engine.Tasks.Control;
using NUnit.Framework;

namespace Engine.Tests.ClosedLoop;

/// <summary>Plants: built-ins and JSON configs with clear shape errors.</summary>
public sealed class PlantTests
{
    [Test]
    public void DoubleIntegrator_IsTheTextbookOne()
    {
        var p = Plant.DoubleIntegrator();
        Assert.That(p.A, Is.EqualTo(new double[] { 1, 1, 0, 1 }));
        Assert.That(p.B, Is.EqualTo(new double[] { 0, 1 }));
        Assert.That(p.C, Is.EqualTo(new double[] { 1, 0 }));
        Assert.That(Plant.Integrator(2).A, Is.EqualTo(p.A));
        Assert.That(Plant.PointMass2D().N, Is.EqualTo(4));
    }

    [Test]
    public void FromJson_ReadsAConsistentPlant()
    {
        var p = Plant.FromJson("""{"name": "di", "A": [[1, 1], [0, 1]], "B": [[0], [1]], "C": [[1, 0]]}""");
        Assert.That((p.N, p.P, p.Q), Is.EqualTo((2, 1, 1)));
        Assert.That(p.A, Is.EqualTo(Plant.DoubleIntegrator().A));
    }

    [TestCase("""{"A": [[1, 1], [0, 1]], "B": [[0], [1], [2]], "C": [[1, 0]]}""", "B must have n = 2 rows")]
    [TestCase("""{"A": [[1, 1, 0], [0, 1, 0]], "B": [[0], [1]], "C": [[1, 0]]}""", "A must be square, got 2×3")]
    [TestCase("""{"A": [[1, 1], [0, 1]], "B": [[0], [1]], "C": [[1, 0, 0]]}""", "C must have n = 2 columns")]
    [TestCase("""{"A": [[1, 1], [0]], "B": [[0], [1]], "C": [[1, 0]]}""", "ragged")]
    [TestCase("""{"A": [[1, 1], [0, 1]], "C": [[1, 0]]}""", "needs a non-empty matrix 'B'")]
    [TestCase("""{"A": [[1, 1], [0, 1]], "B": [[0], [1]], "C": [[1, 0]], "D": [[0]]}""", "unknown key 'D'")]
    public void FromJson_InconsistentShapes_AreClearErrors(string json, string expected)
    {
        var ex = Assert.Throws<ArgumentException>(() => Plant.FromJson(json));
        Assert.That(ex!.Message, Does.Contain(expected));
    }

    [Test]
    public void Constructor_RejectsWrongLengths()
    {
        var ex = Assert.Throws<ArgumentException>(() => new Plant("bad", 2, 1, 1, new double[4], new double[3], new double[2]));
        Assert.That(ex!.Message, Does.Contain("B has 3 elements, expected 2"));
    }
}
