using Engine.Backends;
using Engine.Model;
using Engine.Tasks;
using Engine.Util;

namespace Engine.Training;

/// <summary>How much each network's recurrent weights and their tangent kernel moved during training.</summary>
/// <remarks>
/// ‖W_T − W_0‖_F, and the kernel alignment KA = ⟨K_T, K_0⟩_F / (‖K_T‖_F ‖K_0‖_F) where K = G Gᵀ and row p of G is
/// ∇_W ŷ_p, the gradient of one probe output with respect to W. The probe outputs are every output channel at the last
/// step of <see cref="TrainingOptions.ProbeTrials"/> fixed trials (the same trials for every network and both times),
/// without process noise. Each gradient comes from the backend's BPTT with a one-hot mask and a target 0.5 below the
/// output, which makes the loss gradient equal ∇ŷ exactly.
/// </remarks>
public static class FeatureLearning
{
    /// <summary>Seed of the probe trials.</summary>
    public const long ProbeSeed = 0x9B0BE;

    /// <summary>Fills <see cref="TrainingState.WeightChange"/> and <see cref="TrainingState.KernelAlignment"/>.</summary>
    public static void Measure(IEnsembleBackend backend, ITrialTask task, TrainingState state)
    {
        var spec = state.Ensemble.Spec;
        var layout = spec.Layout;
        for (int e = 0; e < spec.Networks; e++)
        {
            var w0 = layout.WRec(state.InitialParameters, e);
            var wt = layout.WRec(state.Ensemble.Parameters, e);
            double s = 0;
            for (int k = 0; k < w0.Length; k++)
            {
                double d = wt[k] - w0[k];
                s += d * d;
            }

            state.WeightChange[e] = Math.Sqrt(s);
        }

        int probes = state.Options.ProbeTrials;
        if (probes == 0)
        {
            return;
        }

        int steps = state.Options.StepsFor(task);
        var k0 = Kernels(backend, task, spec, state.InitialParameters, probes, steps);
        var kt = Kernels(backend, task, spec, state.Ensemble.Parameters, probes, steps);
        for (int e = 0; e < spec.Networks; e++)
        {
            double dot = 0, n0 = 0, nt = 0;
            for (int i = 0; i < k0[e].Length; i++)
            {
                dot += k0[e][i] * kt[e][i];
                n0 += k0[e][i] * k0[e][i];
                nt += kt[e][i] * kt[e][i];
            }

            state.KernelAlignment[e] = dot / Math.Sqrt(n0 * nt);
        }
    }

    /// <summary>K = G Gᵀ per network [E][P·P] for the given parameters, P = probe trials × outputs.</summary>
    public static double[][] Kernels(IEnsembleBackend backend, ITrialTask task, EnsembleSpec spec, float[] parameters, int probes, int steps)
    {
        int e = spec.Networks, no = spec.Outputs, ni = spec.Inputs, nn = spec.Hidden * spec.Hidden;
        var shared = TrialBatch.For(spec, 1, probes, steps);
        task.Generate(Rng.For(ProbeSeed, Rng.EvalStream), probes, steps, shared.Inputs, shared.Targets, shared.Mask);
        using var runner = backend.CreateRunner(spec);
        runner.SetParameters(parameters);
        var outputs = new float[(long)e * probes * steps * no];
        runner.Forward(shared, outputs, Span<float>.Empty);

        int points = probes * no;
        var grads = new float[e][];
        for (int k = 0; k < e; k++)
        {
            grads[k] = new float[points * nn];
        }

        var one = TrialBatch.For(spec, e, 1, steps);
        var active = Enumerable.Repeat((byte)1, e).ToArray();
        var loss = new float[e];
        var norm = new float[e];
        var g = new float[parameters.Length];
        int last = (steps - 1) * no;
        for (int b = 0; b < probes; b++)
        {
            for (int o = 0; o < no; o++)
            {
                Array.Clear(one.Mask);
                for (int k = 0; k < e; k++)
                {
                    shared.Inputs.AsSpan(b * steps * ni, steps * ni).CopyTo(one.Inputs.AsSpan(k * steps * ni, steps * ni));
                    float y = outputs[(((long)k * probes + b) * steps + steps - 1) * no + o];
                    one.Mask[k * steps * no + last + o] = 1f;
                    one.Targets[k * steps * no + last + o] = y - 0.5f;
                }

                runner.ComputeGradients(one, active, loss, norm);
                runner.GetGradients(g);
                for (int k = 0; k < e; k++)
                {
                    spec.Layout.WRec(g, k).CopyTo(grads[k].AsSpan((b * no + o) * nn, nn));
                }
            }
        }

        var kernels = new double[e][];
        Parallelism.For(e, backend.Threads, k =>
        {
            var kk = new double[points * points];
            var gk = grads[k];
            for (int i = 0; i < points; i++)
            {
                for (int j = 0; j <= i; j++)
                {
                    double s = 0;
                    for (int q = 0; q < nn; q++)
                    {
                        s += (double)gk[i * nn + q] * gk[j * nn + q];
                    }

                    kk[i * points + j] = kk[j * points + i] = s;
                }
            }

            kernels[k] = kk;
        });
        return kernels;
    }
}
