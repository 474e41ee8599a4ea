using Engine.Tasks.Cognitive;
using Engine.Util;

namespace Engine.Composed;

/// <summary>Where the composed RNN's context c(t) comes from.</summary>
public enum ContextSource
{
    /// <summary>The task's per-step epoch roles, one-hot (one component per role, shared across tasks).</summary>
    Oracle,

    /// <summary>The filtered posterior of each task's online epoch chain (<see cref="EpochChain"/>), learned without labels.</summary>
    Inferred,
}

/// <summary>Settings of a continual-learning run (<see cref="ContinualLearner"/>); <see cref="Validate"/> names any bad field.</summary>
public sealed record SequenceOptions
{
    /// <summary>Composed or plain.</summary>
    public CellKind Cell { get; init; } = CellKind.Composed;

    /// <summary>Oracle roles or inferred epochs (composed only).</summary>
    public ContextSource Context { get; init; } = ContextSource.Oracle;

    /// <summary>N.</summary>
    public int Hidden { get; init; } = 64;

    /// <summary>K, the most components.</summary>
    public int Components { get; init; } = 16;

    /// <summary>R, rank per component.</summary>
    public int Rank { get; init; } = 8;

    /// <summary>E, networks trained together (independent initialisations, the same trials).</summary>
    public int Networks { get; init; } = 4;

    /// <summary>B, trials per training batch (Yang et al.: 64).</summary>
    public int Batch { get; init; } = 32;

    /// <summary>Adam learning rate (Yang et al.: 1e-3).</summary>
    public double LearningRate { get; init; } = 0.01;

    /// <summary>Gradient-norm clip per network (0: none).</summary>
    public double ClipNorm { get; init; } = 1;

    /// <summary>Accuracy that ends a task's training (SEEDS §6: 0.9).</summary>
    public double Criterion { get; init; } = 0.9;

    /// <summary>Most training batches per task.</summary>
    public int MaxBatches { get; init; } = 2000;

    /// <summary>Batches between accuracy checks.</summary>
    public int EvalEvery { get; init; } = 25;

    /// <summary>Trials of each task's fixed test set.</summary>
    public int EvalTrials { get; init; } = 128;

    /// <summary>Trials the epoch chain learns from (inputs only) before a task's training starts (inferred context).</summary>
    public int InferenceTrials { get; init; } = 100;

    /// <summary>σ_rec.</summary>
    public double NoiseStd { get; init; } = 0.05;

    /// <summary>Seed of initialisation, trials and noise.</summary>
    public long Seed { get; init; } = 1;

    /// <summary>Host threads over networks (0: all cores); results never depend on it.</summary>
    public int Threads { get; init; }

    /// <summary>The task set's time step, time constant, ring size and duration scale.</summary>
    public CognitiveOptions Task { get; init; } = new();

    /// <summary>The epoch chain's settings.</summary>
    public EpochChainOptions Chain { get; init; } = new();

    /// <summary>Checks every field; returns this.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A field out of range, named.</exception>
    public SequenceOptions Validate()
    {
        Guard.AtLeast(Hidden, 1, "hidden");
        if (Cell == CellKind.Composed)
        {
            Guard.AtLeast(Components, 1, "components");
            Guard.AtLeast(Rank, 1, "rank");
            if (Rank > Hidden)
            {
                throw new ArgumentOutOfRangeException("rank", Rank, $"rank must be at most the width (hidden = {Hidden}), got {Rank}.");
            }
        }

        Guard.AtLeast(Networks, 1, "networks");
        Guard.AtLeast(Batch, 1, "batch");
        Guard.InRange(LearningRate, 0, 10, "lr");
        Guard.InRange(ClipNorm, 0, 1e9, "clip");
        Guard.InRange(Criterion, 0, 1, "criterion");
        Guard.AtLeast(MaxBatches, 0, "max-batches");
        Guard.AtLeast(EvalEvery, 1, "eval-every");
        Guard.AtLeast(EvalTrials, 1, "eval-trials");
        Guard.AtLeast(InferenceTrials, 1, "inference-trials");
        Guard.AtLeast(Threads, 0, "threads");
        Task.Validate();
        Chain.Validate();
        return this;
    }

    /// <summary>The network shape these options give for the cognitive task set.</summary>
    public ComposedSpec Spec()
    {
        int ring = Task.Ring;
        return new ComposedSpec
        {
            Cell = Cell, Hidden = Hidden, Inputs = 1 + 2 * ring, Outputs = 1 + ring, Components = Components, Rank = Rank,
            Alpha = Task.Alpha, NoiseStd = NoiseStd,
        }.Validate();
    }
}
