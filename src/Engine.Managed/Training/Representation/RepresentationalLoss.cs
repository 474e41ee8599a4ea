using Engine.Backends;

namespace Engine.Training.Representation;

/// <summary>
/// The representational terms of a training run on the probe trials (the first P trials of every batch): guidance
/// λ_e (1 − CKA(H_e, G)) toward a guide network's states, and diversity μ_e ρ̄(earlier | H_e) away from the networks
/// before e in the ensemble and from earlier runs (SEEDS §3, §4).
/// </summary>
/// <remarks>
/// <para>Guidance compares, by linear CKA (<see cref="LinearCka"/>), either the (trial, step) samples of the probe at every
/// stride-th step with the units as columns (<see cref="GuideRows.Samples"/>, the default: the geometry of the states,
/// which <c>compare --cka</c> measures too) or the paper's form, the P probe trials as rows and all T·N states of a trial
/// flattened as columns (<see cref="GuideRows.Trials"/>). Network e follows guide network <c>e mod G</c>, or the one fixed guide network asked for.
/// λ_e applies for epochs &lt; K (K = 0: always) and halves every H epochs when a half-life is set.</para>
/// <para>Diversity regresses earlier networks' states on e's (<see cref="RidgePredictivity"/>) over the probe trials at
/// every <c>stride</c>-th step (rows = trial × kept step), averaged over the earlier networks: those of the ensemble with
/// a lower index (their states from the previous epoch, the last they had: a frozen target within the step, and the same
/// whatever the thread count) and the fixed states of earlier runs. In the first epoch the ensemble's own earlier
/// networks have no states yet, and only the fixed ones count. Earlier networks with non-finite states (diverged) are
/// left out.</para>
/// <para>Each call records network e's CKA to its guide (<see cref="Alignment"/>) and its mean ρ̄
/// (<see cref="Predictability"/>), whether or not the term is on then; NaN where there is nothing to measure.</para>
/// </remarks>
public sealed class RepresentationalLoss : IStateLoss
{
    private readonly int _networks, _steps, _hidden, _stride, _guideStride;
    private readonly GuideStates? _guide;
    private readonly int _guideNetwork;
    private readonly double[][] _guideGrams;
    private readonly double[] _guideStrength, _diversity;
    private readonly int _guideEpochs;
    private readonly double _halfLife;
    private readonly List<double[]> _fixedEarlier = [];
    private double[]?[] _previous, _current;
    private readonly ThreadLocal<Scratch> _scratch = new(() => new Scratch());
    private readonly (double[] Sum, int Count)[] _earlierSums;
    private readonly double[]?[] _spare;
    private bool _sumsReady;

    /// <summary>Creates the terms for an ensemble of <paramref name="networks"/> networks of width <paramref name="hidden"/>.</summary>
    /// <param name="networks">E.</param>
    /// <param name="probeTrials">P.</param>
    /// <param name="steps">T.</param>
    /// <param name="hidden">N.</param>
    /// <param name="guide">The guide's states on the probe trials (null: no guidance).</param>
    /// <param name="guideNetwork">The guide network every network follows, or −1 for network e ↔ guide e mod G.</param>
    /// <param name="guideStrength">λ_e [E] (zeros: alignment measured, not trained).</param>
    /// <param name="guideEpochs">K: guidance on for epochs &lt; K; 0 for always.</param>
    /// <param name="guideHalfLife">H: λ halves every H epochs; 0 for constant.</param>
    /// <param name="diversity">μ_e [E] (zeros: predictability measured only when there are earlier states).</param>
    /// <param name="stride">Every stride-th step of the probe enters the diversity term.</param>
    /// <param name="fixedEarlier">States of earlier runs' networks on the probe trials (diversity targets), or null.</param>
    /// <param name="guideRows">What the guidance CKA's rows are: kept (trial, step) samples (default) or whole trials.</param>
    /// <param name="guideStride">Every guideStride-th probe step enters the guidance CKA in the samples form (0: <paramref name="stride"/>).</param>
    public RepresentationalLoss(int networks, int probeTrials, int steps, int hidden, GuideStates? guide, int guideNetwork,
        double[] guideStrength, int guideEpochs, double guideHalfLife, double[] diversity, int stride, IReadOnlyList<GuideStates>? fixedEarlier = null,
        GuideRows guideRows = GuideRows.Samples, int guideStride = 0)
    {
        GuideRowsUsed = guideRows;
        _guideStride = guideStride > 0 ? guideStride : stride;
        Util.Guard.AtLeast(probeTrials, 2, nameof(probeTrials));
        Util.Guard.AtLeast(stride, 1, nameof(stride));
        Util.Guard.Length(guideStrength.Length, networks, nameof(guideStrength), "[E]");
        Util.Guard.Length(diversity.Length, networks, nameof(diversity), "[E]");
        (_networks, ProbeTrials, _steps, _hidden, _stride) = (networks, probeTrials, steps, hidden, stride);
        (_guide, _guideNetwork, _guideStrength, _guideEpochs, _halfLife, _diversity) = (guide, guideNetwork, guideStrength, guideEpochs, guideHalfLife, diversity);
        _guideGrams = [];
        if (guide is not null)
        {
            if (guide.Trials != probeTrials || guide.Steps != steps)
            {
                throw new ArgumentException($"{guide.Source}: guide states are {guide.Trials} trials of {guide.Steps} steps; the probe is {probeTrials} trials of {steps} steps.");
            }

            if (guideNetwork >= guide.Networks)
            {
                throw new ArgumentOutOfRangeException(nameof(guideNetwork), guideNetwork, $"{guide.Source} has {guide.Networks} guide networks (0 … {guide.Networks - 1}).");
            }

            _guideGrams = Enumerable.Range(0, guide.Networks)
                .Select(g => guideRows == GuideRows.Trials
                    ? LinearCka.CenteredGram(Widen(guide.Of(g)), probeTrials, steps * guide.Hidden)
                    : Samples(guide.Of(g), guide.Hidden, _guideStride).Gram ?? throw new ArgumentException($"{guide.Source}: guide network {g}'s states are constant or non-finite on the probe trials."))
                .ToArray();
        }

        foreach (var run in fixedEarlier ?? [])
        {
            if (run.Trials != probeTrials || run.Steps != steps)
            {
                throw new ArgumentException($"{run.Source}: earlier states are {run.Trials} trials of {run.Steps} steps; the probe is {probeTrials} trials of {steps} steps.");
            }

            for (int g = 0; g < run.Networks; g++)
            {
                if (Samples(run.Of(g), run.Hidden, _stride).Gram is { } gram)
                {
                    _fixedEarlier.Add(gram);
                }
            }
        }

        _previous = new double[]?[networks];
        _current = new double[]?[networks];
        _earlierSums = new (double[], int)[networks];
        _spare = new double[]?[networks];
        Alignment = new double[networks];
        Predictability = new double[networks];
        Array.Fill(Alignment, double.NaN);
        Array.Fill(Predictability, double.NaN);
    }

    /// <inheritdoc />
    public int ProbeTrials { get; }

    /// <summary>The epoch the next <see cref="Gradient"/> calls belong to (for the guidance schedule).</summary>
    public int Epoch { get; set; }

    /// <summary>Per network, CKA to its guide at its last call (NaN without a guide).</summary>
    public double[] Alignment { get; }

    /// <summary>Per network, mean ridge predictability ρ̄ of the earlier networks from it at its last call (NaN without earlier states).</summary>
    public double[] Predictability { get; }

    /// <summary>Per network, its cohort (null: one cohort): only earlier networks of the same cohort are diversity targets.</summary>
    public int[]? Cohorts { get; init; }

    /// <summary>The rows of the guidance CKA.</summary>
    public GuideRows GuideRowsUsed { get; }

    /// <summary>Whether the runs have a guide.</summary>
    public bool HasGuide => _guide is not null;

    /// <summary>Whether any network has a diversity term, or there are earlier runs to measure against.</summary>
    public bool MeasuresPredictability => _diversity.Any(d => d > 0) || _fixedEarlier.Count > 0;

    /// <summary>λ of network <paramref name="e"/> at <see cref="Epoch"/> (the schedule applied).</summary>
    public double GuideStrengthNow(int e)
    {
        if (_guide is null || (_guideEpochs > 0 && Epoch >= _guideEpochs))
        {
            return 0.0;
        }

        return _halfLife > 0 ? _guideStrength[e] * Math.Pow(0.5, Epoch / _halfLife) : _guideStrength[e];
    }

    /// <inheritdoc />
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    public bool Gradient(int network, ReadOnlySpan<float> states, Span<float> gradient)
    {
        int e = network;
        bool any = false;
        var scratch = _scratch.Value!;
        gradient.Clear();
        if (_guide is not null && GuideRowsUsed == GuideRows.Samples)
        {
            var (xc, k) = Samples(states, _hidden, _guideStride, scratch, 3);
            var guideGram = _guideGrams[_guideNetwork >= 0 ? _guideNetwork : e % _guideGrams.Length];
            var g = scratch.Exact(5, xc.Length);
            Alignment[e] = k is null ? double.NaN : LinearCka.Gradient(xc, k, guideGram, Kept(_guideStride) * ProbeTrials, _hidden, g);
            double lambda = GuideStrengthNow(e);
            if (k is not null && lambda > 0 && AllFinite(g))
            {
                Scatter(g, -lambda, gradient, _guideStride);
                any = true;
            }
        }
        else if (_guide is not null)
        {
            int cols = _steps * _hidden;
            var xc = scratch.Get(1, states.Length);
            for (int i = 0; i < xc.Length; i++)
            {
                xc[i] = states[i];
            }

            LinearCka.CenterColumns(xc, ProbeTrials, cols);
            var k = new double[ProbeTrials * ProbeTrials];
            LinearCka.Gram(xc, ProbeTrials, cols, k);
            var g = scratch.Get(2, xc.Length);
            var guideGram = _guideGrams[_guideNetwork >= 0 ? _guideNetwork : e % _guideGrams.Length];
            Alignment[e] = LinearCka.Gradient(xc, k, guideGram, ProbeTrials, cols, g);
            double lambda = GuideStrengthNow(e);
            if (lambda > 0 && AllFinite(g))
            {
                for (int i = 0; i < gradient.Length; i++)
                {
                    gradient[i] += (float)(-lambda * g[i]);
                }

                any = true;
            }
        }

        if (MeasuresPredictability)
        {
            var (zc, gram) = Samples(states, _hidden, _stride, scratch, 6);
            if (gram is not null)
            {
                // Kept as this network's target for the next step, in the array it had two steps ago when there is one.
                var keep = _spare[e] is { } spare && spare.Length == gram.Length ? spare : new double[gram.Length];
                _spare[e] = null;
                gram.CopyTo(keep, 0);
                _current[e] = keep;
            }
            else
            {
                _current[e] = null;
            }

            lock (_earlierSums)
            {
                if (!_sumsReady)
                {
                    PrefixSums(); // the first step: the fixed earlier runs only (cohorts are known by now)
                }
            }

            var (sum, count) = _earlierSums[e];
            Predictability[e] = double.NaN;
            if (gram is not null && count > 0)
            {
                var g = scratch.Exact(8, zc.Length);
                Predictability[e] = RidgePredictivity.GradientOfMean(zc, Kept(_stride) * ProbeTrials, _hidden, sum, count, g);
                if (_diversity[e] > 0 && double.IsFinite(Predictability[e]) && AllFinite(g))
                {
                    Scatter(g, _diversity[e], gradient, _stride);
                    any = true;
                }
            }
        }

        return any;
    }

    /// <summary>
    /// Ends a training step: the states just seen become the earlier networks' targets of the next step (a network that did
    /// not run keeps its last ones), and <see cref="Epoch"/> advances.
    /// </summary>
    public void Advance()
    {
        for (int e = 0; e < _networks; e++)
        {
            if (_current[e] is null)
            {
                _current[e] = _previous[e];
            }
            else if (_previous[e] is { } old && !ReferenceEquals(old, _current[e]))
            {
                _spare[e] = old; // reused for this network's states two steps on (no large-object churn per step)
            }
        }

        (_previous, _current) = (_current, new double[]?[_networks]);
        Epoch++;
        PrefixSums();
    }

    /// <summary>
    /// For every network, the sum of the normalised Grams of its earlier targets (the fixed earlier runs, then the networks
    /// before it in its cohort, from the last step) and their count: running sums over the ensemble, so a network's term
    /// costs the same whatever its index.
    /// </summary>
    private void PrefixSums()
    {
        if (!MeasuresPredictability)
        {
            return;
        }

        int n = ProbeTrials * Kept(_stride);
        var running = new Dictionary<int, (double[] Sum, int Count)>();
        for (int e = 0; e < _networks; e++)
        {
            int cohort = Cohorts?[e] ?? 0;
            if (!running.TryGetValue(cohort, out var r))
            {
                r = (new double[n * n], 0); // one running sum per cohort and step
                foreach (var l in _fixedEarlier)
                {
                    RidgePredictivity.AddNormalized(l, n, r.Sum);
                    r.Count++;
                }
            }

            var mine = _earlierSums[e].Sum is { Length: > 0 } existing && existing.Length == n * n ? existing : new double[n * n];
            r.Sum.CopyTo(mine, 0);
            _earlierSums[e] = (mine, r.Count);
            if (_previous[e] is { } own)
            {
                RidgePredictivity.AddNormalized(own, n, r.Sum);
                r.Count++;
            }

            running[cohort] = r;
        }

        _sumsReady = true;
    }

    private int Kept(int stride) => (_steps + stride - 1) / stride;

    /// <summary>The centred (trial × kept step) × N sample matrix of one network's probe states at every stride-th step and its Gram (null Gram when non-finite or constant).</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    private (double[] Centered, double[]? Gram) Samples(ReadOnlySpan<float> states, int hidden, int stride, Scratch? scratch = null, int slot = 0)
    {
        int kept = Kept(stride), rows = ProbeTrials * kept;
        var z = scratch?.Exact(slot, rows * hidden) ?? new double[rows * hidden];
        for (int r = 0; r < ProbeTrials; r++)
        {
            for (int k = 0; k < kept; k++)
            {
                var src = states.Slice((r * _steps + k * stride) * hidden, hidden);
                var dst = z.AsSpan((r * kept + k) * hidden, hidden);
                for (int i = 0; i < hidden; i++)
                {
                    dst[i] = src[i];
                }
            }
        }

        if (!AllFinite(z))
        {
            return (z, null);
        }

        LinearCka.CenterColumns(z, rows, hidden);
        var gram = scratch?.Exact(slot + 1, rows * rows) ?? new double[rows * rows];
        LinearCka.Gram(z, rows, hidden, gram);
        double trace = 0;
        for (int i = 0; i < rows; i++)
        {
            trace += gram[i * rows + i];
        }

        return (z, trace > 0 ? gram : null);
    }

    /// <summary>Adds μ · the sample-matrix gradient back onto the kept steps of the [P][T][N] gradient.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    private void Scatter(double[] g, double mu, Span<float> total, int stride)
    {
        int kept = Kept(stride);
        for (int r = 0; r < ProbeTrials; r++)
        {
            for (int k = 0; k < kept; k++)
            {
                int src = (r * kept + k) * _hidden, dst = (r * _steps + k * stride) * _hidden;
                for (int i = 0; i < _hidden; i++)
                {
                    total[dst + i] += (float)(mu * g[src + i]);
                }
            }
        }
    }

    /// <summary>A worker thread's reusable float64 buffers (the state-sized ones would otherwise churn the large-object heap).</summary>
    private sealed class Scratch
    {
        private readonly double[][] _buffers = [[], [], [], [], [], [], [], [], []];

        public Span<double> Get(int slot, int length)
        {
            if (_buffers[slot].Length < length)
            {
                _buffers[slot] = new double[length];
            }

            return _buffers[slot].AsSpan(0, length);
        }

        /// <summary>A buffer of exactly <paramref name="length"/> doubles (contents undefined), reused while the length stays.</summary>
        public double[] Exact(int slot, int length)
        {
            if (_buffers[slot].Length != length)
            {
                _buffers[slot] = new double[length];
            }

            return _buffers[slot];
        }
    }

    private static double[] Widen(ReadOnlySpan<float> x)
    {
        var d = new double[x.Length];
        for (int i = 0; i < x.Length; i++)
        {
            d[i] = x[i];
        }

        return d;
    }

    private static bool AllFinite(ReadOnlySpan<double> x)
    {
        foreach (double v in x)
        {
            if (!double.IsFinite(v))
            {
                return false;
            }
        }

        return true;
    }
}

/// <summary>The rows of the guidance CKA.</summary>
public enum GuideRows
{
    /// <summary>(trial, step) samples of the probe at every stride-th step, columns the units: the geometry of the states, as <c>compare --cka</c> measures it.</summary>
    Samples,

    /// <summary>The probe trials, columns all steps × units flattened: the paper's form (Subramaniam et al.).</summary>
    Trials,
}
