using Engine.Util;

namespace Engine.Tasks;

/// <summary>The order in which a CRQ tree's nodes are presented, one token per step.</summary>
public enum CrqOrder
{
    /// <summary>Children (left to right) before their parent: an internal node's token closes its children.</summary>
    Post,

    /// <summary>A parent before its children (left to right): the answers below must be matched against a vector seen earlier.</summary>
    Pre,
}

/// <summary>
/// A compositional reasoning question (SEEDS §9): a rooted tree whose nodes carry vectors x_v ∈ R^d; a leaf answers with
/// its own vector, an internal node with the answer of the child that best matches its vector.
/// </summary>
/// <remarks>
/// a(leaf) = x_leaf; a(v) = a(c*), c* = argmax_{c ∈ children(v)} ⟨x_v, a(c)⟩, ties to the lowest child index; the answer is
/// a(root). Every answer is a leaf's vector, so <see cref="AnswerLeaf"/> returns the leaf. Nodes are 0 … n − 1; vectors are
/// [n][d] row-major.
/// </remarks>
public sealed class CrqTree
{
    private readonly int[][] _children;
    private readonly float[] _vectors;

    /// <summary>Creates a tree from its child lists and vectors.</summary>
    /// <param name="dimension">d ≥ 1.</param>
    /// <param name="children">Per node, its children (empty for a leaf) [n].</param>
    /// <param name="vectors">x_v [n][d].</param>
    /// <param name="root">The root node.</param>
    /// <exception cref="ArgumentException">Mismatched sizes, a child out of range, a node with two parents or unreachable from the root, or non-finite vectors.</exception>
    public CrqTree(int dimension, IReadOnlyList<int[]> children, float[] vectors, int root = 0)
    {
        ArgumentNullException.ThrowIfNull(children);
        ArgumentNullException.ThrowIfNull(vectors);
        Guard.AtLeast(dimension, 1, nameof(dimension));
        Guard.AtLeast(children.Count, 1, nameof(children));
        int n = children.Count;
        Guard.Length(vectors.Length, (long)n * dimension, nameof(vectors), $"[n={n}][d={dimension}]");
        Guard.Finite(vectors, nameof(vectors));
        if (root < 0 || root >= n)
        {
            throw new ArgumentOutOfRangeException(nameof(root), root, $"root must be a node in 0 … {n - 1}, got {root}.");
        }

        var parents = new int[n];
        Array.Fill(parents, -1);
        for (int v = 0; v < n; v++)
        {
            foreach (int c in children[v] ?? throw new ArgumentException($"Node {v} has a null child list.", nameof(children)))
            {
                if (c < 0 || c >= n || c == root || parents[c] >= 0)
                {
                    throw new ArgumentException($"Node {v} lists child {c}: children must be nodes in 0 … {n - 1}, not the root, each with one parent.", nameof(children));
                }

                parents[c] = v;
            }
        }

        Dimension = dimension;
        Root = root;
        _children = children.Select(c => c.ToArray()).ToArray();
        _vectors = vectors.ToArray();
        if (Order(CrqOrder.Post).Count != n)
        {
            throw new ArgumentException($"Every node must be reachable from the root {root}.", nameof(children));
        }
    }

    /// <summary>d.</summary>
    public int Dimension { get; }

    /// <summary>The root node.</summary>
    public int Root { get; }

    /// <summary>n, nodes.</summary>
    public int Count => _children.Length;

    /// <summary>The children of node <paramref name="node"/>.</summary>
    public IReadOnlyList<int> Children(int node) => _children[node];

    /// <summary>Whether node <paramref name="node"/> is a leaf.</summary>
    public bool IsLeaf(int node) => _children[node].Length == 0;

    /// <summary>x_v [d].</summary>
    public ReadOnlySpan<float> Vector(int node) => _vectors.AsSpan(node * Dimension, Dimension);

    /// <summary>The nodes in presentation order (children left to right).</summary>
    public IReadOnlyList<int> Order(CrqOrder order)
    {
        var list = new List<int>(Count);
        var stack = new Stack<(int Node, bool Expanded)>();
        stack.Push((Root, false));
        while (stack.Count > 0 && list.Count <= Count)
        {
            var (v, expanded) = stack.Pop();
            if (order == CrqOrder.Pre)
            {
                list.Add(v);
                for (int k = _children[v].Length - 1; k >= 0; k--)
                {
                    stack.Push((_children[v][k], false));
                }
            }
            else if (expanded || _children[v].Length == 0)
            {
                list.Add(v);
            }
            else
            {
                stack.Push((v, true));
                for (int k = _children[v].Length - 1; k >= 0; k--)
                {
                    stack.Push((_children[v][k], false));
                }
            }
        }

        return list;
    }

    /// <summary>
    /// The most answers a left-to-right post-order evaluation holds at once: a leaf pushes its answer, an internal node pops
    /// its children's and pushes its own. This is the memory a recurrent reader of the post-order stream needs (SEEDS §9:
    /// D + 1 for a full binary tree of depth D, Θ(n) for a caterpillar whose spine comes last).
    /// </summary>
    public int MaxPendingAnswers()
    {
        int pending = 0, max = 0;
        foreach (int v in Order(CrqOrder.Post))
        {
            pending += 1 - _children[v].Length;
            max = Math.Max(max, pending);
        }

        return max;
    }

    /// <summary>The leaf whose vector is a(<paramref name="node"/>) (default: the root's answer).</summary>
    public int AnswerLeaf(int node = -1) => Answers()[node < 0 ? Root : node];

    /// <summary>Per node, the leaf whose vector is its answer a(v) [n].</summary>
    public int[] Answers()
    {
        var answer = new int[Count];
        foreach (int v in Order(CrqOrder.Post))
        {
            answer[v] = IsLeaf(v) ? v : answer[_children[v][Choose(v, answer, out _)]];
        }

        return answer;
    }

    /// <summary>The smallest gap, over internal nodes, between the best and the second-best child score ⟨x_v, a(c)⟩ (+∞ with no internal node of two or more children).</summary>
    public double MinimumMargin()
    {
        var answer = Answers();
        double min = double.PositiveInfinity;
        for (int v = 0; v < Count; v++)
        {
            if (_children[v].Length > 1)
            {
                Choose(v, answer, out double margin);
                min = Math.Min(min, margin);
            }
        }

        return min;
    }

    /// <summary>The index (within v's children) of c*, and the margin to the runner-up.</summary>
    private int Choose(int v, int[] answer, out double margin)
    {
        var x = Vector(v);
        int best = -1;
        double top = double.NegativeInfinity, second = double.NegativeInfinity;
        for (int k = 0; k < _children[v].Length; k++)
        {
            double s = Dot(x, Vector(answer[_children[v][k]]));
            if (s > top)
            {
                second = top;
                top = s;
                best = k;
            }
            else if (s > second)
            {
                second = s;
            }
        }

        margin = top - second;
        return best;
    }

    /// <summary>A full tree of depth D (every leaf D edges below the root) and arity k, nodes in breadth-first order, random unit vectors resampled per internal node (bottom-up) until its argmax margin is at least <paramref name="margin"/>.</summary>
    /// <exception cref="ArgumentException">depth &lt; 1, arity &lt; 2, dimension &lt; 1, or a margin outside [0, 1).</exception>
    /// <exception cref="ArgumentException">No vector met the margin in 10 000 draws (a margin too large for the arity and dimension).</exception>
    public static CrqTree Full(int depth, int arity, int dimension, Rng rng, double margin = 0.05)
    {
        ArgumentNullException.ThrowIfNull(rng);
        Guard.AtLeast(depth, 1, nameof(depth));
        Guard.AtLeast(arity, 2, nameof(arity));
        Guard.AtLeast(dimension, 1, nameof(dimension));
        if (!(margin >= 0 && margin < 1))
        {
            throw new ArgumentOutOfRangeException(nameof(margin), margin, $"margin must be in [0, 1), got {margin}.");
        }

        int n = FullSize(depth, arity), internalNodes = (n - 1) / arity;
        var children = new int[n][];
        for (int v = 0; v < n; v++)
        {
            children[v] = v < internalNodes ? Enumerable.Range(v * arity + 1, arity).ToArray() : [];
        }

        var vectors = new float[n * dimension];
        var answer = new int[n];
        for (int v = n - 1; v >= 0; v--)
        {
            var x = vectors.AsSpan(v * dimension, dimension);
            if (v >= internalNodes)
            {
                UnitVector(rng, x);
                answer[v] = v;
                continue;
            }

            for (int attempt = 0; ; attempt++)
            {
                if (attempt == 10000)
                {
                    throw new ArgumentException($"CRQ generator: no node vector met the margin {margin} in 10000 draws (arity {arity}, d = {dimension}); lower the margin.", nameof(margin));
                }

                UnitVector(rng, x);
                int best = -1;
                double top = double.NegativeInfinity, second = double.NegativeInfinity;
                foreach (int c in children[v])
                {
                    double s = Dot(x, vectors.AsSpan(answer[c] * dimension, dimension));
                    if (s > top)
                    {
                        second = top;
                        top = s;
                        best = c;
                    }
                    else if (s > second)
                    {
                        second = s;
                    }
                }

                if (top - second >= margin)
                {
                    answer[v] = answer[best];
                    break;
                }
            }
        }

        return new CrqTree(dimension, children, vectors);
    }

    /// <summary>Nodes of a full tree: (k^(D+1) − 1)/(k − 1).</summary>
    /// <exception cref="ArgumentException">The tree would exceed 1 000 000 nodes.</exception>
    public static int FullSize(int depth, int arity)
    {
        long n = 1, level = 1;
        for (int d = 0; d < depth; d++)
        {
            level *= arity;
            n += level;
            if (n > 1_000_000)
            {
                throw new ArgumentOutOfRangeException(nameof(depth), depth, $"A full tree of depth {depth} and arity {arity} has over 1 000 000 nodes.");
            }
        }

        return (int)n;
    }

    private static void UnitVector(Rng rng, Span<float> x)
    {
        double norm;
        do
        {
            norm = 0;
            for (int i = 0; i < x.Length; i++)
            {
                double g = rng.NextGaussian();
                x[i] = (float)g;
                norm += g * g;
            }
        }
        while (norm < 1e-12);

        float inv = (float)(1 / Math.Sqrt(norm));
        for (int i = 0; i < x.Length; i++)
        {
            x[i] *= inv;
        }
    }

    private static double Dot(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        double s = 0;
        for (int i = 0; i < a.Length; i++)
        {
            s += (double)a[i] * b[i];
        }

        return s;
    }
}
