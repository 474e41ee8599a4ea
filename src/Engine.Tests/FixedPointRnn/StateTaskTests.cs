using Engine.FixedPointRnn;
using Engine.Util;
using NUnit.Framework;

namespace Engine.Tests.FixedPointRnn;

/// <summary>The state-tracking tasks on hand-checked cases: parity and count labels, the groups A5 and S5, the copy layout.</summary>
public sealed class StateTaskTests
{
    [Test]
    public void Parity_LabelIsTheParityOfTheBitsSoFar()
    {
        var task = StateTasks.Create("parity");
        var tokens = new int[4 * 20];
        var targets = new int[4 * 20];
        task.Generate(new Rng(1), 4, 20, tokens, targets);
        for (int b = 0; b < 4; b++)
        {
            for (int t = 0; t < 20; t++)
            {
                int ones = tokens.Skip(b * 20).Take(t + 1).Sum();
                Assert.That(targets[b * 20 + t], Is.EqualTo(ones % 2));
            }
        }

        Assert.That(tokens.Distinct().Order(), Is.EqualTo(new[] { 0, 1 }));
    }

    [Test]
    public void Count_LabelIsTheOnesSoFarModuloM()
    {
        var task = (ModularCountTask)StateTasks.Create("count", new Dictionary<string, string> { ["modulus"] = "5" });
        Assert.That((task.Vocab, task.Classes), Is.EqualTo((2, 5)));
        var tokens = new int[3 * 40];
        var targets = new int[3 * 40];
        task.Generate(new Rng(2), 3, 40, tokens, targets);
        for (int b = 0; b < 3; b++)
        {
            for (int t = 0; t < 40; t++)
            {
                Assert.That(targets[b * 40 + t], Is.EqualTo(tokens.Skip(b * 40).Take(t + 1).Sum() % 5));
            }
        }
    }

    [Test]
    public void WordProblems_AreTheGroupsA5AndS5()
    {
        var a5 = new WordProblemTask(alternating: true);
        var s5 = new WordProblemTask(alternating: false);
        Assert.That((a5.Vocab, s5.Vocab), Is.EqualTo((60, 120)));
        // Closure, identity at index 0 (lexicographically first), inverses, associativity on a sample, and non-commutativity.
        foreach (var g in new[] { a5, s5 })
        {
            int n = g.Vocab;
            Assert.That(g.Elements[0], Is.EqualTo(new[] { 0, 1, 2, 3, 4 }));
            for (int a = 0; a < n; a++)
            {
                Assert.That(g.Multiply(0, a), Is.EqualTo(a));
                Assert.That(Enumerable.Range(0, n).Count(b => g.Multiply(a, b) == 0), Is.EqualTo(1), "one inverse");
            }

            var rng = new Rng(3);
            for (int k = 0; k < 200; k++)
            {
                int a = rng.NextInt(n), b = rng.NextInt(n), c = rng.NextInt(n);
                Assert.That(g.Multiply(g.Multiply(a, b), c), Is.EqualTo(g.Multiply(a, g.Multiply(b, c))));
            }

            Assert.That(Enumerable.Range(0, n).Any(a => Enumerable.Range(0, n).Any(b => g.Multiply(a, b) != g.Multiply(b, a))), Is.True);
        }

        // A hand-built product: (0 1 2)·(0 1) applies the transposition first: 0→1→2, 1→0→1, 2→2→0.
        int cycle = IndexOf(s5, [1, 2, 0, 3, 4]), swap = IndexOf(s5, [1, 0, 2, 3, 4]);
        Assert.That(s5.Elements[s5.Multiply(cycle, swap)], Is.EqualTo(new[] { 2, 1, 0, 3, 4 }));
        Assert.That(a5.Elements.All(p => Inversions(p) % 2 == 0), Is.True);

        var tokens = new int[2 * 10];
        var targets = new int[2 * 10];
        a5.Generate(new Rng(4), 2, 10, tokens, targets);
        for (int b = 0; b < 2; b++)
        {
            int p = tokens[b * 10];
            for (int t = 0; t < 10; t++)
            {
                p = t == 0 ? p : a5.Multiply(p, tokens[b * 10 + t]);
                Assert.That(targets[b * 10 + t], Is.EqualTo(p));
            }
        }
    }

    [Test]
    public void Copy_ScoresTheAnswerHalf_WithNextTokenTargets()
    {
        var task = new CopyTask(4);
        var tokens = new int[9];
        var targets = new int[9];
        task.Generate(new Rng(5), 1, 9, tokens, targets);
        // T = 9: "$ s0 s1 s2 | s0 s1 s2 ." with $ = 4, | = 5, . = 6.
        Assert.That(tokens[0], Is.EqualTo(4));
        Assert.That(tokens[4], Is.EqualTo(5));
        Assert.That(tokens.Skip(5).Take(3), Is.EqualTo(tokens.Skip(1).Take(3)));
        Assert.That(tokens[8], Is.EqualTo(6));
        Assert.That(targets, Is.EqualTo(new[] { -1, -1, -1, -1, tokens[1], tokens[2], tokens[3], 6, -1 }));
    }

    [Test]
    public void Create_RejectsUnknownTasksAndSettings_ByName()
    {
        var e = Assert.Throws<ArgumentException>(() => StateTasks.Create("dyck"))!;
        Assert.That(e.Message, Does.Contain("dyck").And.Contain("parity"));
        e = Assert.Throws<ArgumentException>(() => StateTasks.Create("parity", new Dictionary<string, string> { ["modulus"] = "3" }))!;
        Assert.That(e.Message, Does.Contain("modulus"));
        e = Assert.Throws<ArgumentException>(() => StateTasks.Create("count", new Dictionary<string, string> { ["modulus"] = "x" }))!;
        Assert.That(e.Message, Does.Contain("modulus").And.Contain("'x'"));
        Assert.Throws<ArgumentOutOfRangeException>(() => StateTasks.Create("count", new Dictionary<string, string> { ["modulus"] = "1" }));
    }

    private static int IndexOf(WordProblemTask g, int[] p) => Enumerable.Range(0, g.Vocab).Single(i => g.Elements[i].SequenceEqual(p));

    private static int Inversions(int[] p) => Enumerable.Range(0, p.Length).Sum(i => Enumerable.Range(i + 1, p.Length - i - 1).Count(j => p[i] > p[j]));
}
