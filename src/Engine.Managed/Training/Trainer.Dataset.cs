using Engine.Model;
using Engine.Tasks;
using Engine.Util;

namespace Engine.Training;

/// <summary>Finite-dataset mode: fixed training sets, a seeded shuffle through them, and the held-out test error.</summary>
public static partial class Trainer
{
    /// <summary>Purpose tag of training sample i of a fixed training set (index = i).</summary>
    public const ulong DatasetStream = 0xDA7A5E7;

    /// <summary>Purpose tag of the shuffle of pass k through a fixed training set (index = k).</summary>
    public const ulong ShuffleStream = 0x5F1E;

    /// <summary>Purpose tag of held-out test trial j (index = j), disjoint from the training samples.</summary>
    public const ulong TestStream = 0x7E57;

    /// <summary>
    /// Draws the epoch's trials for every active network: fresh trials (as <see cref="FillBatch(ITrialTask, IReadOnlyList{long}, int, TrialBatch, ReadOnlySpan{byte}, int)"/>)
    /// or, in finite-dataset mode, B samples of the network's fixed training set.
    /// </summary>
    /// <remarks>
    /// Network e's training set is the n_e trials S_i = task.Generate(Rng.For(seed_e, <see cref="DatasetStream"/>, i)), i &lt; n_e,
    /// regenerated when drawn rather than stored (so a set of 2¹⁶ long trials costs no memory, and the set of size n is a prefix of
    /// the set of size 2n). Its batches read an endless stream of shuffles of [0, n_e): pass k is the Fisher–Yates permutation drawn
    /// from Rng.For(seed_e, <see cref="ShuffleStream"/>, k), and epoch t takes stream positions [tB, (t+1)B) (see <see cref="DatasetBatch"/>).
    /// One epoch is still one Adam step; an epoch is a pass when B = n. Everything is a function of (seed, epoch), so a resumed run
    /// sees the same batches. Process noise is drawn per epoch as in the fresh mode.
    /// </remarks>
    public static void FillBatch(ITrialTask task, IReadOnlyList<long> seeds, int epoch, TrialBatch batch, ReadOnlySpan<byte> active, TrainingOptions options, int threads = 0)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (!options.FiniteData)
        {
            FillBatch(task, seeds, epoch, batch, active, threads);
            return;
        }

        ArgumentNullException.ThrowIfNull(task);
        ArgumentNullException.ThrowIfNull(batch);
        if (batch.Sets != seeds.Count)
        {
            throw new ArgumentException($"Finite-dataset mode needs one trial set per network ({seeds.Count}); the batch has {batch.Sets}.", nameof(batch));
        }

        int steps = batch.Steps;
        int inLen = steps * batch.InputSize, outLen = steps * batch.OutputSize;
        int noiseSize = batch.Noise.Length / Math.Max(1, seeds.Count);
        var act = active.ToArray();
        Parallelism.For(seeds.Count, threads, e =>
        {
            if (act[e] == 0)
            {
                return;
            }

            var indices = new int[batch.Trials];
            DatasetBatch(seeds[e], options.TrainSamplesOf(e), epoch, indices);
            for (int b = 0; b < indices.Length; b++)
            {
                int at = e * batch.Trials + b;
                task.Generate(Rng.For(seeds[e], DatasetStream, indices[b]), 1, steps,
                    batch.Inputs.AsSpan(at * inLen, inLen), batch.Targets.AsSpan(at * outLen, outLen), batch.Mask.AsSpan(at * outLen, outLen));
            }

            if (noiseSize > 0)
            {
                Rng.For(seeds[e], Rng.NoiseStream, epoch).FillGaussian(batch.Noise.AsSpan(e * noiseSize, noiseSize));
            }
        });
    }

    /// <summary>
    /// The training-set indices of one epoch's batch: stream positions p = epoch·B + b (b &lt; B = <paramref name="indices"/>.Length) of
    /// the concatenated shuffles, i.e. perm_{⌊p/n⌋}[p mod n].
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">n &lt; 1, a negative epoch, or an empty destination.</exception>
    public static void DatasetBatch(long seed, int samples, int epoch, Span<int> indices)
    {
        Guard.AtLeast(samples, 1, nameof(samples));
        Guard.AtLeast(epoch, 0, nameof(epoch));
        Guard.AtLeast(indices.Length, 1, nameof(indices));
        long start = (long)epoch * indices.Length;
        long pass = -1;
        var perm = new int[samples];
        for (int b = 0; b < indices.Length; b++)
        {
            long p = start + b;
            if (p / samples != pass)
            {
                pass = p / samples;
                Shuffle(Rng.For(seed, ShuffleStream, pass), perm);
            }

            indices[b] = perm[(int)(p % samples)];
        }
    }

    /// <summary>Writes training sample <paramref name="index"/> of the fixed training set of the network seeded <paramref name="seed"/> (one trial).</summary>
    public static void TrainingSample(ITrialTask task, long seed, int index, int steps, Span<float> inputs, Span<float> targets, Span<float> mask)
    {
        ArgumentNullException.ThrowIfNull(task);
        Guard.AtLeast(index, 0, nameof(index));
        task.Generate(Rng.For(seed, DatasetStream, index), 1, steps, inputs, targets, mask);
    }

    /// <summary>The held-out test set of each network: <paramref name="trials"/> trials from Rng.For(seed_e, <see cref="TestStream"/>, j), one set per network.</summary>
    public static TrialBatch TestBatch(ITrialTask task, EnsembleSpec spec, IReadOnlyList<long> seeds, int trials, int steps, int threads = 0)
    {
        ArgumentNullException.ThrowIfNull(task);
        ArgumentNullException.ThrowIfNull(spec);
        var batch = TrialBatch.For(spec, spec.Networks, trials, steps);
        int inLen = steps * batch.InputSize, outLen = steps * batch.OutputSize;
        int noiseSize = batch.Noise.Length / spec.Networks;
        Parallelism.For(spec.Networks, threads, e =>
        {
            for (int j = 0; j < trials; j++)
            {
                int at = e * trials + j;
                task.Generate(Rng.For(seeds[e], TestStream, j), 1, steps,
                    batch.Inputs.AsSpan(at * inLen, inLen), batch.Targets.AsSpan(at * outLen, outLen), batch.Mask.AsSpan(at * outLen, outLen));
            }

            if (noiseSize > 0)
            {
                Rng.For(seeds[e], TestStream, -1).FillGaussian(batch.Noise.AsSpan(e * noiseSize, noiseSize));
            }
        });
        return batch;
    }

    /// <summary>Σ mask·(y − target)² / max(1, Σ mask) of network e's outputs [E][B][T][O] on its own trial set.</summary>
    private static double MaskedMse(float[] outputs, TrialBatch batch, int e)
    {
        int per = batch.Trials * batch.Steps * batch.OutputSize;
        double sse = 0, count = 0;
        for (int k = e * per; k < (e + 1) * per; k++)
        {
            double d = outputs[k] - batch.Targets[k];
            sse += batch.Mask[k] * d * d;
            count += batch.Mask[k];
        }

        return sse / Math.Max(1, count);
    }

    private static void Shuffle(Rng rng, int[] perm)
    {
        for (int i = 0; i < perm.Length; i++)
        {
            perm[i] = i;
        }

        for (int i = perm.Length - 1; i > 0; i--)
        {
            int j = (int)(rng.NextUInt64() % (ulong)(i + 1));
            (perm[i], perm[j]) = (perm[j], perm[i]);
        }
    }

    /// <summary>The finite-dataset mode's part of a session: the held-out test MSE and early stopping on it.</summary>
    private sealed partial class Session
    {
        private TrialBatch? _test;
        private float[] _testOutputs = [];

        /// <summary>
        /// In finite-dataset mode, every <see cref="TrainingOptions.TestEvery"/> epochs (and at the end: <paramref name="final"/>) measures
        /// each network's MSE on its held-out test set, keeps the best, and stops (as converged) a training network whose best is
        /// <see cref="TrainingOptions.TestPatience"/> measurements old. The final measurement of a network still training (an
        /// interrupted run) updates only its latest test MSE.
        /// </summary>
        private void TestRules(bool final)
        {
            if (!Options.FiniteData || (!final && _state.Epoch % Options.TestEvery != 0))
            {
                return;
            }

            if (_test is null)
            {
                _test = TestBatch(_task, _spec, _state.Ensemble.Seeds, Options.TestTrials, _batch.Steps, _backend.Threads);
                _testOutputs = new float[_test.Inputs.Length / _test.InputSize * _test.OutputSize];
            }

            if (_rank > 0)
            {
                _runner.GetParameters(_hostParams);
                for (int e = 0; e < _networks; e++)
                {
                    LowRank.Compose<float>(_state.Factors.AsSpan(e * _fs, _fs), _n, _rank, _layout.WRec(_hostParams, e));
                }

                _runner.SetParameters(_hostParams);
            }

            _runner.Forward(_test, _testOutputs, []);
            for (int e = 0; e < _networks; e++)
            {
                var rec = _state.Networks[e];
                double mse = MaskedMse(_testOutputs, _test, e);
                if (rec.TestLoss.Equals(mse) && final)
                {
                    continue;
                }

                rec.TestLoss = mse;
                if (final && rec.Status == NetworkStatus.Training)
                {
                    // An interrupted run: the measurement is reported but stays out of the best and the patience, so a resumed
                    // run ends exactly as an uninterrupted one.
                    _state.Networks[e] = rec;
                    _dirty = true;
                    continue;
                }

                if (mse < rec.BestTestLoss)
                {
                    rec.BestTestLoss = mse;
                    rec.BestTestEpoch = _state.Epoch;
                    rec.TestStale = 0;
                }
                else if (!final)
                {
                    rec.TestStale++;
                }

                if (!final && Options.TestPatience > 0 && rec.Status == NetworkStatus.Training && rec.TestStale >= Options.TestPatience)
                {
                    rec.Status = NetworkStatus.Converged;
                }

                _state.Networks[e] = rec;
                _dirty = true;
            }
        }
    }
}
