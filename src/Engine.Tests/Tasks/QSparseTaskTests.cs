using Engine.Tasks;
using Engine.Util;
using NUnit.Framework;

namespace Engine.Tests.Tasks;

/// <summary>The q-sparse retrieval task (SEEDS §8): hand-built instances, the pointed-to positions, seeds and bad input.</summary>
public sealed class QSparseTaskTests
{
    private static double Expected(QSparseTask task, float[] z, params int[] tuple)
    {
        double s = 0;
        foreach (int t in tuple)
        {
            for (int k = 0; k < task.Dimension; k++)
            {
                s += task.Beta[k] * (double)z[t * task.Dimension + k];
            }
        }

        return Math.Tanh(s / tuple.Length);
    }

    [Test]
    public void Encode_HandBuiltFullInstance_TokensThenQueries_TargetsFollowTheModel()
    {
        var task = new QSparseTask(length: 4, q: 2, dimension: 3, QSparseVariant.Full, betaSeed: 5);
        float[] z = [1, 0, 0, 0, 2, 0, 0, 0, 3, -1, 1, -1];
        int[] pointers = [1, 3, 0, 2, 3, 0, 2, 1];
        int steps = task.DefaultSteps, ni = task.Inputs;
        Assert.That((steps, ni), Is.EqualTo((8, 3 + 2 * 4 + 1)));
        var x = new float[steps * ni];
        var y = new float[steps];
        var m = new float[steps];
        task.Encode(z, pointers, x, y, m);
        Assert.That(Math.Sqrt(task.Beta.ToArray().Sum(b => (double)b * b)), Is.EqualTo(1).Within(1e-6), "β is a unit vector");
        for (int i = 0; i < 4; i++)
        {
            var token = x.AsSpan(i * ni, ni).ToArray();
            Assert.That(token[..3], Is.EqualTo(z[(3 * i)..(3 * i + 3)]), $"token step {i} carries z_{i}");
            Assert.That(token[3..], Is.All.EqualTo(0f), "no pointer and no flag on token steps");
            Assert.That(m[i], Is.EqualTo(0f));

            var query = x.AsSpan((4 + i) * ni, ni).ToArray();
            var hot = Enumerable.Range(0, ni).Where(c => query[c] != 0).ToArray();
            Assert.That(hot, Is.EqualTo(new[] { 3 + pointers[2 * i], 3 + 4 + pointers[2 * i + 1], ni - 1 }), $"query {i} names exactly its two pointers, then the flag");
            Assert.That(query.Where(v => v != 0), Is.All.EqualTo(1f));
            Assert.That(m[4 + i], Is.EqualTo(1f));
            Assert.That(y[4 + i], Is.EqualTo(Expected(task, z, pointers[2 * i], pointers[2 * i + 1])).Within(1e-6), $"y_{i} = tanh(<β, mean of the pointed tokens>)");
        }
    }

    [Test]
    public void Encode_HandBuiltSimplifiedInstance_PointersFirst_OneOutputAtTheEnd()
    {
        var task = new QSparseTask(length: 5, q: 2, dimension: 2, QSparseVariant.Simplified);
        float[] z = [0.5f, -0.5f, 1, 1, -2, 0.25f, 0, 3, 0.1f, 0.2f];
        int[] tuple = [4, 1];
        int steps = task.DefaultSteps, ni = task.Inputs;
        Assert.That(steps, Is.EqualTo(6));
        var x = new float[steps * ni];
        var y = new float[steps];
        var m = new float[steps];
        task.Encode(z, tuple, x, y, m);
        var first = x.AsSpan(0, ni).ToArray();
        Assert.That(Enumerable.Range(0, ni).Where(c => first[c] != 0), Is.EqualTo(new[] { 2 + 4, 2 + 5 + 1, ni - 1 }));
        for (int i = 0; i < 5; i++)
        {
            Assert.That(x.AsSpan((1 + i) * ni, 2).ToArray(), Is.EqualTo(z[(2 * i)..(2 * i + 2)]));
            Assert.That(x.AsSpan((1 + i) * ni + 2, ni - 2).ToArray(), Is.All.EqualTo(0f));
        }

        Assert.That(m, Is.EqualTo(new float[] { 0, 0, 0, 0, 0, 1 }));
        Assert.That(y[5], Is.EqualTo(Expected(task, z, 4, 1)).Within(1e-6));
        Assert.That(y[..5], Is.All.EqualTo(0f));
    }

    [Test]
    public void Encode_WithPositions_MarksEachTokenStep()
    {
        var task = new QSparseTask(length: 3, q: 1, dimension: 1, QSparseVariant.Full, positions: true);
        var x = new float[task.DefaultSteps * task.Inputs];
        task.Encode([1, 2, 3], [2, 0, 1], x, new float[6], new float[6]);
        for (int i = 0; i < 3; i++)
        {
            Assert.That(x[i * task.Inputs + task.PositionOffset + i], Is.EqualTo(1f));
            Assert.That(x.AsSpan(i * task.Inputs + task.PositionOffset, 3).ToArray().Sum(), Is.EqualTo(1f));
        }
    }

    [Test]
    public void Encode_ScalarCode_GivesEachPositionOneValue()
    {
        var task = (QSparseTask)TaskRegistry.Create("qsparse", new Dictionary<string, string>
        {
            ["length"] = "4", ["q"] = "2", ["dimension"] = "1", ["variant"] = "simplified", ["positions"] = "true", ["code"] = "scalar",
        });
        Assert.That(task.Inputs, Is.EqualTo(1 + 2 + 1 + 1));
        var x = new float[task.DefaultSteps * task.Inputs];
        task.Encode([1, 2, 3, 4], [3, 0], x, new float[5], new float[5]);
        Assert.That(x.AsSpan(0, 5).ToArray(), Is.EqualTo(new[] { 0f, 1f, 0.25f, 0f, 1f }), "pointers (3 + 1)/4 and (0 + 1)/4, then the flag");
        Assert.That(x.AsSpan(2 * 5, 5).ToArray(), Is.EqualTo(new[] { 2f, 0f, 0f, 0.5f, 0f }), "token 1 with position (1 + 1)/4");
    }

    [TestCase(QSparseVariant.Full)]
    [TestCase(QSparseVariant.Simplified)]
    public void Generate_TargetDependsOnlyOnTheTokensThePromptNames(QSparseVariant variant)
    {
        var task = new QSparseTask(length: 7, q: 3, dimension: 4, variant);
        int steps = task.DefaultSteps, ni = task.Inputs, n = task.Length, d = task.Dimension;
        int tokenStart = variant == QSparseVariant.Full ? 0 : 1;
        var x = new float[steps * ni];
        var y = new float[steps];
        var m = new float[steps];
        task.Generate(Rng.For(11, Rng.DataStream), 1, steps, x, y, m);
        var z = new float[n * d];
        for (int i = 0; i < n; i++)
        {
            x.AsSpan((tokenStart + i) * ni, d).CopyTo(z.AsSpan(i * d, d));
        }

        for (int p = 0; p < task.TargetsPerTrial; p++)
        {
            int query = variant == QSparseVariant.Full ? n + p : 0, scored = variant == QSparseVariant.Full ? n + p : steps - 1;
            var tuple = Enumerable.Range(0, task.Q).Select(j => Enumerable.Range(0, n).Single(t => x[query * ni + task.PointerOffset(j) + t] == 1f)).ToArray();
            Assert.That(tuple.Distinct().Count(), Is.EqualTo(task.Q), "pointers of a tuple are distinct");
            Assert.That(y[scored], Is.EqualTo(Expected(task, z, tuple)).Within(1e-6));
            for (int i = 0; i < n; i++)
            {
                var changed = (float[])z.Clone();
                changed[i * d] += 1f;
                bool named = tuple.Contains(i);
                Assert.That(task.Target(changed, tuple) != task.Target(z, tuple), Is.EqualTo(named), $"output {p} changes with token {i} iff the prompt names it");
            }
        }
    }

    [Test]
    public void SameSeed_SameData_OtherSeed_OtherData()
    {
        var task = (QSparseTask)TaskRegistry.Create("qsparse", new Dictionary<string, string> { ["length"] = "6", ["q"] = "2", ["dimension"] = "3" });
        float[] Draw(long seed)
        {
            var x = new float[4 * task.DefaultSteps * task.Inputs];
            var y = new float[4 * task.DefaultSteps];
            task.Generate(Rng.For(seed, Rng.DataStream), 4, task.DefaultSteps, x, y, new float[y.Length]);
            return [.. x, .. y];
        }

        Assert.That(Draw(3), Is.EqualTo(Draw(3)));
        Assert.That(Draw(4), Is.Not.EqualTo(Draw(3)));
        Assert.That(new QSparseTask(6, 2, 3).Beta.ToArray(), Is.EqualTo(task.Beta.ToArray()), "β comes from the task's own seed, not the trial's");
        Assert.That(new QSparseTask(6, 2, 3, betaSeed: 1).Beta.ToArray(), Is.Not.EqualTo(task.Beta.ToArray()));
        Assert.That(task.Settings["variant"], Is.EqualTo("full"));
    }

    [Test]
    public void BadInput_IsANamedError()
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => _ = new QSparseTask(length: 3, q: 4));
        Assert.That(e!.ParamName, Is.EqualTo("q"));
        Assert.That(e.Message, Does.Contain("q (4) must be at most the sequence length N (3)"));
        Assert.That(Assert.Throws<ArgumentOutOfRangeException>(() => _ = new QSparseTask(length: 0))!.ParamName, Is.EqualTo("length"));
        Assert.That(Assert.Throws<ArgumentOutOfRangeException>(() => _ = new QSparseTask(dimension: 0))!.ParamName, Is.EqualTo("dimension"));
        Assert.That(Assert.Throws<ArgumentException>(() => TaskRegistry.Create("qsparse", new Dictionary<string, string> { ["variant"] = "partial" }))!.Message,
            Does.Contain("full or simplified, got 'partial'"));
        var task = new QSparseTask(length: 3, q: 2, dimension: 1, QSparseVariant.Simplified);
        var x = new float[task.DefaultSteps * task.Inputs];
        Assert.That(Assert.Throws<ArgumentException>(() => task.Encode([1, 2, 3], [1, 1], x, new float[4], new float[4]))!.Message, Does.Contain("repeats position 1"));
        Assert.That(Assert.Throws<ArgumentOutOfRangeException>(() => task.Encode([1, 2, 3], [0, 3], x, new float[4], new float[4]))!.Message, Does.Contain("must be in [0, 3)"));
        Assert.That(Assert.Throws<ArgumentException>(() => task.Encode([1, 2], [0, 1], x, new float[4], new float[4]))!.Message, Does.Contain("features"));
    }
}
