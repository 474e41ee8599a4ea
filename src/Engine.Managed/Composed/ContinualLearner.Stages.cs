using System.Diagnostics;
using Engine.Kernels;
using Engine.Tasks.Cognitive;
using Engine.Util;

namespace Engine.Composed;

/// <summary>What one stage (one task trained to criterion) did.</summary>
/// <param name="Task">The task.</param>
/// <param name="Batches">Per network: training batches until the test accuracy reached the criterion (0: already there; null: not within the budget or nothing left to train).</param>
/// <param name="NewComponents">Component keys opened for this task.</param>
/// <param name="ReusedComponents">Component keys of earlier tasks that this task uses, frozen.</param>
/// <param name="Seconds">Wall time of the stage.</param>
public sealed record StageResult(string Task, int?[] Batches, IReadOnlyList<string> NewComponents, IReadOnlyList<string> ReusedComponents, double Seconds);

/// <summary>Stages: learning a task's epoch chain, opening its components, training to criterion, freezing.</summary>
public sealed partial class ContinualLearner
{
    private readonly Dictionary<string, (CognitiveBatch Trials, float[] Noise)> _testSets = [];
    private double[]? _lossStore;

    private double[] _loss => _lossStore ??= new double[Options.Networks];

    /// <summary>Each network's training loss on the last batch it trained on.</summary>
    public IReadOnlyList<double> LastLoss => _loss;

    /// <summary>Accuracy of every network on a task's fixed test set (the same trials and noise every time it is asked).</summary>
    public double[] Test(string name)
    {
        var (task, trials, batch) = TestBatch(name);
        return Accuracy(task, trials, batch);
    }

    /// <summary>Network <paramref name="e"/>'s outputs [B][T][O] on a task's fixed test set.</summary>
    public float[] TestOutputs(string name, int e) => Outputs(e, TestBatch(name).Batch);

    /// <summary>A task's fixed test set with the context the model gives it now (trials, then the RNN's batch).</summary>
    public (CognitiveTask Task, CognitiveBatch Trials, ComposedBatch Batch) TestBatch(string name)
    {
        var task = Task(name);
        if (!_testSets.TryGetValue(task.Name, out var set))
        {
            long id = CognitiveTask.Names.ToList().IndexOf(task.Name);
            var trials = task.Draw(Rng.For(Options.Seed, Rng.EvalStream, id), Options.EvalTrials);
            var noise = new float[trials.Trials * trials.Steps * Spec.Hidden];
            Rng.For(Options.Seed, Rng.EvalStream, 1000 + id).FillGaussian(noise);
            set = (trials, noise);
            _testSets[task.Name] = set;
        }

        var batch = new ComposedBatch(set.Trials.Trials, set.Trials.Steps, set.Trials.Inputs, set.Trials.Targets, set.Trials.Mask, Context(task, set.Trials), set.Noise);
        return (task, set.Trials, batch);
    }

    /// <summary>Trains one task to criterion (per network) and freezes what it trained.</summary>
    /// <param name="name">Task name.</param>
    /// <param name="progress">Called after every accuracy check with (batches so far, mean test accuracy of the networks still training).</param>
    /// <exception cref="ArgumentException">Unknown task, or the task needs more components than K (named <c>components</c>).</exception>
    public StageResult TrainTask(string name, Action<int, double>? progress = null)
    {
        var sw = Stopwatch.StartNew();
        var task = Task(name);
        int stage = _stages++;
        var keys = Keys(task, stage);
        var reused = keys.Where(_keys.Contains).ToArray();
        var fresh = keys.Where(k => !_keys.Contains(k)).ToArray();
        if (Spec.Cell == CellKind.Composed)
        {
            EnsureComponents(task.Name, keys);
        }

        bool anything = Spec.Cell == CellKind.Plain || _sharedTrainable || fresh.Length > 0;
        int e = Options.Networks;
        var batches = new int?[e];
        var done = new bool[e];
        var steps = new int[e];
        foreach (var a in new[] { _m, _v })
        {
            foreach (var block in a)
            {
                Array.Clear(block);
            }
        }

        var acc = Test(task.Name);
        for (int i = 0; i < e; i++)
        {
            if (acc[i] >= Options.Criterion)
            {
                batches[i] = 0;
                done[i] = true;
            }
        }

        int batch = 0;
        while (anything && batch < Options.MaxBatches && done.Contains(false))
        {
            var (_, data) = MakeBatch(task, Rng.For(Options.Seed, Rng.DataStream, stage * 10_000_000L + batch),
                Rng.For(Options.Seed, Rng.NoiseStream, stage * 10_000_000L + batch), Options.Batch);
            Parallelism.For(e, Options.Threads, i =>
            {
                if (!done[i])
                {
                    Step(i, data, ++steps[i]);
                }
            });
            batch++;
            if (batch % Options.EvalEvery == 0 || batch == Options.MaxBatches)
            {
                acc = Test(task.Name);
                double sum = 0;
                int live = 0;
                for (int i = 0; i < e; i++)
                {
                    if (!done[i])
                    {
                        sum += acc[i];
                        live++;
                        if (acc[i] >= Options.Criterion)
                        {
                            batches[i] = batch;
                            done[i] = true;
                        }
                    }
                }

                progress?.Invoke(batch, sum / Math.Max(1, live));
            }
        }

        Array.Clear(_trainable);
        _sharedTrainable = false;
        return new StageResult(task.Name, batches, Spec.Cell == CellKind.Composed ? fresh : [], Spec.Cell == CellKind.Composed ? reused : [], sw.Elapsed.TotalSeconds);
    }

    /// <summary>The component keys a task uses; for inferred context this first learns the task's epoch chain from its inputs.</summary>
    private string[] Keys(CognitiveTask task, int stage)
    {
        if (Spec.Cell == CellKind.Plain)
        {
            return [];
        }

        if (Options.Context == ContextSource.Oracle)
        {
            return task.Roles.Select(r => RoleKey(EpochRoles.Names[r])).ToArray();
        }

        if (!_chains.TryGetValue(task.Name, out var chain))
        {
            chain = new EpochChain(CognitiveTask.FeatureCount, Options.Chain);
            var rng = Rng.For(Options.Seed, Rng.DataStream, stage * 10_000_000L + 9_999_999);
            int width = chain.Options.MaxEpochs;
            for (int n = 0; n < Options.InferenceTrials; n++)
            {
                var trial = task.Draw(rng, 1);
                var features = new double[trial.Steps * CognitiveTask.FeatureCount];
                Features(task, trial, 0, features);
                chain.Learn(features, trial.Steps, new double[trial.Steps * width]);
            }

            _chains[task.Name] = chain;
        }

        return Enumerable.Range(0, chain.Epochs).Select(j => EpochKey(task.Name, j)).ToArray();
    }

    /// <summary>One Adam step of network <paramref name="e"/> on the trainable blocks (gradient clipped by its norm over them).</summary>
    private void Step(int e, ComposedBatch data, int step)
    {
        var p = _params[e];
        var g = _grad[e];
        _loss[e] = ComposedRnn.Gradient<float>(Spec, p, data, _ws[e], g);
        bool plain = Spec.Cell == CellKind.Plain;
        double norm2 = 0;
        foreach (var (lo, hi) in Trainable(plain))
        {
            for (int i = lo; i < hi; i++)
            {
                norm2 += (double)g[i] * g[i];
            }
        }

        double norm = Math.Sqrt(norm2);
        float clip = Options.ClipNorm > 0 && norm > Options.ClipNorm ? (float)(Options.ClipNorm / norm) : 1f;
        var c = AdamMath.Coefficients((float)Options.LearningRate, step, clip);
        var m = _m[e];
        var v = _v[e];
        foreach (var (lo, hi) in Trainable(plain))
        {
            for (int i = lo; i < hi; i++)
            {
                AdamMath.Update(ref p[i], ref m[i], ref v[i], g[i], c);
            }
        }
    }

    private IEnumerable<(int Lo, int Hi)> Trainable(bool plain)
    {
        if (plain)
        {
            yield return (0, Spec.ParameterCount);
            yield break;
        }

        if (_sharedTrainable)
        {
            yield return (0, Spec.SharedCount);
        }

        for (int k = 0; k < _keys.Count; k++)
        {
            if (_trainable[k])
            {
                yield return (Spec.ComponentOffset(k), Spec.ComponentOffset(k) + Spec.ComponentCount);
            }
        }
    }
}
