using Engine.Kernels;
using Engine.Util;

namespace Engine.FixedPointRnn;

/// <summary>Training settings of a fixed-point RNN ensemble.</summary>
public sealed record FpTrainOptions
{
    /// <summary>B, sequences per network per step (default 32).</summary>
    public int Trials { get; init; } = 32;

    /// <summary>k, the training sequence length (default 16).</summary>
    public int TrainLength { get; init; } = 16;

    /// <summary>Adam learning rate (default 3e-3).</summary>
    public double LearningRate { get; init; } = 3e-3;

    /// <summary>Global gradient-norm clip per network, 0 = off (default 1).</summary>
    public double Clip { get; init; } = 1.0;

    /// <summary>Step budget (default 2000).</summary>
    public int MaxSteps { get; init; } = 2000;

    /// <summary>A network stops once its training loss (mean cross-entropy) is below this (default 1e-3).</summary>
    public double Threshold { get; init; } = 1e-3;

    /// <summary>Threads over networks, 0 = all cores (default 0).</summary>
    public int Threads { get; init; }

    /// <summary>Checks the values; returns this.</summary>
    public FpTrainOptions Validate(int minLength = 1)
    {
        Guard.AtLeast(Trials, 1, "trials");
        Guard.AtLeast(TrainLength, minLength, "train-length");
        Guard.InRange(LearningRate, 0, 10, "lr");
        Guard.InRange(Clip, 0, double.MaxValue, "clip");
        Guard.AtLeast(MaxSteps, 0, "max-steps");
        Guard.InRange(Threshold, 0, double.MaxValue, "threshold");
        Guard.AtLeast(Threads, 0, "threads");
        return this;
    }
}

/// <summary>Where a network's training stands.</summary>
public enum FpNetworkStatus
{
    /// <summary>Still training.</summary>
    Training,

    /// <summary>Reached the loss threshold.</summary>
    Converged,

    /// <summary>Used its step budget without reaching the threshold.</summary>
    Budget,

    /// <summary>Its loss or state became non-finite; its parameters are those of the last finite step.</summary>
    Diverged,
}

/// <summary>One step's numbers for one network.</summary>
/// <param name="Step">The step (1-based).</param>
/// <param name="Network">The network.</param>
/// <param name="Loss">Mean cross-entropy of the step's batch.</param>
/// <param name="Accuracy">Share of scored positions right.</param>
/// <param name="SequenceAccuracy">Share of sequences with every scored position right.</param>
/// <param name="Iterations">Depth iterations the forward pass ran.</param>
/// <param name="IterationStatus">How the iteration ended.</param>
public sealed record FpStepRecord(int Step, int Network, double Loss, double Accuracy, double SequenceAccuracy, int Iterations, FpStatus IterationStatus);

/// <summary>An ensemble of fixed-point RNNs: spec, task, iteration rule, options, seeds, parameters and per-network status.</summary>
public sealed class FpRnnEnsemble
{
    /// <summary>The shape.</summary>
    public required FpRnnSpec Spec { get; init; }

    /// <summary>The task the ensemble is trained on.</summary>
    public required StateTask Task { get; init; }

    /// <summary>The iteration rule used in training.</summary>
    public required FpIteration Iteration { get; init; }

    /// <summary>The training settings.</summary>
    public required FpTrainOptions Options { get; init; }

    /// <summary>Seed of each network.</summary>
    public required long[] Seeds { get; init; }

    /// <summary>Parameters [E][stride].</summary>
    public required float[] Parameters { get; init; }

    /// <summary>Status of each network.</summary>
    public required FpNetworkStatus[] Status { get; init; }

    /// <summary>Steps each network has taken.</summary>
    public required int[] Steps { get; init; }

    /// <summary>Last training loss of each network.</summary>
    public required double[] LastLoss { get; init; }

    /// <summary>One network's parameters.</summary>
    public Span<float> Network(int e) => Parameters.AsSpan(e * Spec.Stride, Spec.Stride);

    /// <summary>Standard deviation of the second row of a reflection pair around the first, at initialisation.</summary>
    public const double PairSpread = 0.1;

    /// <summary>A new ensemble with freshly initialised parameters; network e gets seed <c>seed + e</c>.</summary>
    /// <remarks>
    /// Initialisation from <c>Rng.For(seed_e, InitStream)</c>: embedding N(0, 1/N); λ logits U(1, 4) (λ ∈ (0.73, 0.98));
    /// reflections in pairs (0, 1), (2, 3), …: the first row N(0, 1), the second the first plus N(0, <see cref="PairSpread"/>²), both with
    /// β logits U(2.5, 3.5) (β ∈ (1.85, 1.94)), so each pair is close to the identity (two near-equal near-reflections) and can open into
    /// a rotation; an unpaired last reflection gets β logit U(−4, −2.5) (β ∈ (0.04, 0.15)). Either way Q ≈ I and the iteration contracts at
    /// the start. β never crosses 1, where Q is singular. Readout N(0, 1/N), bias 0.
    /// </remarks>
    public static FpRnnEnsemble Create(StateTask task, int networks, int hidden, int reflections, FpIteration iteration, FpTrainOptions options, long seed)
    {
        ArgumentNullException.ThrowIfNull(task);
        ArgumentNullException.ThrowIfNull(iteration);
        ArgumentNullException.ThrowIfNull(options);
        var spec = new FpRnnSpec { Networks = networks, Hidden = hidden, Vocab = task.Vocab, Classes = task.Classes, Reflections = reflections }.Validate();
        iteration.Validate();
        options.Validate(task.MinLength);
        var seeds = Enumerable.Range(0, networks).Select(e => seed + e).ToArray();
        var p = new float[networks * spec.Stride];
        for (int e = 0; e < networks; e++)
        {
            Initialize(spec, seeds[e], p.AsSpan(e * spec.Stride, spec.Stride));
        }

        return new FpRnnEnsemble
        {
            Spec = spec, Task = task, Iteration = iteration, Options = options, Seeds = seeds, Parameters = p,
            Status = new FpNetworkStatus[networks], Steps = new int[networks], LastLoss = Enumerable.Repeat(double.NaN, networks).ToArray(),
        };
    }

    /// <summary>Initialises one network's parameters (see <see cref="Create"/>).</summary>
    public static void Initialize(FpRnnSpec spec, long seed, Span<float> p)
    {
        ArgumentNullException.ThrowIfNull(spec);
        Guard.Length(p.Length, spec.Stride, nameof(p), $"one network's parameters [stride {spec.Stride}]");
        var rng = Rng.For(seed, Rng.InitStream);
        float scale = 1f / MathF.Sqrt(spec.Hidden);
        int vn = spec.Vocab * spec.Hidden;
        for (int i = 0; i < vn; i++)
        {
            p[spec.EmbedOffset + i] = (float)rng.NextGaussian() * scale;
        }

        for (int i = 0; i < vn; i++)
        {
            p[spec.LambdaOffset + i] = (float)rng.Uniform(1, 4);
        }

        int n = spec.Hidden, r = spec.Reflections;
        for (int v = 0; v < spec.Vocab; v++)
        {
            for (int i = 0; i < r; i++)
            {
                var row = p.Slice(spec.ReflectOffset + (v * r + i) * n, n);
                bool second = i % 2 == 1;
                for (int j = 0; j < n; j++)
                {
                    // The second of a pair starts near the first: H(u, β)·H(u', β) with u' ≈ u is close to I.
                    row[j] = second ? p[spec.ReflectOffset + (v * r + i - 1) * n + j] + (float)(PairSpread * rng.NextGaussian()) : (float)rng.NextGaussian();
                }

                bool paired = second || i + 1 < r;
                p[spec.BetaOffset + v * r + i] = paired ? (float)rng.Uniform(2.5, 3.5) : (float)rng.Uniform(-4, -2.5);
            }
        }

        for (int i = 0; i < spec.Classes * spec.Hidden; i++)
        {
            p[spec.ReadoutOffset + i] = (float)rng.NextGaussian() * scale;
        }

        p.Slice(spec.ReadoutBiasOffset, spec.Classes).Clear();
    }
}

/// <summary>Trains a fixed-point RNN ensemble with Adam, networks in parallel, each on its own seeded batches.</summary>
/// <remarks>
/// Step s of network e draws its batch from <c>Rng.For(seed_e, DataStream, s)</c>, runs the forward pass with the ensemble's
/// iteration rule, the cross-entropy and its gradient (<see cref="FpRnnCore{T}.Backward"/>), clips the global norm and applies
/// <see cref="AdamMath"/>. Each network writes only its own memory, so results do not depend on the thread count. A network stops
/// at the loss threshold (Converged), at its budget (Budget), or on a non-finite loss (Diverged, parameters left as they were).
/// </remarks>
public static class FpRnnTrainer
{
    /// <summary>Trains until every network stops; <paramref name="onStep"/> receives each network's numbers of each step.</summary>
    public static void Train(FpRnnEnsemble ensemble, Action<IReadOnlyList<FpStepRecord>>? onStep = null, CancellationToken cancel = default)
    {
        ArgumentNullException.ThrowIfNull(ensemble);
        var spec = ensemble.Spec;
        var opt = ensemble.Options;
        int e = spec.Networks, stride = spec.Stride, b = opt.Trials, k = opt.TrainLength;
        var workers = Enumerable.Range(0, e).Select(_ => new Worker(spec, b, k)).ToArray();
        var records = new FpStepRecord?[e];
        while (!cancel.IsCancellationRequested && ensemble.Status.Any(s => s == FpNetworkStatus.Training))
        {
            Array.Clear(records);
            Parallelism.For(e, opt.Threads, i =>
            {
                if (ensemble.Status[i] != FpNetworkStatus.Training)
                {
                    return;
                }

                if (ensemble.Steps[i] >= opt.MaxSteps)
                {
                    ensemble.Status[i] = FpNetworkStatus.Budget;
                    return;
                }

                records[i] = workers[i].Step(ensemble, i);
            });
            var done = records.Where(r => r is not null).Select(r => r!).ToArray();
            if (done.Length > 0)
            {
                onStep?.Invoke(done);
            }
        }
    }

    /// <summary>The per-network workspace: the core, the batch, the gradient and Adam's moments.</summary>
    private sealed class Worker(FpRnnSpec spec, int trials, int length)
    {
        private readonly FpRnnCore<float> _core = new(spec);
        private readonly int[] _tokens = new int[trials * length], _targets = new int[trials * length];
        private readonly float[] _grad = new float[spec.Stride], _m = new float[spec.Stride], _v = new float[spec.Stride];

        public FpStepRecord Step(FpRnnEnsemble ens, int e)
        {
            int step = ens.Steps[e] + 1;
            ens.Task.Generate(Rng.For(ens.Seeds[e], Rng.DataStream, step), trials, length, _tokens, _targets);
            var p = ens.Network(e);
            _core.Forward(p, _tokens, trials, length, ens.Iteration, keepIterates: true);
            Array.Clear(_grad);
            var (loss, correct, scored, right) = _core.Loss(p, _targets, _grad);
            var record = new FpStepRecord(step, e, loss, scored > 0 ? (double)correct / scored : 0, (double)right / trials, _core.IterationsRun, _core.Status);
            if (_core.Status == FpStatus.NonFinite || !double.IsFinite(loss))
            {
                ens.Status[e] = FpNetworkStatus.Diverged;
                ens.LastLoss[e] = loss;
                return record;
            }

            _core.Backward(p, _tokens, ens.Iteration, _grad);
            double sq = 0;
            foreach (float g in _grad)
            {
                sq += (double)g * g;
            }

            if (!double.IsFinite(sq))
            {
                ens.Status[e] = FpNetworkStatus.Diverged;
                ens.LastLoss[e] = loss;
                return record;
            }

            double norm = Math.Sqrt(sq);
            float scale = ens.Options.Clip > 0 && norm > ens.Options.Clip ? (float)(ens.Options.Clip / norm) : 1f;
            var c = AdamMath.Coefficients((float)ens.Options.LearningRate, step, scale);
            for (int i = 0; i < p.Length; i++)
            {
                AdamMath.Update(ref p[i], ref _m[i], ref _v[i], _grad[i], c);
            }

            ens.Steps[e] = step;
            ens.LastLoss[e] = loss;
            if (loss < ens.Options.Threshold)
            {
                ens.Status[e] = FpNetworkStatus.Converged;
            }

            return record;
        }
    }
}
