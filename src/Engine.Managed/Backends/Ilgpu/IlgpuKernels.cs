using Engine.Kernels.ClosedLoop;
using Engine.Kernels.Distances;
using Engine.Kernels.FixedPoints;
using Engine.Kernels.Rnn;
using ILGPU;
using ILGPU.Runtime;

namespace Engine.Backends.Ilgpu;

/// <summary>Every kernel of one accelerator, compiled and loaded once into typed launchers, with the one launch-shape rule.</summary>
/// <remarks>
/// The backend's one kernel loader: the RNN training kernels load with the backend; each other family (fixed-point search,
/// distances, closed-loop agents) loads on its first use, once per backend. Elementwise kernels run in groups of the
/// accelerator's <c>MaxNumThreadsPerGroup</c> rounded down to whole warps; per-network reductions run one warp
/// (<c>WarpSize</c> threads) per network. No size is a literal.
/// </remarks>
internal sealed class IlgpuKernels
{
    private readonly Accelerator _accelerator;
    private readonly Lazy<FixedPointKernelSet> _fixedPoints;
    private readonly Lazy<DistanceKernelSet> _distances;
    private readonly Lazy<ClosedLoopKernelSet> _closedLoop;

    public IlgpuKernels(Accelerator accelerator)
    {
        _accelerator = accelerator;
        WarpSize = accelerator.WarpSize;
        GroupSize = Math.Max(WarpSize, accelerator.MaxNumThreadsPerGroup / WarpSize * WarpSize);
        ForwardStep = Load<ForwardStepArgs>(RnnForwardKernels.Step);
        Readout = Load<ReadoutArgs>(RnnForwardKernels.Readout);
        MaskedMse = Load<LossArgs>(LossKernels.MaskedMse);
        OutputError = Load<LossArgs>(LossKernels.OutputError);
        Delta = Load<BackwardStepArgs>(BpttKernels.Delta);
        Carry = Load<BackwardStepArgs>(BpttKernels.Carry);
        WeightGradient = Load<WeightGradientArgs>(BpttKernels.WeightGradient);
        NormSquared = Load<NormArgs>(BpttKernels.NormSquared);
        Adam = Load<AdamArgs>(AdamKernels.Update);
        _fixedPoints = new(() => new FixedPointKernelSet(
            Load<FixedPointSearchArgs>(FixedPointKernel.Activate), Load<FixedPointSearchArgs>(FixedPointKernel.Residual),
            Load<FixedPointSearchArgs>(FixedPointKernel.Assess), Load<FixedPointSearchArgs>(FixedPointKernel.Update)));
        _distances = new(() => new DistanceKernelSet(
            Load<CrossProductArgs>(DistanceKernel.CrossProducts), Load<CrossProductArgs>(DistanceKernel.SquaredNorms),
            Load<DsaAlignArgs>(DistanceKernel.DsaAlign), Load<FaqGradientArgs>(DistanceKernel.FaqGradients)));
        _closedLoop = new(() => new ClosedLoopKernelSet(
            Load<ClosedLoopArgs>(ClosedLoopKernels.Start), Load<ClosedLoopArgs>(ClosedLoopKernels.Hidden),
            Load<ClosedLoopArgs>(ClosedLoopKernels.Plant), Load<ClosedLoopArgs>(ClosedLoopKernels.ControlAdjoint),
            Load<ClosedLoopArgs>(ClosedLoopKernels.HiddenAdjoint), Load<ClosedLoopArgs>(ClosedLoopKernels.StateAdjoint),
            Load<ClosedLoopArgs>(ClosedLoopKernels.Gradients)));
    }

    /// <summary>Threads per group for elementwise kernels.</summary>
    public int GroupSize { get; }

    /// <summary>Threads per group for per-network reductions.</summary>
    public int WarpSize { get; }

    public Action<KernelConfig, ForwardStepArgs> ForwardStep { get; }

    public Action<KernelConfig, ReadoutArgs> Readout { get; }

    public Action<KernelConfig, LossArgs> MaskedMse { get; }

    public Action<KernelConfig, LossArgs> OutputError { get; }

    public Action<KernelConfig, BackwardStepArgs> Delta { get; }

    public Action<KernelConfig, BackwardStepArgs> Carry { get; }

    public Action<KernelConfig, WeightGradientArgs> WeightGradient { get; }

    public Action<KernelConfig, NormArgs> NormSquared { get; }

    public Action<KernelConfig, AdamArgs> Adam { get; }

    /// <summary>The fixed-point search kernels (loaded on first use).</summary>
    public FixedPointKernelSet FixedPoints => _fixedPoints.Value;

    /// <summary>The distance kernels (loaded on first use).</summary>
    public DistanceKernelSet Distances => _distances.Value;

    /// <summary>The closed-loop agent kernels (loaded on first use).</summary>
    public ClosedLoopKernelSet ClosedLoop => _closedLoop.Value;

    /// <summary>A 1-D launch covering <paramref name="threads"/> elementwise threads.</summary>
    public KernelConfig Elementwise(long threads)
    {
        long groups = (threads + GroupSize - 1) / GroupSize;
        return new KernelConfig(new Index1D((int)Math.Max(1, groups)), new Index1D(GroupSize));
    }

    /// <summary>One warp per network.</summary>
    public KernelConfig PerNetwork(int networks) => new(new Index1D(networks), new Index1D(WarpSize));

    private Action<KernelConfig, TArgs> Load<TArgs>(Action<TArgs> kernel)
        where TArgs : struct
        => _accelerator.LoadStreamKernel(kernel);
}

/// <summary>The four kernels of one fixed-point search iteration (<see cref="FixedPointKernel"/>).</summary>
internal sealed record FixedPointKernelSet(
    Action<KernelConfig, FixedPointSearchArgs> Activate,
    Action<KernelConfig, FixedPointSearchArgs> Residual,
    Action<KernelConfig, FixedPointSearchArgs> Assess,
    Action<KernelConfig, FixedPointSearchArgs> Update);

/// <summary>The distance kernels (<see cref="DistanceKernel"/>): CKA cross products and norms, DSA alignment, FAQ gradients.</summary>
internal sealed record DistanceKernelSet(
    Action<KernelConfig, CrossProductArgs> CrossProducts,
    Action<KernelConfig, CrossProductArgs> SquaredNorms,
    Action<KernelConfig, DsaAlignArgs> DsaAlign,
    Action<KernelConfig, FaqGradientArgs> FaqGradients);

/// <summary>The closed-loop BPTT kernels through agent and plant (<see cref="ClosedLoopKernels"/>).</summary>
internal sealed record ClosedLoopKernelSet(
    Action<KernelConfig, ClosedLoopArgs> Start,
    Action<KernelConfig, ClosedLoopArgs> Hidden,
    Action<KernelConfig, ClosedLoopArgs> Plant,
    Action<KernelConfig, ClosedLoopArgs> ControlAdjoint,
    Action<KernelConfig, ClosedLoopArgs> HiddenAdjoint,
    Action<KernelConfig, ClosedLoopArgs> StateAdjoint,
    Action<KernelConfig, ClosedLoopArgs> Gradients);
