using System.Numerics;
using System.Numerics.Tensors;
using Engine.Util;

namespace Engine.Composed;

/// <summary>A batch as the composed RNN sees it: inputs, targets, loss weights, per-step context and recurrent noise.</summary>
/// <remarks>Inputs [B][T][I], targets and mask [B][T][O], context [B][T][K] (empty for the plain cell), noise [B][T][N] (standard normals, scaled by √(2α)σ_rec inside).</remarks>
public sealed record ComposedBatch(int Trials, int Steps, float[] Inputs, float[] Targets, float[] Mask, float[] Context, float[] Noise);

/// <summary>Forward pass, loss and BPTT gradient of one context-composed (or plain) network, written once over the number type.</summary>
/// <remarks>
/// See <see cref="ComposedSpec"/> for the dynamics. Loss L = Σ_{b,t,o} w (y − y*)² / (B·T·O). Instantiated at float64 this is
/// the reference that the finite-difference tests check; at float32 it is the training path (networks in parallel, one per
/// thread, a reusable <see cref="ComposedWorkspace{T}"/> each, nothing allocated per step). Components whose context is exactly
/// zero at a step are skipped, so a one-hot context costs one rank-R product per step and an unused component gets an exactly
/// zero gradient.
/// </remarks>
public static class ComposedRnn
{
    /// <summary>Runs the network over the batch; fills <see cref="ComposedWorkspace{T}.H"/> and <see cref="ComposedWorkspace{T}.Y"/>.</summary>
    public static void Forward<T>(ComposedSpec spec, ReadOnlySpan<T> p, ComposedBatch batch, ComposedWorkspace<T> ws)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        Check(spec, p.Length, batch, ws);
        int n = spec.Hidden, ni = spec.Inputs, no = spec.Outputs, k = spec.ContextCount, steps = batch.Steps;
        T alpha = T.CreateChecked(spec.Alpha), keep = T.One - alpha, invN = T.One / T.CreateChecked(n);
        T noiseScale = T.CreateChecked(Math.Sqrt(2 * spec.Alpha) * spec.NoiseStd);
        var wIn = p.Slice(spec.WInOffset, n * ni);
        var bias = p.Slice(spec.BiasOffset, n);
        var wOut = p.Slice(spec.WOutOffset, no * n);
        var bOut = p.Slice(spec.BOutOffset, no);
        var r = ws.R.AsSpan();
        var a = ws.A.AsSpan();
        var z = ws.Z.AsSpan();
        for (int b = 0; b < batch.Trials; b++)
        {
            ws.H.AsSpan(b * (steps + 1) * n, n).Clear();
            for (int t = 0; t < steps; t++)
            {
                int bt = b * steps + t;
                var hPrev = ws.H.AsSpan((b * (steps + 1) + t) * n, n);
                var h = ws.H.AsSpan((b * (steps + 1) + t + 1) * n, n);
                Relu(hPrev, r);
                var x = ws.X.AsSpan(0, ni);
                Convert(batch.Inputs.AsSpan(bt * ni, ni), x);
                for (int i = 0; i < n; i++)
                {
                    a[i] = bias[i] + TensorPrimitives.Dot<T>(wIn.Slice(i * ni, ni), x);
                }

                Recurrent(spec, p, k == 0 ? default : batch.Context.AsSpan(bt * k, k), r, a, z, invN);
                var xi = batch.Noise.AsSpan(bt * n, n);
                for (int i = 0; i < n; i++)
                {
                    h[i] = keep * hPrev[i] + alpha * a[i] + noiseScale * T.CreateChecked(xi[i]);
                }

                Relu(h, r);
                var y = ws.Y.AsSpan(bt * no, no);
                for (int o = 0; o < no; o++)
                {
                    y[o] = bOut[o] + TensorPrimitives.Dot<T>(wOut.Slice(o * n, n), r);
                }
            }
        }
    }

    /// <summary>The loss of the last <see cref="Forward{T}"/> (outputs in the workspace) against the batch's targets.</summary>
    public static double Loss<T>(ComposedSpec spec, ComposedBatch batch, ComposedWorkspace<T> ws)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int count = batch.Trials * batch.Steps * spec.Outputs;
        double sum = 0;
        for (int i = 0; i < count; i++)
        {
            double d = double.CreateChecked(ws.Y[i]) - batch.Targets[i];
            sum += batch.Mask[i] * d * d;
        }

        return sum / count;
    }

    /// <summary>Forward, loss and the full gradient (written into <paramref name="grad"/>, every element overwritten); returns the loss.</summary>
    public static double Gradient<T>(ComposedSpec spec, ReadOnlySpan<T> p, ComposedBatch batch, ComposedWorkspace<T> ws, Span<T> grad)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        Guard.Length(grad.Length, spec.ParameterCount, nameof(grad), $"[{spec.ParameterCount}]");
        Forward(spec, p, batch, ws);
        double loss = Loss(spec, batch, ws);
        grad.Clear();
        int n = spec.Hidden, ni = spec.Inputs, no = spec.Outputs, k = spec.ContextCount, steps = batch.Steps;
        T alpha = T.CreateChecked(spec.Alpha), keep = T.One - alpha, invN = T.One / T.CreateChecked(n);
        T scale = T.CreateChecked(2.0 / (batch.Trials * steps * no));
        var wOut = p.Slice(spec.WOutOffset, no * n);
        var gWIn = grad.Slice(spec.WInOffset, n * ni);
        var gBias = grad.Slice(spec.BiasOffset, n);
        var gWOut = grad.Slice(spec.WOutOffset, no * n);
        var gBOut = grad.Slice(spec.BOutOffset, no);
        var r = ws.R.AsSpan();
        var dr = ws.A.AsSpan();
        var gh = ws.G.AsSpan();
        var da = ws.Da.AsSpan();
        for (int b = 0; b < batch.Trials; b++)
        {
            gh.Clear();
            for (int t = steps - 1; t >= 0; t--)
            {
                int bt = b * steps + t;
                var h = ws.H.AsSpan((b * (steps + 1) + t + 1) * n, n);
                var hPrev = ws.H.AsSpan((b * (steps + 1) + t) * n, n);
                Relu(h, r);
                dr.Clear();
                for (int o = 0; o < no; o++)
                {
                    T d = scale * T.CreateChecked(batch.Mask[bt * no + o]) * (ws.Y[bt * no + o] - T.CreateChecked(batch.Targets[bt * no + o]));
                    gBOut[o] += d;
                    var gRow = gWOut.Slice(o * n, n);
                    TensorPrimitives.MultiplyAdd<T>(r, d, gRow, gRow);
                    TensorPrimitives.MultiplyAdd<T>(wOut.Slice(o * n, n), d, dr, dr);
                }

                for (int i = 0; i < n; i++)
                {
                    // g_t = (carry from t+1) + relu'(h_t) ⊙ W_outᵀ dy_t; da_t = α g_t.
                    T g = gh[i] + (h[i] > T.Zero ? dr[i] : T.Zero);
                    gh[i] = g;
                    da[i] = alpha * g;
                }

                var x = ws.X.AsSpan(0, ni);
                Convert(batch.Inputs.AsSpan(bt * ni, ni), x);
                for (int i = 0; i < n; i++)
                {
                    T d = da[i];
                    gBias[i] += d;
                    var row = gWIn.Slice(i * ni, ni);
                    TensorPrimitives.MultiplyAdd<T>(x, d, row, row);
                }

                Relu(hPrev, r);
                dr.Clear();
                RecurrentBackward(spec, p, grad, k == 0 ? default : batch.Context.AsSpan(bt * k, k), r, da, dr, invN);
                for (int i = 0; i < n; i++)
                {
                    gh[i] = keep * gh[i] + (hPrev[i] > T.Zero ? dr[i] : T.Zero);
                }
            }
        }

        return loss;
    }

    /// <summary>a += W(t) r: the composed sum over active components, or the plain W.</summary>
    private static void Recurrent<T>(ComposedSpec spec, ReadOnlySpan<T> p, ReadOnlySpan<float> context, ReadOnlySpan<T> r, Span<T> a, Span<T> z, T invN)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int n = spec.Hidden;
        if (spec.Cell == CellKind.Plain)
        {
            var w = p.Slice(spec.RecurrentOffset, n * n);
            for (int i = 0; i < n; i++)
            {
                a[i] += TensorPrimitives.Dot<T>(w.Slice(i * n, n), r);
            }

            return;
        }

        int rank = spec.Rank;
        for (int c = 0; c < context.Length; c++)
        {
            if (context[c] == 0f)
            {
                continue;
            }

            // M_k and N_k are stored [R][N]: z_q = N_k[q]·r, a += (c/N) Σ_q z_q M_k[q].
            T weight = T.CreateChecked(context[c]) * invN;
            var m = p.Slice(spec.ComponentOffset(c), n * rank);
            var nv = p.Slice(spec.ComponentOffset(c) + n * rank, n * rank);
            for (int q = 0; q < rank; q++)
            {
                z[q] = weight * TensorPrimitives.Dot<T>(nv.Slice(q * n, n), r);
                TensorPrimitives.MultiplyAdd<T>(m.Slice(q * n, n), z[q], a, a);
            }
        }
    }

    /// <summary>Gradients of W(t) r with respect to the recurrence (accumulated) and to r (into <paramref name="dr"/>), given da.</summary>
    private static void RecurrentBackward<T>(ComposedSpec spec, ReadOnlySpan<T> p, Span<T> grad, ReadOnlySpan<float> context, ReadOnlySpan<T> r,
        ReadOnlySpan<T> da, Span<T> dr, T invN)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int n = spec.Hidden;
        if (spec.Cell == CellKind.Plain)
        {
            var w = p.Slice(spec.RecurrentOffset, n * n);
            var gw = grad.Slice(spec.RecurrentOffset, n * n);
            for (int i = 0; i < n; i++)
            {
                T d = da[i];
                var grow = gw.Slice(i * n, n);
                TensorPrimitives.MultiplyAdd<T>(r, d, grow, grow);
                TensorPrimitives.MultiplyAdd<T>(w.Slice(i * n, n), d, dr, dr);
            }

            return;
        }

        int rank = spec.Rank;
        for (int c = 0; c < context.Length; c++)
        {
            if (context[c] == 0f)
            {
                continue;
            }

            // a += w Σ_q (N_k[q]·r) M_k[q]: ∂M_k[q] = w z_q da, ∂N_k[q] = w u_q r and ∂r = w Σ_q u_q N_k[q], with z_q = N_k[q]·r, u_q = M_k[q]·da.
            T weight = T.CreateChecked(context[c]) * invN;
            int off = spec.ComponentOffset(c);
            var m = p.Slice(off, n * rank);
            var nv = p.Slice(off + n * rank, n * rank);
            var gm = grad.Slice(off, n * rank);
            var gn = grad.Slice(off + n * rank, n * rank);
            for (int q = 0; q < rank; q++)
            {
                T zq = weight * TensorPrimitives.Dot<T>(nv.Slice(q * n, n), r);
                T uq = weight * TensorPrimitives.Dot<T>(m.Slice(q * n, n), da);
                var gmq = gm.Slice(q * n, n);
                var gnq = gn.Slice(q * n, n);
                TensorPrimitives.MultiplyAdd<T>(da, zq, gmq, gmq);
                TensorPrimitives.MultiplyAdd<T>(r, uq, gnq, gnq);
                TensorPrimitives.MultiplyAdd<T>(nv.Slice(q * n, n), uq, dr, dr);
            }
        }
    }

    private static void Convert<T>(ReadOnlySpan<float> from, Span<T> to)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        for (int i = 0; i < from.Length; i++)
        {
            to[i] = T.CreateTruncating(from[i]);
        }
    }

    private static void Relu<T>(ReadOnlySpan<T> h, Span<T> r)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        for (int i = 0; i < h.Length; i++)
        {
            r[i] = h[i] > T.Zero ? h[i] : T.Zero;
        }
    }

    private static void Check<T>(ComposedSpec spec, int parameters, ComposedBatch batch, ComposedWorkspace<T> ws)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentNullException.ThrowIfNull(batch);
        ArgumentNullException.ThrowIfNull(ws);
        int b = batch.Trials, t = batch.Steps;
        Guard.Length(parameters, spec.ParameterCount, "parameters", $"[{spec.ParameterCount}]");
        Guard.Length(batch.Inputs.Length, (long)b * t * spec.Inputs, "inputs", $"[{b}][{t}][{spec.Inputs}]");
        Guard.Length(batch.Targets.Length, (long)b * t * spec.Outputs, "targets", $"[{b}][{t}][{spec.Outputs}]");
        Guard.Length(batch.Mask.Length, (long)b * t * spec.Outputs, "mask", $"[{b}][{t}][{spec.Outputs}]");
        Guard.Length(batch.Context.Length, (long)b * t * spec.ContextCount, "context", $"[{b}][{t}][{spec.ContextCount}]");
        Guard.Length(batch.Noise.Length, (long)b * t * spec.Hidden, "noise", $"[{b}][{t}][{spec.Hidden}]");
        ws.Ensure(spec, b, t);
    }
}

/// <summary>Reusable buffers of <see cref="ComposedRnn"/> for one network (grown on demand, never shrunk).</summary>
public sealed class ComposedWorkspace<T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>States h [B][T + 1][N] (h_0 = 0 first).</summary>
    public T[] H { get; private set; } = [];

    /// <summary>Outputs [B][T][O].</summary>
    public T[] Y { get; private set; } = [];

    internal T[] R { get; private set; } = [];

    internal T[] A { get; private set; } = [];

    internal T[] G { get; private set; } = [];

    internal T[] Da { get; private set; } = [];

    internal T[] Z { get; private set; } = [];

    internal T[] X { get; private set; } = [];

    internal void Ensure(ComposedSpec spec, int trials, int steps)
    {
        int n = spec.Hidden;
        if (H.Length < trials * (steps + 1) * n)
        {
            H = new T[trials * (steps + 1) * n];
        }

        if (Y.Length < trials * steps * spec.Outputs)
        {
            Y = new T[trials * steps * spec.Outputs];
        }

        if (R.Length < n)
        {
            R = new T[n];
            A = new T[n];
            G = new T[n];
            Da = new T[n];
        }

        if (X.Length < spec.Inputs)
        {
            X = new T[spec.Inputs];
        }

        if (Z.Length < 2 * Math.Max(1, spec.Rank))
        {
            Z = new T[2 * Math.Max(1, spec.Rank)];
        }
    }
}
