using System.Globalization;
using Engine.Util;

namespace Engine.Tasks;

/// <summary>
/// Compositional reasoning questions (SEEDS §9, Yehudai et al. 2025): a full tree of a given depth and arity, presented one
/// node per step; after the last node, output the root's answer a(root).
/// </summary>
/// <remarks>
/// Trees come from <see cref="CrqTree.Full"/> (unit vectors in R^d, margin ≥ <see cref="Margin"/> at every internal node).
/// Token of node v [d + 2]: x_v, a leaf flag, an internal flag (in post-order the internal token closes its children: the
/// end-of-children marker). n = (k^(D+1) − 1)/(k − 1) tokens fill the last n steps of the trial (blank steps before them);
/// the target is a(root) at the last step, the mask 1 there only. Shapes: inputs [B][T][d + 2], targets and mask [B][T][d].
/// Correct (<see cref="Correct"/>): the leaf with the largest cosine to the output at the last step is the answer leaf. A
/// full binary tree in post-order holds at most D + 1 pending answers. OOD: one level deeper.
/// </remarks>
public sealed class CrqTask : TrialTask
{
    /// <summary>Creates the task.</summary>
    /// <exception cref="ArgumentException">depth &lt; 1 or &gt; 20, arity &lt; 2, dimension &lt; 2, a margin outside [0, 1), or a tree over 1 000 000 nodes.</exception>
    public CrqTask(int depth = 3, int arity = 2, int dimension = 8, CrqOrder order = CrqOrder.Post, double margin = 0.05)
    {
        if (depth is < 1 or > 20)
        {
            throw new ArgumentOutOfRangeException(nameof(depth), depth, $"CRQ depth must be in 1 … 20 (edges from the root to every leaf), got {depth}.");
        }

        Guard.AtLeast(arity, 2, nameof(arity));
        Guard.AtLeast(dimension, 2, nameof(dimension));
        if (!Enum.IsDefined(order))
        {
            throw new ArgumentOutOfRangeException(nameof(order), order, "order must be post or pre.");
        }

        if (!(margin >= 0 && margin < 1))
        {
            throw new ArgumentOutOfRangeException(nameof(margin), margin, $"margin must be in [0, 1), got {margin}.");
        }

        Depth = depth;
        Arity = arity;
        Dimension = dimension;
        Order = order;
        Margin = margin;
        Nodes = CrqTree.FullSize(depth, arity);
    }

    /// <summary>D, edges from the root to every leaf.</summary>
    public int Depth { get; }

    /// <summary>k, children per internal node.</summary>
    public int Arity { get; }

    /// <summary>d.</summary>
    public int Dimension { get; }

    /// <summary>Presentation order.</summary>
    public CrqOrder Order { get; }

    /// <summary>The smallest argmax margin of a generated tree.</summary>
    public double Margin { get; }

    /// <summary>n, nodes (tokens) per tree.</summary>
    public int Nodes { get; }

    /// <inheritdoc />
    public override string Name => "crq";

    /// <inheritdoc />
    public override int Inputs => Dimension + 2;

    /// <inheritdoc />
    public override int Outputs => Dimension;

    /// <inheritdoc />
    public override double DefaultThreshold => 1e-2;

    /// <inheritdoc />
    public override int MinimumSteps => Nodes;

    /// <inheritdoc />
    public override int DefaultSteps => Nodes;

    /// <inheritdoc />
    public override IReadOnlyDictionary<string, string> Settings => new Dictionary<string, string>
    {
        ["depth"] = Depth.ToString(CultureInfo.InvariantCulture),
        ["arity"] = Arity.ToString(CultureInfo.InvariantCulture),
        ["dimension"] = Dimension.ToString(CultureInfo.InvariantCulture),
        ["order"] = Order == CrqOrder.Pre ? "pre" : "post",
        ["margin"] = F(Margin),
    };

    /// <inheritdoc />
    public override ITrialTask OutOfDistribution() => new CrqTask(Depth + 1, Arity, Dimension, Order, Margin);

    /// <inheritdoc />
    public override int OodSteps(int trainedSteps) => trainedSteps - Nodes + CrqTree.FullSize(Depth + 1, Arity);

    /// <summary>Writes one tree as a trial: tokens in the last n steps, a(root) as the target at the last step.</summary>
    /// <exception cref="ArgumentException">The tree's dimension differs from the task's, it has more nodes than steps, or a buffer has the wrong length.</exception>
    public void WriteTrial(CrqTree tree, int steps, Span<float> inputs, Span<float> targets, Span<float> mask)
    {
        ArgumentNullException.ThrowIfNull(tree);
        if (tree.Dimension != Dimension)
        {
            throw new ArgumentException($"The tree has dimension {tree.Dimension}; the task expects {Dimension}.", nameof(tree));
        }

        if (tree.Count > steps)
        {
            throw new ArgumentOutOfRangeException(nameof(steps), steps, $"A tree of {tree.Count} nodes needs at least {tree.Count} steps, got {steps}.");
        }

        int ni = Inputs, d = Dimension;
        Guard.Length(inputs.Length, (long)steps * ni, nameof(inputs), $"[T={steps}][I={ni}]");
        Guard.Length(targets.Length, (long)steps * d, nameof(targets), $"[T={steps}][O={d}]");
        Guard.Length(mask.Length, (long)steps * d, nameof(mask), $"[T={steps}][O={d}]");
        inputs.Clear();
        targets.Clear();
        mask.Clear();
        var order = tree.Order(Order);
        int start = steps - order.Count;
        for (int k = 0; k < order.Count; k++)
        {
            int v = order[k];
            var token = inputs.Slice((start + k) * ni, ni);
            tree.Vector(v).CopyTo(token);
            token[d + (tree.IsLeaf(v) ? 0 : 1)] = 1f;
        }

        tree.Vector(tree.AnswerLeaf()).CopyTo(targets.Slice((steps - 1) * d, d));
        mask.Slice((steps - 1) * d, d).Fill(1f);
    }

    /// <summary>Whether an output [d] picks the right leaf: of the trial's leaf tokens (inputs [T][d + 2]), the one with the largest cosine to the output is the one closest to the target [d].</summary>
    public bool Correct(ReadOnlySpan<float> trialInputs, ReadOnlySpan<float> output, ReadOnlySpan<float> target)
    {
        int ni = Inputs, d = Dimension;
        Guard.Length(output.Length, d, nameof(output), $"[O={d}]");
        Guard.Length(target.Length, d, nameof(target), $"[O={d}]");
        if (trialInputs.Length % ni != 0)
        {
            throw new ArgumentException($"Trial inputs have {trialInputs.Length} values, not a multiple of I = {ni}.", nameof(trialInputs));
        }

        double outNorm = Math.Sqrt(Dot(output, output));
        int picked = -1, answer = -1;
        double bestCos = double.NegativeInfinity, bestTarget = double.NegativeInfinity;
        for (int t = 0; t < trialInputs.Length / ni; t++)
        {
            var token = trialInputs.Slice(t * ni, ni);
            if (token[d] != 1f)
            {
                continue;
            }

            var x = token[..d];
            double cos = Dot(x, output) / (Math.Sqrt(Dot(x, x)) * outNorm + 1e-12);
            double match = Dot(x, target);
            if (cos > bestCos)
            {
                bestCos = cos;
                picked = t;
            }

            if (match > bestTarget)
            {
                bestTarget = match;
                answer = t;
            }
        }

        return picked >= 0 && picked == answer && double.IsFinite(bestCos);
    }

    /// <inheritdoc />
    protected override void GenerateTrial(Rng rng, int steps, Span<float> inputs, Span<float> targets, Span<float> mask)
        => WriteTrial(CrqTree.Full(Depth, Arity, Dimension, rng, Margin), steps, inputs, targets, mask);

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
