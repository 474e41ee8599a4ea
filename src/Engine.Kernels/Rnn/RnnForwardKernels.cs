using ILGPU;

namespace Engine.Kernels.Rnn;

/// <summary>Arguments of <see cref="RnnForwardKernels.Step"/>.</summary>
public readonly struct ForwardStepArgs
{
    /// <summary>Creates the pack.</summary>
    public ForwardStepArgs(RnnShape shape, int step, ArrayView<float> parameters, ArrayView<float> inputs, ArrayView<float> noise,
        ArrayView<float> states, ArrayView<float> activations, ArrayView<int> active)
    {
        Shape = shape;
        Step = step;
        Parameters = parameters;
        Inputs = inputs;
        Noise = noise;
        States = states;
        Activations = activations;
        Active = active;
    }

    /// <summary>Sizes and constants.</summary>
    public readonly RnnShape Shape;

    /// <summary>t, 0-based.</summary>
    public readonly int Step;

    /// <summary>[E][P].</summary>
    public readonly ArrayView<float> Parameters;

    /// <summary>[S][B][T][I].</summary>
    public readonly ArrayView<float> Inputs;

    /// <summary>[E][B][T][N], or a dummy when NoiseScale is 0.</summary>
    public readonly ArrayView<float> Noise;

    /// <summary>h, [E][B][T][N] (written at step t).</summary>
    public readonly ArrayView<float> States;

    /// <summary>a = φ(z) (discrete, leaky) or r = φ(h) (rate), [E][B][T][N] (written at step t).</summary>
    public readonly ArrayView<float> Activations;

    /// <summary>[E]: 0 skips a network.</summary>
    public readonly ArrayView<int> Active;
}

/// <summary>Arguments of <see cref="RnnForwardKernels.Readout"/>.</summary>
public readonly struct ReadoutArgs
{
    /// <summary>Creates the pack.</summary>
    public ReadoutArgs(RnnShape shape, ArrayView<float> parameters, ArrayView<float> states, ArrayView<float> activations,
        ArrayView<float> outputs, ArrayView<int> active)
    {
        Shape = shape;
        Parameters = parameters;
        States = states;
        Activations = activations;
        Outputs = outputs;
        Active = active;
    }

    /// <summary>Sizes and constants.</summary>
    public readonly RnnShape Shape;

    /// <summary>[E][P].</summary>
    public readonly ArrayView<float> Parameters;

    /// <summary>h, [E][B][T][N] (read by discrete and leaky cells).</summary>
    public readonly ArrayView<float> States;

    /// <summary>r = φ(h), [E][B][T][N] (read by the rate cell).</summary>
    public readonly ArrayView<float> Activations;

    /// <summary>y, [E][B][T][O].</summary>
    public readonly ArrayView<float> Outputs;

    /// <summary>[E]: 0 skips a network.</summary>
    public readonly ArrayView<int> Active;
}

/// <summary>The forward pass: one recurrent step per launch, then the linear readout of every step at once.</summary>
/// <remarks>Explicitly grouped kernels over a 1-D grid; each thread bounds-checks its global index.</remarks>
public static class RnnForwardKernels
{
    /// <summary>One time step t for every (network, trial, unit).</summary>
    /// <remarks>
    /// Thread (e, b, i) of E×B×N, with h_{−1} = h₀ (learned or 0). Discrete and leaky cells:
    /// z = b_i + Σ_j W[i,j] h_{t−1,j} + Σ_j U[i,j] x_{t,j}; a = φ(z); h_{t,i} = (1 − α) h_{t−1,i} + α a + σ√α ξ_{t,i};
    /// Activations get a. Rate cell: z = b_i + Σ_j W[i,j] r_{t−1,j} + Σ_j U[i,j] x_{t,j} with r = φ(h) (read from
    /// Activations at t − 1, or φ(h₀) at t = 0); h_{t,i} = (1 − α) h_{t−1,i} + α z + σ√α ξ_{t,i}; Activations get
    /// r_{t,i} = φ(h_{t,i}). With h₀ = 0 the recurrent term at t = 0 is skipped for both, since φ(0) = 0 for every
    /// activation. Writes States and Activations at step t; must run for t = 0 … T−1 in order.
    /// </remarks>
    public static void Step(ForwardStepArgs a)
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
        int b = eb - e * s.Trials;
        if (a.Active[e] == 0)
        {
            return;
        }

        int t = a.Step;
        int p = e * s.Stride;
        int row = (eb * s.Steps + t) * n;
        int x = ((s.SetOf(e) * s.Trials + b) * s.Steps + t) * s.Inputs;
        int w = p + i * n;
        float z = a.Parameters[p + s.BiasOffset + i];
        float hPrev = 0f;
        if (t > 0)
        {
            int prev = row - n;
            if (s.Rate != 0)
            {
                for (int j = 0; j < n; j++)
                {
                    z += a.Parameters[w + j] * a.Activations[prev + j];
                }
            }
            else
            {
                for (int j = 0; j < n; j++)
                {
                    z += a.Parameters[w + j] * a.States[prev + j];
                }
            }

            hPrev = a.States[prev + i];
        }
        else if (s.LearnedInitialState != 0)
        {
            int h0 = p + s.H0Offset;
            if (s.Rate != 0)
            {
                for (int j = 0; j < n; j++)
                {
                    z += a.Parameters[w + j] * ActivationCode.Apply(s.Activation, a.Parameters[h0 + j]);
                }
            }
            else
            {
                for (int j = 0; j < n; j++)
                {
                    z += a.Parameters[w + j] * a.Parameters[h0 + j];
                }
            }

            hPrev = a.Parameters[h0 + i];
        }

        int u = p + s.WInOffset + i * s.Inputs;
        for (int j = 0; j < s.Inputs; j++)
        {
            z += a.Parameters[u + j] * a.Inputs[x + j];
        }

        float act = s.Rate != 0 ? z : ActivationCode.Apply(s.Activation, z);
        float h = (1f - s.Alpha) * hPrev + s.Alpha * act;
        if (s.NoiseScale != 0f)
        {
            h += s.NoiseScale * a.Noise[row + i];
        }

        a.Activations[row + i] = s.Rate != 0 ? ActivationCode.Apply(s.Activation, h) : act;
        a.States[row + i] = h;
    }

    /// <summary>The readout of every step of every trial.</summary>
    /// <remarks>
    /// Thread (e, b, t, o) of E×B×T×O: y = d_o + Σ_i C[o,i] h_{t,i} (discrete, leaky) or y = d_o + Σ_i C[o,i] φ(h_{t,i})
    /// (rate, reading the stored r_t = φ(h_t)).
    /// </remarks>
    public static void Readout(ReadoutArgs a)
    {
        var s = a.Shape;
        int idx = Grid.GlobalIndex.X;
        int no = s.Outputs;
        int rows = s.Networks * s.Trials * s.Steps;
        if (idx >= rows * no)
        {
            return;
        }

        int o = idx % no;
        int r = idx / no;
        int e = r / (s.Trials * s.Steps);
        if (a.Active[e] == 0)
        {
            return;
        }

        int p = e * s.Stride;
        int c = p + s.WOutOffset + o * s.Hidden;
        int h = r * s.Hidden;
        float y = a.Parameters[p + s.BOutOffset + o];
        if (s.Rate != 0)
        {
            for (int i = 0; i < s.Hidden; i++)
            {
                y += a.Parameters[c + i] * a.Activations[h + i];
            }
        }
        else
        {
            for (int i = 0; i < s.Hidden; i++)
            {
                y += a.Parameters[c + i] * a.States[h + i];
            }
        }

        a.Outputs[idx] = y;
    }
}
