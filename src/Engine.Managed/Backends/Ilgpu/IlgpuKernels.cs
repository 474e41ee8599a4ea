using Engine.Kernels.Rnn;
using ILGPU;
using ILGPU.Runtime;

namespace Engine.Backends.Ilgpu;

/// <summary>The kernels of one accelerator, compiled and loaded once into typed launchers, with their launch shapes.</summary>
/// <remarks>
/// Elementwise kernels run in groups of the accelerator's <c>MaxNumThreadsPerGroup</c> (a whole number of warps);
/// per-network reductions run one warp (<c>WarpSize</c> threads) per network. No size is a literal.
/// </remarks>
internal sealed class IlgpuKernels
{
    public IlgpuKernels(Accelerator accelerator)
    {
        WarpSize = accelerator.WarpSize;
        GroupSize = Math.Max(WarpSize, accelerator.MaxNumThreadsPerGroup / WarpSize * WarpSize);
        ForwardStep = accelerator.LoadStreamKernel<ForwardStepArgs>(RnnForwardKernels.Step);
        Readout = accelerator.LoadStreamKernel<ReadoutArgs>(RnnForwardKernels.Readout);
        MaskedMse = accelerator.LoadStreamKernel<LossArgs>(LossKernels.MaskedMse);
        OutputError = accelerator.LoadStreamKernel<LossArgs>(LossKernels.OutputError);
        Delta = accelerator.LoadStreamKernel<BackwardStepArgs>(BpttKernels.Delta);
        Carry = accelerator.LoadStreamKernel<BackwardStepArgs>(BpttKernels.Carry);
        WeightGradient = accelerator.LoadStreamKernel<WeightGradientArgs>(BpttKernels.WeightGradient);
        NormSquared = accelerator.LoadStreamKernel<NormArgs>(BpttKernels.NormSquared);
        Adam = accelerator.LoadStreamKernel<AdamArgs>(AdamKernels.Update);
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

    /// <summary>A 1-D launch covering <paramref name="threads"/> elementwise threads.</summary>
    public KernelConfig Elementwise(long threads)
    {
        long groups = (threads + GroupSize - 1) / GroupSize;
        return new KernelConfig(new Index1D((int)Math.Max(1, groups)), new Index1D(GroupSize));
    }

    /// <summary>One warp per network.</summary>
    public KernelConfig PerNetwork(int networks) => new(new Index1D(networks), new Index1D(WarpSize));
}
