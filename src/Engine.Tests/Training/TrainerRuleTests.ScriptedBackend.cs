using Engine.Backends;
using Engine.Kernels;
using Engine.Model;

namespace Engine.Tests.Training;

public sealed partial class TrainerRuleTests
{
    /// <summary>A backend whose runner returns scripted losses, norms and gradients and records what the trainer asks of it.</summary>
    /// <remarks>
    /// Its Adam step is a visible stand-in, not Adam: every parameter of a block with a positive step size moves by −StepSize
    /// and its first moment counts the step (+1), so a snapshot taken by the trainer shows how many steps the runner took.
    /// Buffers are copied whole, so a host buffer of the wrong length fails as it would on a real runner.
    /// </remarks>
    private sealed class ScriptedBackend(Func<int, int, (float Loss, float NormSquared)> script) : IEnsembleBackend
    {
        /// <summary>The coefficients of every Adam step, in order.</summary>
        public List<AdamCoefficients[]> Steps { get; } = [];

        public Func<int, int, (float Loss, float NormSquared)> Script { get; } = script;

        /// <summary>Per network, the batches it was active in.</summary>
        public Dictionary<int, int> ActiveCalls { get; } = [];

        /// <summary>The gradient [E][P] every ComputeGradients leaves behind (zero when null).</summary>
        public float[]? Gradient { get; init; }

        /// <summary>How long ComputeGradients takes (the runner's own work, not trial generation).</summary>
        public TimeSpan ComputeDelay { get; init; }

        /// <summary>The parameters [E][P] the runner held at each ComputeGradients.</summary>
        public List<float[]> ParametersSeen { get; } = [];

        /// <summary>Every gradient [E][P] the trainer wrote back with SetGradients.</summary>
        public List<float[]> GradientsSet { get; } = [];

        /// <summary>The activity strengths [E] passed to SetActivityRegularization; null when it was never called.</summary>
        public float[]? ActivityStrengths { get; private set; }

        /// <summary>The state loss passed to SetStateLoss; null when it was never called (or set to none).</summary>
        public IStateLoss? StateLoss { get; private set; }

        /// <summary>Runners created so far.</summary>
        public int RunnersCreated { get; private set; }

        public string Name => "scripted";

        public string Device => "test script";

        public int Threads => 1;

        public bool ApproximateMath => false;

        public bool IsHostCpu => true;

        public IEnsembleRunner CreateRunner(EnsembleSpec spec)
        {
            RunnersCreated++;
            return new Runner(spec, this);
        }

        public IDistanceKernels Distances => throw new NotSupportedException("the scripted backend trains only");

        public IFixedPointSearch CreateFixedPointSearch() => throw new NotSupportedException("the scripted backend trains only");

        public IClosedLoopAgents CreateClosedLoopAgents(ClosedLoopProblem problem) => throw new NotSupportedException("the scripted backend trains only");

        public void Dispose()
        {
        }

        private sealed class Runner(EnsembleSpec spec, ScriptedBackend owner) : IEnsembleRunner
        {
            private readonly float[] _parameters = new float[spec.Networks * spec.Layout.Stride];
            private readonly float[] _gradient = owner.Gradient is { } g ? (float[])g.Clone() : new float[spec.Networks * spec.Layout.Stride];
            private readonly float[] _m = new float[spec.Networks * spec.Layout.Stride];
            private readonly float[] _v = new float[spec.Networks * spec.Layout.Stride];
            private int _call;

            public EnsembleSpec Spec => spec;

            public void SetParameters(ReadOnlySpan<float> parameters) => parameters.CopyTo(_parameters);

            public void GetParameters(Span<float> parameters) => _parameters.CopyTo(parameters);

            public void SetOptimizerState(ReadOnlySpan<float> firstMoment, ReadOnlySpan<float> secondMoment)
            {
                firstMoment.CopyTo(_m);
                secondMoment.CopyTo(_v);
            }

            public void GetOptimizerState(Span<float> firstMoment, Span<float> secondMoment)
            {
                _m.CopyTo(firstMoment);
                _v.CopyTo(secondMoment);
            }

            public void Forward(TrialBatch batch, Span<float> outputs, Span<float> states)
            {
                outputs.Clear();
                states.Clear();
            }

            public void ComputeGradients(TrialBatch batch, ReadOnlySpan<byte> active, Span<float> loss, Span<float> gradientNormSquared)
            {
                if (owner.ComputeDelay > TimeSpan.Zero)
                {
                    Thread.Sleep(owner.ComputeDelay);
                }

                owner.ParametersSeen.Add((float[])_parameters.Clone());
                for (int e = 0; e < spec.Networks; e++)
                {
                    (loss[e], gradientNormSquared[e]) = active[e] != 0 ? owner.Script(_call, e) : (0f, 0f);
                    if (active[e] != 0)
                    {
                        owner.ActiveCalls[e] = owner.ActiveCalls.GetValueOrDefault(e) + 1;
                    }
                }

                _call++;
            }

            public void GetGradients(Span<float> gradient) => _gradient.CopyTo(gradient);

            public void SetGradients(ReadOnlySpan<float> gradient)
            {
                gradient.CopyTo(_gradient);
                owner.GradientsSet.Add(gradient.ToArray());
            }

            public void SetActivityRegularization(ReadOnlySpan<float> strengths) => owner.ActivityStrengths = strengths.ToArray();

            public void SetStateLoss(IStateLoss? loss) => owner.StateLoss = loss;

            public void AdamStep(ReadOnlySpan<AdamCoefficients> coefficients)
            {
                owner.Steps.Add(coefficients.ToArray());
                var layout = spec.Layout;
                for (int e = 0; e < spec.Networks; e++)
                {
                    for (int blk = 0; blk < layout.BlockCount; blk++)
                    {
                        float step = coefficients[e * layout.BlockCount + blk].StepSize;
                        if (step <= 0f)
                        {
                            continue;
                        }

                        for (int k = e * layout.Stride + layout.BlockStart(blk); k < e * layout.Stride + layout.BlockEnd(blk); k++)
                        {
                            _parameters[k] -= step;
                            _m[k] += 1f;
                        }
                    }
                }
            }

            public void Dispose()
            {
            }
        }
    }
}
