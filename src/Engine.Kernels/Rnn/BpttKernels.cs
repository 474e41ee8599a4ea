using ILGPU;

namespace Engine.Kernels.Rnn;

/// <summary>Arguments of the backward-through-time step kernels.</summary>
public readonly struct BackwardStepArgs
{
    /// <summary>Creates the pack.</summary>
    public BackwardStepArgs(RnnShape shape, int step, ArrayView<float> parameters, ArrayView<float> errors,
        ArrayView<float> states, ArrayView<float> activations, ArrayView<float> activity, ArrayView<float> carry,
        ArrayView<float> deltas, ArrayView<int> active, ArrayView<float> stateGradient, int stateGradientTrials)
    {
        Shape = shape;
        Step = step;
        StateGradient = stateGradient;
        StateGradientTrials = stateGradientTrials;
        Parameters = parameters;
        Errors = errors;
        States = states;
        Activations = activations;
        Activity = activity;
        Carry = carry;
        Deltas = deltas;
        Active = active;
    }

    /// <summary>Sizes and constants.</summary>
    public readonly RnnShape Shape;

    /// <summary>t, 0-based; the host runs t = T−1 … 0.</summary>
    public readonly int Step;

    /// <summary>[E][P].</summary>
    public readonly ArrayView<float> Parameters;

    /// <summary>∂L/∂y, [E][B][T][O].</summary>
    public readonly ArrayView<float> Errors;

    /// <summary>h, [E][B][T][N] (for the activity regulariser).</summary>
    public readonly ArrayView<float> States;

    /// <summary>a = φ(z) (discrete, leaky) or r = φ(h) (rate), [E][B][T][N].</summary>
    public readonly ArrayView<float> Activations;

    /// <summary>λ of the activity regulariser λ · mean h², [E] (0: off).</summary>
    public readonly ArrayView<float> Activity;

    /// <summary>g, the gradient reaching h_t, [E][B][N] (zero before t = T−1).</summary>
    public readonly ArrayView<float> Carry;

    /// <summary>δ, [E][B][T][N].</summary>
    public readonly ArrayView<float> Deltas;

    /// <summary>[E]: 0 skips a network.</summary>
    public readonly ArrayView<int> Active;

    /// <summary>A representational loss's dL/dh, [E][B][T][N], read for the first <see cref="StateGradientTrials"/> trials.</summary>
    public readonly ArrayView<float> StateGradient;

    /// <summary>P, the trials with a state gradient (0: none, and <see cref="StateGradient"/> is not read).</summary>
    public readonly int StateGradientTrials;
}

/// <summary>Arguments of <see cref="BpttKernels.WeightGradient"/>.</summary>
public readonly struct WeightGradientArgs
{
    /// <summary>Creates the pack.</summary>
    public WeightGradientArgs(RnnShape shape, ArrayView<float> parameters, ArrayView<float> inputs, ArrayView<float> states,
        ArrayView<float> activations, ArrayView<float> deltas, ArrayView<float> errors, ArrayView<float> carry, ArrayView<int> active,
        ArrayView<float> gradient)
    {
        Shape = shape;
        Parameters = parameters;
        Inputs = inputs;
        States = states;
        Activations = activations;
        Deltas = deltas;
        Errors = errors;
        Carry = carry;
        Active = active;
        Gradient = gradient;
    }

    /// <summary>Sizes and constants.</summary>
    public readonly RnnShape Shape;

    /// <summary>[E][P].</summary>
    public readonly ArrayView<float> Parameters;

    /// <summary>[S][B][T][I].</summary>
    public readonly ArrayView<float> Inputs;

    /// <summary>h, [E][B][T][N] (read by discrete and leaky cells).</summary>
    public readonly ArrayView<float> States;

    /// <summary>r = φ(h), [E][B][T][N] (read by the rate cell).</summary>
    public readonly ArrayView<float> Activations;

    /// <summary>[E][B][T][N].</summary>
    public readonly ArrayView<float> Deltas;

    /// <summary>[E][B][T][O].</summary>
    public readonly ArrayView<float> Errors;

    /// <summary>dL/dh₀ per trial after the last backward step, [E][B][N].</summary>
    public readonly ArrayView<float> Carry;

    /// <summary>[E]: 0 writes a zero gradient.</summary>
    public readonly ArrayView<int> Active;

    /// <summary>[E][P], written.</summary>
    public readonly ArrayView<float> Gradient;
}

/// <summary>Arguments of <see cref="BpttKernels.NormSquared"/>.</summary>
public readonly struct NormArgs
{
    /// <summary>Creates the pack.</summary>
    public NormArgs(int networks, int stride, ArrayView<float> gradient, ArrayView<float> normSquared)
    {
        Networks = networks;
        Stride = stride;
        Gradient = gradient;
        NormSquared = normSquared;
    }

    /// <summary>E.</summary>
    public readonly int Networks;

    /// <summary>P.</summary>
    public readonly int Stride;

    /// <summary>[E][P].</summary>
    public readonly ArrayView<float> Gradient;

    /// <summary>[E].</summary>
    public readonly ArrayView<float> NormSquared;
}

/// <summary>Backpropagation through time: per-step δ and carry, then deterministic weight-gradient sums.</summary>
/// <remarks>
/// Per step t (descending), with g the gradient reaching h_t and κ_e = 2λ_e / (B T N) the activity regulariser's scale
/// (<see cref="Delta"/>, then <see cref="Carry"/>). Discrete and leaky cells: g += Cᵀ e_t + κ h_t; δ_t = α g ⊙ φ′(a_t);
/// g ← (1 − α) g + Wᵀ δ_t. Rate cell (r = φ(h)): g += φ′(r_t) ⊙ Cᵀ e_t + κ h_t; δ_t = α g;
/// g ← (1 − α) g + φ′(r_{t−1}) ⊙ Wᵀ δ_t. After t = 0 the carry holds dL/dh₀ per trial. Each gradient element is then
/// one thread's sum over b and t (<see cref="WeightGradient"/>): no atomics, a fixed order.
/// </remarks>
public static class BpttKernels
{
    /// <summary>Adds the readout error and the activity term to the carry and forms δ_t.</summary>
    /// <remarks>
    /// Thread (e, b, i) of E×B×N, with κ_e = 2λ_e / (B T N). Discrete and leaky cells:
    /// g_i += Σ_o C[o,i] e_{t,o} + κ_e h_{t,i} (+ the state loss's dL/dh_{t,i} on its probe trials); δ_{t,i} = α g_i φ′(a_{t,i}). Rate cell:
    /// g_i += φ′(r_{t,i}) Σ_o C[o,i] e_{t,o} + κ_e h_{t,i}; δ_{t,i} = α g_i. φ′ comes from the stored activation
    /// (<see cref="ActivationCode.DerivativeFromOutput(int, float)"/>). g stays in Carry.
    /// </remarks>
    public static void Delta(BackwardStepArgs a)
    {
        var s = a.Shape;
        int idx = Grid.GlobalIndex.X;
        int n = s.Hidden;
        if (idx >= s.Networks * s.Trials * n)
        {
            return;
        }

        int i = idx % n;
        int eb = idx / n;
        int e = eb / s.Trials;
        if (a.Active[e] == 0)
        {
            return;
        }

        int t = a.Step;
        int c = e * s.Stride + s.WOutOffset + i;
        int err = (eb * s.Steps + t) * s.Outputs;
        int row = (eb * s.Steps + t) * n + i;
        float slope = ActivationCode.DerivativeFromOutput(s.Activation, a.Activations[row]);
        float g = a.Carry[idx];
        if (s.Rate != 0)
        {
            float back = 0f;
            for (int o = 0; o < s.Outputs; o++)
            {
                back += a.Parameters[c + o * n] * a.Errors[err + o];
            }

            g += slope * back;
        }
        else
        {
            for (int o = 0; o < s.Outputs; o++)
            {
                g += a.Parameters[c + o * n] * a.Errors[err + o];
            }
        }

        float lambda = a.Activity[e];
        if (lambda != 0f)
        {
            g += 2f * lambda / ((float)s.Trials * s.Steps * n) * a.States[row];
        }

        if (eb % s.Trials < a.StateGradientTrials)
        {
            g += a.StateGradient[row];
        }

        a.Carry[idx] = g;
        a.Deltas[row] = s.Rate != 0 ? s.Alpha * g : s.Alpha * g * slope;
    }

    /// <summary>Carries the gradient from h_t to h_{t−1}.</summary>
    /// <remarks>
    /// Thread (e, b, j) of E×B×N: g_j ← (1 − α) g_j + Σ_i W[i,j] δ_{t,i} (discrete, leaky) or
    /// g_j ← (1 − α) g_j + φ′(r_{t−1,j}) Σ_i W[i,j] δ_{t,i} (rate; r_{t−1} = φ(h_{t−1}) from Activations, or φ(h₀) at t = 0).
    /// </remarks>
    public static void Carry(BackwardStepArgs a)
    {
        var s = a.Shape;
        int idx = Grid.GlobalIndex.X;
        int n = s.Hidden;
        if (idx >= s.Networks * s.Trials * n)
        {
            return;
        }

        int j = idx % n;
        int eb = idx / n;
        int e = eb / s.Trials;
        if (a.Active[e] == 0)
        {
            return;
        }

        int t = a.Step;
        int w = e * s.Stride + j;
        int d = (eb * s.Steps + t) * n;
        float g = (1f - s.Alpha) * a.Carry[idx];
        if (s.Rate != 0)
        {
            float back = 0f;
            for (int i = 0; i < n; i++)
            {
                back += a.Parameters[w + i * n] * a.Deltas[d + i];
            }

            float rPrev;
            if (t > 0)
            {
                rPrev = a.Activations[d - n + j];
            }
            else
            {
                float h0 = s.LearnedInitialState != 0 ? a.Parameters[e * s.Stride + s.H0Offset + j] : 0f;
                rPrev = ActivationCode.Apply(s.Activation, h0);
            }

            g += ActivationCode.DerivativeFromOutput(s.Activation, rPrev) * back;
        }
        else
        {
            for (int i = 0; i < n; i++)
            {
                g += a.Parameters[w + i * n] * a.Deltas[d + i];
            }
        }

        a.Carry[idx] = g;
    }

    /// <summary>One gradient element per thread, summed over trials and steps.</summary>
    /// <remarks>
    /// Thread (e, k) of E×P, with q_t = h_t (discrete, leaky) or q_t = r_t = φ(h_t) (rate) and q_{−1} = h₀ or φ(h₀):
    /// dW[i,j] = Σ δ_{t,i} q_{t−1,j}; dU[i,j] = Σ δ_{t,i} x_{t,j}; db_i = Σ δ_{t,i}; dC[o,i] = Σ e_{t,o} q_{t,i};
    /// dd_o = Σ e_{t,o}; dh₀_j = Σ_b g_{b,j}. Inactive networks get 0.
    /// </remarks>
    public static void WeightGradient(WeightGradientArgs a)
    {
        var s = a.Shape;
        int idx = Grid.GlobalIndex.X;
        if (idx >= s.Networks * s.Stride)
        {
            return;
        }

        int e = idx / s.Stride;
        int k = idx - e * s.Stride;
        if (a.Active[e] == 0)
        {
            a.Gradient[idx] = 0f;
            return;
        }

        int n = s.Hidden, steps = s.Steps;
        float sum = 0f;
        if (k < s.WInOffset)
        {
            int i = k / n, j = k - (k / n) * n;
            float q0 = 0f;
            if (s.LearnedInitialState != 0)
            {
                q0 = a.Parameters[e * s.Stride + s.H0Offset + j];
                if (s.Rate != 0)
                {
                    q0 = ActivationCode.Apply(s.Activation, q0);
                }
            }

            for (int b = 0; b < s.Trials; b++)
            {
                int eb = e * s.Trials + b;
                int row = eb * steps * n;
                if (s.LearnedInitialState != 0)
                {
                    sum += a.Deltas[row + i] * q0;
                }

                if (s.Rate != 0)
                {
                    for (int t = 1; t < steps; t++)
                    {
                        sum += a.Deltas[row + t * n + i] * a.Activations[row + (t - 1) * n + j];
                    }
                }
                else
                {
                    for (int t = 1; t < steps; t++)
                    {
                        sum += a.Deltas[row + t * n + i] * a.States[row + (t - 1) * n + j];
                    }
                }
            }
        }
        else if (k < s.BiasOffset)
        {
            int q = k - s.WInOffset;
            int i = q / s.Inputs, j = q - (q / s.Inputs) * s.Inputs;
            int set = s.SetOf(e);
            for (int b = 0; b < s.Trials; b++)
            {
                int row = (e * s.Trials + b) * steps * n;
                int x = (set * s.Trials + b) * steps * s.Inputs;
                for (int t = 0; t < steps; t++)
                {
                    sum += a.Deltas[row + t * n + i] * a.Inputs[x + t * s.Inputs + j];
                }
            }
        }
        else if (k < s.WOutOffset)
        {
            int i = k - s.BiasOffset;
            for (int b = 0; b < s.Trials; b++)
            {
                int row = (e * s.Trials + b) * steps * n;
                for (int t = 0; t < steps; t++)
                {
                    sum += a.Deltas[row + t * n + i];
                }
            }
        }
        else if (k < s.BOutOffset)
        {
            int q = k - s.WOutOffset;
            int o = q / n, i = q - (q / n) * n;
            for (int b = 0; b < s.Trials; b++)
            {
                int eb = e * s.Trials + b;
                for (int t = 0; t < steps; t++)
                {
                    int r = eb * steps + t;
                    float read = s.Rate != 0 ? a.Activations[r * n + i] : a.States[r * n + i];
                    sum += a.Errors[r * s.Outputs + o] * read;
                }
            }
        }
        else if (k < s.H0Offset)
        {
            int o = k - s.BOutOffset;
            for (int b = 0; b < s.Trials; b++)
            {
                int eb = e * s.Trials + b;
                for (int t = 0; t < steps; t++)
                {
                    sum += a.Errors[(eb * steps + t) * s.Outputs + o];
                }
            }
        }
        else
        {
            int j = k - s.H0Offset;
            for (int b = 0; b < s.Trials; b++)
            {
                sum += a.Carry[(e * s.Trials + b) * n + j];
            }
        }

        a.Gradient[idx] = sum;
    }

    /// <summary>‖g_e‖² per network: one group of one warp per network (grid E, group = warp size).</summary>
    /// <remarks>Σ_k g[e,k]² over the network's P entries; strided lane sums then a shuffle tree (deterministic).</remarks>
    public static void NormSquared(NormArgs a)
    {
        int e = Grid.IdxX;
        if (e >= a.Networks)
        {
            return;
        }

        int p = e * a.Stride;
        float sum = 0f;
        for (int k = Warp.LaneIdx; k < a.Stride; k += Warp.WarpSize)
        {
            float g = a.Gradient[p + k];
            sum += g * g;
        }

        for (int offset = Warp.WarpSize / 2; offset > 0; offset /= 2)
        {
            sum += Warp.ShuffleDown(sum, offset);
        }

        if (Warp.IsFirstLane)
        {
            a.NormSquared[e] = sum;
        }
    }
}
