using Engine.Kernels;
using Engine.Tasks.Cognitive;
using Engine.Util;

namespace Engine.Composed;

/// <summary>An ensemble of context-composed (or plain) RNNs that learns cognitive tasks one after another (SEEDS §6).</summary>
/// <remarks>
/// Components are keyed by context: a role name (oracle) or "task:epochJ" (inferred). A task's stage opens a component for each
/// key not seen before and trains only those (plus, in the first stage only, the shared W_in, b, W_out, b_out); every
/// component and the shared weights are frozen when the stage ends, so an earlier task's outputs never change (its keys map to
/// frozen components, its epoch chain is frozen too). Known keys are reused as they are. The plain cell trains every weight
/// in every stage. Each network has its own Adam state, reset at every stage; all networks see the same trials.
/// </remarks>
public sealed partial class ContinualLearner
{
    private readonly float[][] _params;
    private readonly float[][] _grad;
    private readonly float[][] _m;
    private readonly float[][] _v;
    private readonly ComposedWorkspace<float>[] _ws;
    private readonly List<string> _keys = [];
    private readonly bool[] _trainable;
    private readonly Dictionary<string, EpochChain> _chains = [];
    private readonly Dictionary<string, CognitiveTask> _tasks = [];
    private bool _sharedTrainable;
    private int _stages;

    /// <summary>A fresh ensemble with seeded initialisation (network e from <c>Rng.For(seed, InitStream, e)</c>).</summary>
    public ContinualLearner(SequenceOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        Options = options.Validate();
        Spec = options.Spec();
        int e = options.Networks, p = Spec.ParameterCount;
        _params = new float[e][];
        _grad = new float[e][];
        _m = new float[e][];
        _v = new float[e][];
        _ws = new ComposedWorkspace<float>[e];
        for (int i = 0; i < e; i++)
        {
            _params[i] = Initialize(Spec, Rng.For(options.Seed, Rng.InitStream, i));
            _grad[i] = new float[p];
            _m[i] = new float[p];
            _v[i] = new float[p];
            _ws[i] = new ComposedWorkspace<float>();
        }

        _trainable = new bool[Math.Max(1, Spec.ContextCount)];
        _sharedTrainable = true;
    }

    /// <summary>The settings.</summary>
    public SequenceOptions Options { get; }

    /// <summary>The network shape.</summary>
    public ComposedSpec Spec { get; }

    /// <summary>Component keys in the order they were opened (component k has key <c>ComponentKeys[k]</c>).</summary>
    public IReadOnlyList<string> ComponentKeys => _keys;

    /// <summary>Network <paramref name="e"/>'s flat parameters (read-only view).</summary>
    public ReadOnlySpan<float> Parameters(int e) => _params[e];

    /// <summary>The cognitive task of that name with this run's task options (cached).</summary>
    /// <exception cref="ArgumentException">Unknown task name.</exception>
    public CognitiveTask Task(string name)
    {
        string key = name?.Trim().ToLowerInvariant() ?? "";
        if (!_tasks.TryGetValue(key, out var task))
        {
            task = new CognitiveTask(name!, Options.Task);
            _tasks[key] = task;
        }

        return task;
    }

    /// <summary>The learned epoch chain of a task (inferred context), or null before its stage.</summary>
    public EpochChain? Chain(string task) => _chains.GetValueOrDefault(task);

    /// <summary>Draws initial parameters: W_in ~ N(0, 1/I), W_out ~ N(0, 1/N), biases 0, plain W ~ N(0, 0.8²/N); each component
    /// starts as a rank-R near-integrator, N_k = M_k with M_k ~ N(0, 1) (so (1/N) M_k N_kᵀ has R eigenvalues near 1, a memory from
    /// the start; independent M_k and N_k did not learn delaygo at test size).</summary>
    public static float[] Initialize(ComposedSpec spec, Rng rng)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentNullException.ThrowIfNull(rng);
        var p = new float[spec.ParameterCount];
        int n = spec.Hidden;
        for (int i = 0; i < n * spec.Inputs; i++)
        {
            p[spec.WInOffset + i] = (float)(rng.NextGaussian() / Math.Sqrt(spec.Inputs));
        }

        for (int i = 0; i < spec.Outputs * n; i++)
        {
            p[spec.WOutOffset + i] = (float)(rng.NextGaussian() / Math.Sqrt(n));
        }

        if (spec.Cell == CellKind.Plain)
        {
            for (int i = spec.RecurrentOffset; i < p.Length; i++)
            {
                p[i] = (float)(0.8 / Math.Sqrt(n) * rng.NextGaussian());
            }

            return p;
        }

        const double gain = 1;
        for (int k = 0; k < spec.Components; k++)
        {
            int off = spec.ComponentOffset(k), len = n * spec.Rank;
            for (int i = 0; i < len; i++)
            {
                double m = rng.NextGaussian();
                p[off + i] = (float)(gain * m);
                p[off + len + i] = (float)(gain * m);
            }
        }

        return p;
    }

    /// <summary>A batch of a task with its context, ready for the RNN (noise from <paramref name="noiseRng"/>).</summary>
    public (CognitiveBatch Trials, ComposedBatch Batch) MakeBatch(CognitiveTask task, Rng trialRng, Rng noiseRng, int trials)
    {
        ArgumentNullException.ThrowIfNull(task);
        var c = task.Draw(trialRng, trials);
        var noise = new float[trials * c.Steps * Spec.Hidden];
        noiseRng.FillGaussian(noise);
        return (c, new ComposedBatch(trials, c.Steps, c.Inputs, c.Targets, c.Mask, Context(task, c), noise));
    }

    /// <summary>The context [B][T][K] of a task's trials: one-hot roles (oracle) or the epoch chain's posterior (inferred); keys without a component give 0.</summary>
    public float[] Context(CognitiveTask task, CognitiveBatch trials)
    {
        ArgumentNullException.ThrowIfNull(task);
        ArgumentNullException.ThrowIfNull(trials);
        int k = Spec.ContextCount, steps = trials.Steps;
        var context = new float[trials.Trials * steps * k];
        if (k == 0)
        {
            return context;
        }

        if (Options.Context == ContextSource.Oracle)
        {
            var index = EpochRoles.Names.Select(r => _keys.IndexOf(RoleKey(r))).ToArray();
            for (int i = 0; i < trials.Trials * steps; i++)
            {
                int c = index[trials.Roles[i]];
                if (c >= 0)
                {
                    context[i * k + c] = 1f;
                }
            }

            return context;
        }

        var chain = Chain(task.Name);
        if (chain is null)
        {
            return context;
        }

        int width = chain.Options.MaxEpochs;
        var map = Enumerable.Range(0, width).Select(j => _keys.IndexOf(EpochKey(task.Name, j))).ToArray();
        var features = new double[steps * CognitiveTask.FeatureCount];
        var posterior = new double[steps * width];
        for (int b = 0; b < trials.Trials; b++)
        {
            Features(task, trials, b, features);
            chain.Filter(features, steps, posterior);
            for (int t = 0; t < steps; t++)
            {
                for (int j = 0; j < width; j++)
                {
                    if (map[j] >= 0 && posterior[t * width + j] > 0)
                    {
                        context[((b * steps) + t) * k + map[j]] = (float)posterior[t * width + j];
                    }
                }
            }
        }

        return context;
    }

    /// <summary>Accuracy of every network on a task's trials (Yang et al.'s rule at the last step).</summary>
    public double[] Accuracy(CognitiveTask task, CognitiveBatch trials, ComposedBatch batch)
    {
        ArgumentNullException.ThrowIfNull(task);
        var acc = new double[Options.Networks];
        Parallelism.For(Options.Networks, Options.Threads, e =>
        {
            ComposedRnn.Forward<float>(Spec, _params[e], batch, _ws[e]);
            acc[e] = task.Accuracy(trials, _ws[e].Y.AsSpan(0, batch.Trials * batch.Steps * Spec.Outputs));
        });
        return acc;
    }

    /// <summary>Network <paramref name="e"/>'s outputs [B][T][O] on a batch.</summary>
    public float[] Outputs(int e, ComposedBatch batch)
    {
        ArgumentNullException.ThrowIfNull(batch);
        ComposedRnn.Forward<float>(Spec, _params[e], batch, _ws[e]);
        return _ws[e].Y.AsSpan(0, batch.Trials * batch.Steps * Spec.Outputs).ToArray();
    }

    /// <summary>The oracle key of a role.</summary>
    public static string RoleKey(string role) => "role:" + role;

    /// <summary>The inferred key of a task's epoch.</summary>
    public static string EpochKey(string task, int epoch) => $"{task}:epoch{epoch}";

    /// <summary>The cognitive features of trial <paramref name="b"/>, [T][3].</summary>
    public static void Features(CognitiveTask task, CognitiveBatch trials, int b, Span<double> features)
    {
        ArgumentNullException.ThrowIfNull(task);
        ArgumentNullException.ThrowIfNull(trials);
        int steps = trials.Steps, ni = trials.InputCount, f = CognitiveTask.FeatureCount;
        for (int t = 0; t < steps; t++)
        {
            task.Features(trials.Inputs.AsSpan((b * steps + t) * ni, ni), features.Slice(t * f, f));
        }
    }

    private void EnsureComponents(string task, IReadOnlyList<string> keys)
    {
        int fresh = keys.Count(k => !_keys.Contains(k));
        if (_keys.Count + fresh > Spec.Components)
        {
            throw new ArgumentException($"components: task '{task}' needs {_keys.Count + fresh} components in all ({fresh} new), more than components = {Spec.Components}.", "components");
        }

        foreach (var key in keys.Where(k => !_keys.Contains(k)))
        {
            _trainable[_keys.Count] = true;
            _keys.Add(key);
        }
    }
}
