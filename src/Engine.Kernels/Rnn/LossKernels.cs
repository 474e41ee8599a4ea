using ILGPU;

namespace Engine.Kernels.Rnn;

/// <summary>Arguments of <see cref="LossKernels.MaskedMse"/> and <see cref="LossKernels.OutputError"/>.</summary>
public readonly struct LossArgs
{
    /// <summary>Creates the pack.</summary>
    public LossArgs(RnnShape shape, ArrayView<float> outputs, ArrayView<float> targets, ArrayView<float> mask,
        ArrayView<int> active, ArrayView<float> loss, ArrayView<float> denominator, ArrayView<float> errors)
    {
        Shape = shape;
        Outputs = outputs;
        Targets = targets;
        Mask = mask;
        Active = active;
        Loss = loss;
        Denominator = denominator;
        Errors = errors;
    }

    /// <summary>Sizes and constants.</summary>
    public readonly RnnShape Shape;

    /// <summary>y, [E][B][T][O].</summary>
    public readonly ArrayView<float> Outputs;

    /// <summary>ŷ, [S][B][T][O].</summary>
    public readonly ArrayView<float> Targets;

    /// <summary>m, [S][B][T][O].</summary>
    public readonly ArrayView<float> Mask;

    /// <summary>[E]: 0 marks an inactive network (loss 0, error 0).</summary>
    public readonly ArrayView<int> Active;

    /// <summary>L, [E].</summary>
    public readonly ArrayView<float> Loss;

    /// <summary>max(1, Σ m), [E].</summary>
    public readonly ArrayView<float> Denominator;

    /// <summary>∂L/∂y, [E][B][T][O].</summary>
    public readonly ArrayView<float> Errors;
}

/// <summary>The masked MSE per network and its gradient with respect to the outputs.</summary>
public static class LossKernels
{
    /// <summary>Loss of each network: one group of one warp per network (grid E, group = warp size).</summary>
    /// <remarks>
    /// L_e = Σ m (y − ŷ)² / max(1, Σ m) over its B×T×O entries. Each lane sums a strided share in a fixed order,
    /// then a shuffle tree adds the lanes, so the result is deterministic. Inactive networks get L = 0.
    /// </remarks>
    public static void MaskedMse(LossArgs a)
    {
        var s = a.Shape;
        int e = Grid.IdxX;
        if (e >= s.Networks)
        {
            return;
        }

        int count = s.Trials * s.Steps * s.Outputs;
        int y0 = e * count;
        int m0 = s.SetOf(e) * count;
        float sse = 0f;
        float msum = 0f;
        if (a.Active[e] != 0)
        {
            for (int k = Warp.LaneIdx; k < count; k += Warp.WarpSize)
            {
                float m = a.Mask[m0 + k];
                float d = a.Outputs[y0 + k] - a.Targets[m0 + k];
                sse += m * d * d;
                msum += m;
            }
        }

        for (int offset = Warp.WarpSize / 2; offset > 0; offset /= 2)
        {
            sse += Warp.ShuffleDown(sse, offset);
            msum += Warp.ShuffleDown(msum, offset);
        }

        if (Warp.IsFirstLane)
        {
            float denom = msum > 1f ? msum : 1f;
            a.Denominator[e] = denom;
            a.Loss[e] = a.Active[e] != 0 ? sse / denom : 0f;
        }
    }

    /// <summary>∂L/∂y for every output entry, after <see cref="MaskedMse"/>.</summary>
    /// <remarks>Thread (e, b, t, o) of E×B×T×O: err = 2 m (y − ŷ) / max(1, Σ m); 0 for an inactive network.</remarks>
    public static void OutputError(LossArgs a)
    {
        var s = a.Shape;
        int idx = Grid.GlobalIndex.X;
        int count = s.Trials * s.Steps * s.Outputs;
        if (idx >= s.Networks * count)
        {
            return;
        }

        int e = idx / count;
        int k = idx - e * count;
        int m = s.SetOf(e) * count + k;
        a.Errors[idx] = a.Active[e] != 0
            ? 2f * a.Mask[m] * (a.Outputs[idx] - a.Targets[m]) / a.Denominator[e]
            : 0f;
    }
}
