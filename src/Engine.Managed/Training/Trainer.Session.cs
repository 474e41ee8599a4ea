using System.Diagnostics;
using Engine.Backends;
using Engine.Kernels;
using Engine.Model;
using Engine.Tasks;

namespace Engine.Training;

/// <summary>One call of <see cref="Trainer.Train(IEnsembleBackend, ITrialTask, TrainingState, Action{EpochReport}?, Action{TrainingState}?, CancellationToken, Representation.RepresentationTargets?)"/>, split by concern.</summary>
public static partial class Trainer
{
    /// <summary>
    /// A training run in progress: the checks and buffers of one call (constructor), then per epoch the trials, the
    /// gradients (with the host's regularisers and low-rank factors), each network's rules (divergence, the smoothed stop
    /// rule with patience, clipping, Adam coefficients, the plateau schedule), the Adam step and the report.
    /// </summary>
    private sealed partial class Session : IDisposable
    {
        private readonly IEnsembleBackend _backend;
        private readonly ITrialTask _task;
        private readonly TrainingState _state;
        private readonly EnsembleSpec _spec;
        private readonly ParameterLayout _layout;
        private readonly IEnsembleRunner _runner;
        private readonly TrialBatch _batch;
        private readonly byte[] _active;
        private readonly float[] _loss, _norms, _hostParams, _hostGrad, _factorGrad;
        private readonly AdamCoefficients[] _coefficients;
        private readonly int _networks, _blocks, _n, _rank, _fs, _startEpoch;
        private readonly double _threshold;
        private readonly bool _mup, _weightReg, _host;
        private readonly Stopwatch _clock = Stopwatch.StartNew();
        private readonly Stopwatch _generation = new();
        private bool _dirty;
        private readonly Representation.RepresentationalLoss? _representation;
        private readonly Representation.ProbeTrials? _probe;

        /// <summary>Checks the task and the sizes against the run, then sets up the runner and the buffers.</summary>
        public Session(IEnsembleBackend backend, ITrialTask task, TrainingState state, Representation.RepresentationTargets? targets)
        {
            _backend = backend;
            _task = task;
            _state = state;
            _spec = state.Ensemble.Spec;
            Options = state.Options.Validate(_spec.Networks);
            if (task.Inputs != _spec.Inputs || task.Outputs != _spec.Outputs)
            {
                throw new ArgumentException(
                    $"Task '{task.Name}' has {task.Inputs} inputs and {task.Outputs} outputs; the ensemble has {_spec.Inputs} and {_spec.Outputs}.", nameof(task));
            }

            _networks = _spec.Networks;
            int steps = Options.StepsFor(task);
            CheckSizes(_spec, Options, steps);
            _layout = _spec.Layout;
            (_blocks, _n, _rank) = (_layout.BlockCount, _spec.Hidden, Options.Rank);
            _threshold = Options.Threshold ?? task.DefaultThreshold;
            _mup = Options.Parameterization == Parameterization.MuP;
            _weightReg = Options.HasWeightRegularizer(_networks);
            _host = _weightReg || _rank > 0;

            _runner = backend.CreateRunner(_spec);
            _runner.SetParameters(state.Ensemble.Parameters);
            _runner.SetOptimizerState(state.FirstMoment, state.SecondMoment);
            var activity = Enumerable.Range(0, _networks).Select(e => (float)Options.ActivityOf(e)).ToArray();
            if (activity.Any(a => a > 0))
            {
                _runner.SetActivityRegularization(activity);
            }

            _batch = TrialBatch.For(_spec, _networks, Options.Trials, steps);
            if (Options.HasRepresentationalLoss(_networks))
            {
                _probe = new Representation.ProbeTrials(task, Options.RepresentationTrials, steps, Options.RepresentationSeed);
                _representation = Representation.ProbeTrials.Loss(Options, _spec, steps, targets ?? Representation.RepresentationTargets.None);
                _runner.SetStateLoss(_representation);
            }

            _active = new byte[_networks];
            _loss = new float[_networks];
            _norms = new float[_networks];
            _coefficients = new AdamCoefficients[_networks * _blocks];
            _hostParams = _host ? new float[state.Ensemble.Parameters.Length] : [];
            _hostGrad = _host ? new float[state.Ensemble.Parameters.Length] : [];
            _fs = _rank > 0 ? LowRank.FactorStride(_n, _rank) : 0;
            _factorGrad = new float[state.Factors.Length];
            _startEpoch = state.Epoch;
        }

        /// <summary>The validated options of the run.</summary>
        public TrainingOptions Options { get; }

        /// <summary>One epoch: trials, gradients, every network's rules, the Adam step, the report and maybe a checkpoint.</summary>
        public void Epoch(Action<EpochReport>? onEpoch, Action<TrainingState>? onCheckpoint)
        {
            int epoch = _state.Epoch;
            for (int e = 0; e < _networks; e++)
            {
                _active[e] = _state.Networks[e].Status == NetworkStatus.Training ? (byte)1 : (byte)0;
            }

            _generation.Start();
            FillBatch(_task, _state.Ensemble.Seeds, epoch, _batch, _active, Options, _backend.Threads);
            _probe?.Place(_batch, _active);
            _generation.Stop();
            if (_representation is not null)
            {
                _representation.Epoch = epoch;
            }

            Gradients();
            var (alignment, predictability) = RepresentationReport();
            var (losses, trained, lrs) = Rules();
            _runner.AdamStep(_coefficients);
            _state.Epoch = epoch + 1;
            _dirty = true;
            TestRules(final: false);
            if (_state.Epoch >= Options.MaxEpochs)
            {
                for (int e = 0; e < _networks; e++)
                {
                    if (_state.Networks[e].Status == NetworkStatus.Training)
                    {
                        _state.Networks[e] = _state.Networks[e] with { Status = NetworkStatus.NotConverged };
                    }
                }
            }

            int training = 0, converged = 0, diverged = 0;
            foreach (var r in _state.Networks)
            {
                training += r.Status == NetworkStatus.Training ? 1 : 0;
                converged += r.Status == NetworkStatus.Converged ? 1 : 0;
                diverged += r.Status == NetworkStatus.Diverged ? 1 : 0;
            }

            onEpoch?.Invoke(new EpochReport(_state.Epoch, losses, trained, lrs, training, converged, diverged, _clock.Elapsed, _state.Epoch - _startEpoch, _generation.Elapsed)
            {
                Alignment = alignment,
                Predictability = predictability,
            });
            if (_state.Epoch % Options.CheckpointEvery == 0 && !_state.Finished)
            {
                Snapshot(_runner, _state, _rank, _fs);
                onCheckpoint?.Invoke(_state);
                _dirty = false;
            }
        }

        /// <summary>The last snapshot, the feature-learning measures once every network has stopped, and the final checkpoint.</summary>
        public void Finish(Action<TrainingState>? onCheckpoint)
        {
            Snapshot(_runner, _state, _rank, _fs);
            TestRules(final: true);
            if (_state.Finished && double.IsNaN(_state.WeightChange[0]))
            {
                FeatureLearning.Measure(_backend, _task, _state);
                _dirty = true;
            }

            if (_dirty)
            {
                onCheckpoint?.Invoke(_state);
            }
        }

        public void Dispose() => _runner.Dispose();

        /// <summary>This epoch's CKA to the guide and predictability per network (NaN where it did not train), then the terms move on a step.</summary>
        private (double[]? Alignment, double[]? Predictability) RepresentationReport()
        {
            if (_representation is not { } r)
            {
                return (null, null);
            }

            double[]? Pick(double[] values, bool measured)
                => measured ? values.Select((v, e) => _active[e] != 0 ? v : double.NaN).ToArray() : null;
            var result = (Pick(r.Alignment, r.HasGuide), Pick(r.Predictability, r.MeasuresPredictability));
            r.Advance();
            return result;
        }

        /// <summary>Losses and gradients of the active networks; at low rank W is composed from the factors first, and the host adds weight regularisers and takes the norms.</summary>
        private void Gradients()
        {
            if (_host)
            {
                _runner.GetParameters(_hostParams);
                if (_rank > 0)
                {
                    for (int e = 0; e < _networks; e++)
                    {
                        LowRank.Compose<float>(_state.Factors.AsSpan(e * _fs, _fs), _n, _rank, _layout.WRec(_hostParams, e));
                    }

                    _runner.SetParameters(_hostParams);
                }
            }

            _runner.ComputeGradients(_batch, _active, _loss, _norms);
            if (_host)
            {
                _runner.GetGradients(_hostGrad);
                if (_weightReg)
                {
                    WeightRegularizer.AddGradient(_spec, Options, _hostParams, _hostGrad, _active, _backend.Threads);
                    _runner.SetGradients(_hostGrad);
                }

                for (int e = 0; e < _networks; e++)
                {
                    if (_active[e] != 0)
                    {
                        _norms[e] = HostNormSquared(_layout, _hostGrad, e, _rank > 0, _rank > 0 ? FactorGradient(_state, _hostGrad, _factorGrad, _layout, e, _fs, _n, _rank) : default);
                    }
                }
            }
        }

        /// <summary>
        /// Every active network's rules on this epoch's loss: divergence, the smoothed stop rule with patience, clipping, the
        /// per-block Adam coefficients (low-rank factors updated on the host), the plateau schedule.
        /// </summary>
        private (double[] Losses, bool[] Trained, double[] LearningRates) Rules()
        {
            var losses = new double[_networks];
            var trained = new bool[_networks];
            var lrs = new double[_networks];
            for (int e = 0; e < _networks; e++)
            {
                losses[e] = double.NaN;
                double gamma = _mup ? Options.GammaOf(e) : 1.0;
                lrs[e] = Options.LearningRateOf(e) * gamma * _state.Networks[e].LrScale;
                _coefficients.AsSpan(e * _blocks, _blocks).Fill(AdamMath.Coefficients(0f, 0, 1f));
                if (_active[e] == 0)
                {
                    continue;
                }

                var rec = _state.Networks[e];
                trained[e] = true;
                losses[e] = _loss[e];
                rec.LastLoss = _loss[e];
                if (GradientRule.Diverged(_loss[e], _norms[e]))
                {
                    rec.Status = NetworkStatus.Diverged;
                    _state.Networks[e] = rec;
                    continue;
                }

                rec.SmoothedLoss = double.IsNaN(rec.SmoothedLoss) ? _loss[e] : 0.9 * rec.SmoothedLoss + 0.1 * _loss[e];
                if (rec.SinceThreshold < 0 && rec.SmoothedLoss < _threshold)
                {
                    rec.SinceThreshold = 0;
                }

                if (rec.SinceThreshold >= Options.Patience)
                {
                    rec.Status = NetworkStatus.Converged;
                    _state.Networks[e] = rec;
                    continue;
                }

                if (rec.SinceThreshold >= 0)
                {
                    rec.SinceThreshold++;
                }

                rec.Epochs++;
                float scale = (float)GradientRule.ClipScale(Math.Sqrt(_norms[e]), Options.ClipNorm);
                for (int blk = 0; blk < _blocks; blk++)
                {
                    double s = BlockScale(_mup, blk, _n, gamma);
                    bool frozen = _rank > 0 && blk == 0;
                    _coefficients[e * _blocks + blk] = AdamMath.Coefficients(frozen ? 0f : (float)(lrs[e] * s), rec.Epochs, scale, (float)(AdamMath.Epsilon * s));
                }

                if (_rank > 0)
                {
                    var c = AdamMath.Coefficients((float)lrs[e], rec.Epochs, scale);
                    for (int k = e * _fs; k < (e + 1) * _fs; k++)
                    {
                        AdamMath.Update(ref _state.Factors[k], ref _state.FactorFirstMoment[k], ref _state.FactorSecondMoment[k], _factorGrad[k], c);
                    }
                }

                Plateau(ref rec, Options);
                _state.Networks[e] = rec;
            }

            return (losses, trained, lrs);
        }
    }
}
