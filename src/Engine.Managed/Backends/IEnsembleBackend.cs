using Engine.Model;

namespace Engine.Backends;

/// <summary>
/// A place where ensembles run: the plain reference, the fast CPU backend, or an ILGPU accelerator.
/// </summary>
/// <remarks>
/// One backend per device serves every operation family: the RNN runner (<see cref="CreateRunner"/>), the fixed-point
/// search (<see cref="CreateFixedPointSearch"/>), the distance kernels and the closed-loop agents, each with a reference,
/// a fast CPU and an ILGPU implementation side by side. A backend is cheap to query and owns the device (for ILGPU: the
/// context, the accelerator and its kernels). Work happens in runners and searches, which keep their buffers resident on
/// the device so that a training step allocates nothing. Analyses receive a backend and never test its type.
/// </remarks>
public interface IEnsembleBackend : IDisposable
{
    /// <summary>The name it is picked by: <c>reference</c>, <c>cpu</c>, <c>ilgpu-cpu</c>, <c>cuda</c> or <c>opencl</c>.</summary>
    string Name { get; }

    /// <summary>The device in words (CPU model and threads, or GPU name), for logs and run summaries.</summary>
    string Device { get; }

    /// <summary>
    /// Host threads for the CPU-side work around this backend (drawing trials, regularisers, polish, distance pairs):
    /// the <c>cpu</c> backend's workers, 1 for the single-threaded reference, every core for an ILGPU device.
    /// </summary>
    int Threads { get; }

    /// <summary>
    /// Whether the device's transcendental functions are hardware approximations (CUDA's <c>tanh.approx.f32</c>): its results
    /// then agree with the reference to about 1e-3 rather than 1e-6.
    /// </summary>
    bool ApproximateMath { get; }

    /// <summary>Whether it computes with this machine's CPU cores directly (cpu, reference), so its speed compares with the host's measured FMA peak.</summary>
    bool IsHostCpu { get; }

    /// <summary>Creates a runner for one ensemble architecture.</summary>
    IEnsembleRunner CreateRunner(EnsembleSpec spec);

    /// <summary>The distance kernels on this device (CKA and shape-metric cross products, DSA fits and alignments, FAQ).</summary>
    IDistanceKernels Distances { get; }

    /// <summary>Creates this device's closed-loop agents for <paramref name="problem"/> (owned by the caller).</summary>
    /// <exception cref="ArgumentException">The problem is inconsistent, or this device cannot run it (the ILGPU path needs one horizon).</exception>
    IClosedLoopAgents CreateClosedLoopAgents(ClosedLoopProblem problem);

    /// <summary>Creates this device's joint Adam fixed-point search (owned by the caller; it uses the device, which stays the backend's).</summary>
    IFixedPointSearch CreateFixedPointSearch();
}

/// <summary>Runs one ensemble forward and backward through time and applies Adam, all networks at once.</summary>
/// <remarks>
/// Buffers crossing this interface use the layouts of <see cref="ParameterLayout"/> (parameters, gradients,
/// moments: [E][P]) and <see cref="TrialBatch"/>; outputs are [E][B][T][O] and states [E][B][T][N]
/// (h_1 … h_T). Network e's results depend only on its own parameters and trial set: never on the other
/// networks. Workspaces are sized on first use for a (B, T) and reused while the shape stays the same.
/// </remarks>
public interface IEnsembleRunner : IDisposable
{
    /// <summary>The architecture this runner was made for.</summary>
    EnsembleSpec Spec { get; }

    /// <summary>Copies a parameter block [E][P] in.</summary>
    void SetParameters(ReadOnlySpan<float> parameters);

    /// <summary>Copies the parameter block [E][P] out.</summary>
    void GetParameters(Span<float> parameters);

    /// <summary>Copies Adam's first and second moments [E][P] in.</summary>
    void SetOptimizerState(ReadOnlySpan<float> firstMoment, ReadOnlySpan<float> secondMoment);

    /// <summary>Copies Adam's first and second moments [E][P] out.</summary>
    void GetOptimizerState(Span<float> firstMoment, Span<float> secondMoment);

    /// <summary>Runs every network on its trials; writes outputs [E][B][T][O] and, if not empty, states [E][B][T][N].</summary>
    void Forward(TrialBatch batch, Span<float> outputs, Span<float> states);

    /// <summary>
    /// Forward, masked MSE and BPTT for the networks with <c>active[e] != 0</c>: writes their loss and squared
    /// gradient norm (over that network's whole gradient) and keeps the gradient for <see cref="AdamStep"/>.
    /// Inactive networks get loss and norm 0 and a zero gradient.
    /// </summary>
    void ComputeGradients(TrialBatch batch, ReadOnlySpan<byte> active, Span<float> loss, Span<float> gradientNormSquared);

    /// <summary>Copies the last computed gradient [E][P] out.</summary>
    void GetGradients(Span<float> gradient);

    /// <summary>Replaces the gradient [E][P] (after host-side additions such as weight regularisers) before <see cref="AdamStep"/>.</summary>
    void SetGradients(ReadOnlySpan<float> gradient);

    /// <summary>
    /// Sets λ_e of the activity regulariser λ_e · mean over (trial, step, unit) of h² for each network [E] (0 turns it off).
    /// It adds 2λ_e h_t / (B T N) to the gradient reaching every h_t; the loss reported stays the masked MSE.
    /// </summary>
    void SetActivityRegularization(ReadOnlySpan<float> strengths);

    /// <summary>
    /// Sets the representational loss on the states of the leading trials (null: none). From the next
    /// <see cref="ComputeGradients"/> on, each active network's gradient includes that term's; the loss reported stays the
    /// masked MSE. Without one (the default) training runs exactly the operations it ran before the term existed.
    /// </summary>
    void SetStateLoss(IStateLoss? loss);

    /// <summary>
    /// Applies one Adam update with per-network coefficients ([E]: the same for every block) or per-block ones
    /// ([E][BlockCount] in the block order of <see cref="ParameterLayout"/>); a zero step size leaves that block untouched.
    /// </summary>
    void AdamStep(ReadOnlySpan<Engine.Kernels.AdamCoefficients> coefficients);
}
