using Engine.Kernels;
using Engine.Model;
using Engine.Util;

namespace Engine.Backends;

/// <summary>
/// Shared plumbing of the runners whose buffers live in host memory (reference and fast CPU): the parameter,
/// gradient and moment blocks, their copies in and out, and argument checks.
/// </summary>
public abstract class HostRunner : IEnsembleRunner
{
    private bool _disposed;

    /// <summary>Allocates the blocks for <paramref name="spec"/>.</summary>
    protected HostRunner(EnsembleSpec spec)
    {
        Spec = spec.Validate();
        Layout = spec.Layout;
        int size = Guard.Buffer("parameters [E][P]", sizeof(float), spec.Networks, Layout.Stride);
        Guard.Buffer("runner parameters, gradients and Adam moments [E][P] (4 blocks)", 4 * sizeof(float), spec.Networks, Layout.Stride);
        Parameters = new float[size];
        ActivityStrength = new float[spec.Networks];
        Gradient = new float[size];
        FirstMoment = new float[size];
        SecondMoment = new float[size];
    }

    /// <inheritdoc />
    public EnsembleSpec Spec { get; }

    /// <summary>The per-network layout.</summary>
    protected ParameterLayout Layout { get; }

    /// <summary>Parameters [E][P].</summary>
    protected float[] Parameters { get; }

    /// <summary>λ of the activity regulariser per network [E].</summary>
    protected float[] ActivityStrength { get; }

    /// <summary>Last gradient [E][P].</summary>
    protected float[] Gradient { get; }

    /// <summary>Adam m [E][P].</summary>
    protected float[] FirstMoment { get; }

    /// <summary>Adam v [E][P].</summary>
    protected float[] SecondMoment { get; }

    /// <inheritdoc />
    public void SetParameters(ReadOnlySpan<float> parameters)
    {
        ThrowIfDisposed();
        Guard.Length(parameters.Length, Parameters.Length, nameof(parameters), $"[E={Spec.Networks}][P={Layout.Stride}]");
        parameters.CopyTo(Parameters);
    }

    /// <inheritdoc />
    public void GetParameters(Span<float> parameters)
    {
        ThrowIfDisposed();
        Guard.Length(parameters.Length, Parameters.Length, nameof(parameters), $"[E={Spec.Networks}][P={Layout.Stride}]");
        Parameters.CopyTo(parameters);
    }

    /// <inheritdoc />
    public void SetOptimizerState(ReadOnlySpan<float> firstMoment, ReadOnlySpan<float> secondMoment)
    {
        ThrowIfDisposed();
        Guard.Length(firstMoment.Length, Parameters.Length, nameof(firstMoment), $"[E={Spec.Networks}][P={Layout.Stride}]");
        Guard.Length(secondMoment.Length, Parameters.Length, nameof(secondMoment), $"[E={Spec.Networks}][P={Layout.Stride}]");
        firstMoment.CopyTo(FirstMoment);
        secondMoment.CopyTo(SecondMoment);
    }

    /// <inheritdoc />
    public void GetOptimizerState(Span<float> firstMoment, Span<float> secondMoment)
    {
        ThrowIfDisposed();
        Guard.Length(firstMoment.Length, Parameters.Length, nameof(firstMoment), $"[E={Spec.Networks}][P={Layout.Stride}]");
        Guard.Length(secondMoment.Length, Parameters.Length, nameof(secondMoment), $"[E={Spec.Networks}][P={Layout.Stride}]");
        FirstMoment.CopyTo(firstMoment);
        SecondMoment.CopyTo(secondMoment);
    }

    /// <inheritdoc />
    public void GetGradients(Span<float> gradient)
    {
        ThrowIfDisposed();
        Guard.Length(gradient.Length, Gradient.Length, nameof(gradient), $"[E={Spec.Networks}][P={Layout.Stride}]");
        Gradient.CopyTo(gradient);
    }

    /// <inheritdoc />
    public void SetGradients(ReadOnlySpan<float> gradient)
    {
        ThrowIfDisposed();
        Guard.Length(gradient.Length, Gradient.Length, nameof(gradient), $"[E={Spec.Networks}][P={Layout.Stride}]");
        gradient.CopyTo(Gradient);
    }

    /// <summary>The representational loss on the probe trials' states, or null.</summary>
    protected IStateLoss? StateLoss { get; private set; }

    /// <inheritdoc />
    public void SetStateLoss(IStateLoss? loss)
    {
        ThrowIfDisposed();
        StateLossChecks.Valid(loss);
        StateLoss = loss;
    }

    /// <inheritdoc />
    public virtual void SetActivityRegularization(ReadOnlySpan<float> strengths)
    {
        ThrowIfDisposed();
        Guard.Length(strengths.Length, Spec.Networks, nameof(strengths), "[E]");
        for (int e = 0; e < strengths.Length; e++)
        {
            if (!float.IsFinite(strengths[e]) || strengths[e] < 0f)
            {
                throw new ArgumentOutOfRangeException(nameof(strengths), strengths[e], $"activity strength of network {e} must be finite and ≥ 0, got {strengths[e]}.");
            }
        }

        strengths.CopyTo(ActivityStrength);
    }

    /// <inheritdoc />
    public abstract void Forward(TrialBatch batch, Span<float> outputs, Span<float> states);

    /// <inheritdoc />
    public abstract void ComputeGradients(TrialBatch batch, ReadOnlySpan<byte> active, Span<float> loss, Span<float> gradientNormSquared);

    /// <inheritdoc />
    public virtual void AdamStep(ReadOnlySpan<AdamCoefficients> coefficients)
    {
        ThrowIfDisposed();
        int stride = Layout.Stride, blocks = Layout.BlockCount;
        var perBlock = new AdamCoefficients[Spec.Networks * blocks];
        AdamBlocks.Expand(coefficients, Spec.Networks, Layout, perBlock);
        for (int e = 0; e < Spec.Networks; e++)
        {
            for (int blk = 0; blk < blocks; blk++)
            {
                var c = perBlock[e * blocks + blk];
                if (c.StepSize == 0f)
                {
                    continue;
                }

                for (int k = e * stride + Layout.BlockStart(blk); k < e * stride + Layout.BlockEnd(blk); k++)
                {
                    AdamMath.Update(ref Parameters[k], ref FirstMoment[k], ref SecondMoment[k], Gradient[k], c);
                }
            }
        }
    }

    /// <summary>Checks the shapes shared by <see cref="Forward"/> and <see cref="ComputeGradients"/>.</summary>
    protected void CheckForward(TrialBatch batch, int outputs, int states)
    {
        ThrowIfDisposed();
        ArgumentNullException.ThrowIfNull(batch);
        batch.ValidateFor(Spec, checkValues: false);
        long rows = (long)Spec.Networks * batch.Trials * batch.Steps;
        Guard.Length(outputs, rows * Spec.Outputs, nameof(outputs), $"[E={Spec.Networks}][B={batch.Trials}][T={batch.Steps}][O={Spec.Outputs}]");
        if (states != 0)
        {
            Guard.Length(states, rows * Spec.Hidden, nameof(states), $"[E={Spec.Networks}][B={batch.Trials}][T={batch.Steps}][N={Spec.Hidden}]");
        }
    }

    /// <summary>Checks the arguments of <see cref="ComputeGradients"/>.</summary>
    protected void CheckGradients(TrialBatch batch, int active, int loss, int norms)
    {
        ThrowIfDisposed();
        ArgumentNullException.ThrowIfNull(batch);
        batch.ValidateFor(Spec, checkValues: false);
        Guard.Length(active, Spec.Networks, nameof(active), "[E]");
        Guard.Length(loss, Spec.Networks, nameof(loss), "[E]");
        Guard.Length(norms, Spec.Networks, nameof(norms), "[E]");
        StateLossChecks.ProbeFits(StateLoss, batch);
    }

    /// <summary>Throws once the runner is disposed.</summary>
    protected void ThrowIfDisposed() => ObjectDisposedException.ThrowIf(_disposed, this);

    /// <inheritdoc />
    public void Dispose()
    {
        if (!_disposed)
        {
            _disposed = true;
            Dispose(true);
            GC.SuppressFinalize(this);
        }
    }

    /// <summary>Releases workers or device memory held by a subclass.</summary>
    protected virtual void Dispose(bool disposing)
    {
    }
}
