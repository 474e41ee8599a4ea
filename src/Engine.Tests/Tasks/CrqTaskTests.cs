using Engine.Tasks;
using Engine.Util;
using NUnit.Framework;

namespace Engine.Tests.Tasks;

/// <summary>Compositional reasoning questions (SEEDS §9): hand-built trees, Boolean formulas, the generator and its serialisation, named errors.</summary>
public sealed class CrqTaskTests
{
    [Test]
    public void HandBuiltTree_AnswerIsTheEvaluatedTree()
    {
        // Root 0 → 1, 2; node 1 → leaves 3, 4; node 2 → leaves 5, 6. d = 2.
        float[] v =
        [
            0, 1,     // root: prefers the larger second coordinate
            1, 0,     // node 1: picks leaf 4 (⟨(1,0),(0.9,0.1)⟩ = 0.9 > 0.2)
            -1, 0,    // node 2: picks leaf 6 (⟨(−1,0),(−0.5,0.8)⟩ = 0.5 > −0.3)
            0.2f, 0.9f,
            0.9f, 0.1f,
            0.3f, 0.1f,
            -0.5f, 0.8f,
        ];
        var tree = new CrqTree(2, [[1, 2], [3, 4], [5, 6], [], [], [], []], v);
        Assert.That(tree.AnswerLeaf(1), Is.EqualTo(4));
        Assert.That(tree.AnswerLeaf(2), Is.EqualTo(6));
        Assert.That(tree.AnswerLeaf(), Is.EqualTo(6), "root: ⟨(0,1), a(1) = (0.9,0.1)⟩ = 0.1 < ⟨(0,1), a(2) = (−0.5,0.8)⟩ = 0.8");
        Assert.That(tree.Order(CrqOrder.Post), Is.EqualTo(new[] { 3, 4, 1, 5, 6, 2, 0 }));
        Assert.That(tree.Order(CrqOrder.Pre), Is.EqualTo(new[] { 0, 1, 3, 4, 2, 5, 6 }));
        Assert.That(tree.MinimumMargin(), Is.EqualTo(0.7).Within(1e-6), "root: 0.8 − 0.1");
    }

    [Test]
    public void BooleanFormulas_AreCrqs_WhoseAnswerIsTheTruthValue()
    {
        var rng = Rng.For(7, Rng.DataStream);
        for (int f = 0; f < 300; f++)
        {
            var children = new List<int[]>();
            var vectors = new List<float>();
            var kind = new List<int>(); // 0 false leaf, 1 true leaf, 2 AND, 3 OR
            int Build(int depth)
            {
                int id = children.Count;
                children.Add([]);
                vectors.AddRange([0, 0]);
                bool leaf = depth == 0 || rng.NextDouble() < 0.25;
                int k = leaf ? rng.NextInt(2) : 2 + rng.NextInt(2);
                kind.Add(k);
                float x = k is 1 or 3 ? 1f : -1f; // true and OR: +e1; false and AND: −e1
                vectors[2 * id] = x;
                vectors[2 * id + 1] = 0;
                if (!leaf)
                {
                    int arity = 2 + rng.NextInt(3);
                    children[id] = Enumerable.Range(0, arity).Select(_ => Build(depth - 1)).ToArray();
                }

                return id;
            }

            Build(4);
            bool Eval(int v) => kind[v] switch
            {
                0 => false,
                1 => true,
                2 => children[v].All(Eval),
                _ => children[v].Any(Eval),
            };
            var tree = new CrqTree(2, children, vectors.ToArray());
            bool truth = Eval(0);
            Assert.That(tree.Vector(tree.AnswerLeaf())[0], Is.EqualTo(truth ? 1f : -1f), $"formula {f}");
            Assert.That(kind[tree.AnswerLeaf()], Is.EqualTo(truth ? 1 : 0));
        }
    }

    [Test]
    public void Generator_SerialisesPostOrder_TargetsTheAnswerAtTheLastStep_AndKeepsTheMargin()
    {
        var task = (CrqTask)TaskRegistry.Create("crq", new Dictionary<string, string> { ["depth"] = "3", ["arity"] = "2", ["dimension"] = "4" });
        Assert.That((task.Nodes, task.Inputs, task.Outputs, task.MinimumSteps), Is.EqualTo((15, 6, 4, 15)));
        var tree = CrqTree.Full(3, 2, 4, Rng.For(3, Rng.DataStream));
        Assert.That(tree.MinimumMargin(), Is.GreaterThanOrEqualTo(0.05));
        const int steps = 18;
        var x = new float[steps * 6];
        var y = new float[steps * 4];
        var m = new float[steps * 4];
        task.WriteTrial(tree, steps, x, y, m);
        var order = tree.Order(CrqOrder.Post);
        Assert.That(x.AsSpan(0, 3 * 6).ToArray(), Is.All.EqualTo(0f), "blank steps before the tree");
        for (int k = 0; k < order.Count; k++)
        {
            var token = x.AsSpan((3 + k) * 6, 6).ToArray();
            Assert.That(token[..4], Is.EqualTo(tree.Vector(order[k]).ToArray()));
            Assert.That(token[4..], Is.EqualTo(tree.IsLeaf(order[k]) ? new[] { 1f, 0f } : new[] { 0f, 1f }));
        }

        Assert.That(y.AsSpan((steps - 1) * 4, 4).ToArray(), Is.EqualTo(tree.Vector(tree.AnswerLeaf()).ToArray()));
        Assert.That(m.AsSpan((steps - 1) * 4, 4).ToArray(), Is.All.EqualTo(1f));
        Assert.That(m.AsSpan(0, (steps - 1) * 4).ToArray(), Is.All.EqualTo(0f), "only the last step is scored");
        var target = y.AsSpan((steps - 1) * 4, 4);
        Assert.That(task.Correct(x, target, target), Is.True);
        int other = order.First(v => tree.IsLeaf(v) && v != tree.AnswerLeaf());
        Assert.That(task.Correct(x, tree.Vector(other), target), Is.False);
    }

    [TestCase(1)]
    [TestCase(3)]
    [TestCase(6)]
    public void PendingAnswers_FullBinaryTreeIsDepthPlusOne_CaterpillarDependsOnTheOrder(int depth)
    {
        Assert.That(CrqTree.Full(depth, 2, 4, Rng.For(depth, 1)).MaxPendingAnswers(), Is.EqualTo(depth + 1));
        // A caterpillar of s spine nodes: each internal node has a leaf and the rest of the spine as children.
        int s = 4 * depth;
        CrqTree Caterpillar(bool leafFirst)
        {
            var children = new List<int[]>();
            for (int k = 0; k < s; k++)
            {
                int leaf = 2 * k + 1, next = 2 * k + 2;
                children.Add(leafFirst ? [leaf, next] : [next, leaf]);
                children.Add([]);
            }

            children.Add([]);
            return new CrqTree(2, children, new float[children.Count * 2]);
        }

        Assert.That(Caterpillar(leafFirst: true).MaxPendingAnswers(), Is.EqualTo(s + 1), "every leaf waits for the spine below it");
        Assert.That(Caterpillar(leafFirst: false).MaxPendingAnswers(), Is.EqualTo(2), "the spine first: one answer and one leaf");
    }

    [Test]
    public void Generate_SameSeedSameData_OtherSeedOtherData()
    {
        var task = new CrqTask(2, 3, 8, CrqOrder.Pre);
        int steps = task.DefaultSteps, n = 5 * steps;
        float[] Draw(long seed)
        {
            var x = new float[n * task.Inputs];
            task.Generate(Rng.For(seed, Rng.DataStream), 5, steps, x, new float[n * 8], new float[n * 8]);
            return x;
        }

        Assert.That(Draw(4), Is.EqualTo(Draw(4)));
        Assert.That(Draw(5), Is.Not.EqualTo(Draw(4)));
        Assert.That(TaskRegistry.Create("crq", task.Settings).Settings, Is.EqualTo(task.Settings));
        Assert.That(task.OodSteps(steps), Is.EqualTo(CrqTree.FullSize(3, 3)));
    }

    [Test]
    public void BadInput_IsANamedError()
    {
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => TaskRegistry.Create("crq", new Dictionary<string, string> { ["depth"] = "0" }));
        Assert.That(ex!.ParamName, Is.EqualTo("depth"));
        Assert.That(ex.Message, Does.Contain("got 0"));
        Assert.Throws<ArgumentOutOfRangeException>(() => new CrqTask(arity: 1));
        var bad = Assert.Throws<ArgumentException>(() => TaskRegistry.Create("crq", new Dictionary<string, string> { ["order"] = "inorder" }));
        Assert.That(bad!.Message, Does.Contain("'order'").And.Contain("post, pre"));
        bad = Assert.Throws<ArgumentException>(() => new CrqTree(2, [[1], [0]], new float[4]));
        Assert.That(bad!.Message, Does.Contain("child 0"));
        Assert.Throws<ArgumentException>(() => new CrqTask(2, dimension: 4).WriteTrial(CrqTree.Full(2, 2, 3, Rng.For(1, 1)), 7, new float[7 * 6], new float[28], new float[28]));
    }
}
