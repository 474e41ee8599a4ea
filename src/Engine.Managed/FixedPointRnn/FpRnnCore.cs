using System.Numerics;
using System.Numerics.Tensors;
using Engine.Util;

namespace Engine.FixedPointRnn;

/// <summary>One fixed-point RNN's forward pass, loss and gradient, written once over the number type.</summary>
/// <remarks>
/// <para>float64 (<c>FpRnnCore&lt;double&gt;</c>) is the reference every test compares with; float32 is the fast CPU path the
/// trainer runs, one instance per network, networks in parallel. Both are this code, so they cannot drift; they differ only in
/// rounding, which the tests bound.</para>
/// <para>Model (plain form of Movahedi et al. 2025, SEEDS §5): token v_t gives b_t = Embed[v_t], λ_t = sigmoid(LambdaLogit[v_t]),
/// and Q_t = H_0 ⋯ H_{r−1}, H_i = I − β_i u_i u_iᵀ with u_i = normalise(Reflect[v_t][i]) and β_i = 2·sigmoid(BetaLogit[v_t][i]) ∈ (0, 2).
/// Iteration ℓ: h_t^ℓ = λ_t ⊙ h_{t−1}^ℓ + Q_t b_t + (I − Q_t) h_t^{ℓ−1}, h⁰ = 0, h_{−1} = 0. One iteration is the diagonal RNN
/// h_t = λ_t ⊙ h_{t−1} + Q_t b_t. Its fixed point is the dense linear RNN h_t = Q_t⁻¹ Λ_t h_{t−1} + b_t
/// (H_i⁻¹ = I + β_i/(1 − β_i) u_i u_iᵀ). Logits z_t = Readout h_t + ReadoutBias; loss = mean cross-entropy over scored positions.</para>
/// <para>Shapes: tokens and targets [B][T]; states [B][T][N]; with a fixed count K and <c>keepIterates</c>, every iterate
/// [K+1][B][T][N] is kept for the backward pass.</para>
/// </remarks>
/// <typeparam name="T">float (fast path) or double (reference).</typeparam>
public sealed class FpRnnCore<T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly FpRnnSpec _spec;
    private readonly T[] _lambda, _unit, _norm, _beta;
    private T[] _states = [], _previous = [], _adjoint = [], _adjointPrev = [], _dh = [];
    private readonly T[] _z, _g, _carry, _scratch, _logits;
    private readonly T[] _gLambda, _gUnit, _gBeta;
    private double[] _residual = [];
    private int _trials, _length, _kept;

    /// <summary>Creates the workspace of one network of <paramref name="spec"/>.</summary>
    public FpRnnCore(FpRnnSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        _spec = spec.Validate();
        int v = spec.Vocab, n = spec.Hidden, r = spec.Reflections;
        _lambda = new T[v * n];
        _unit = new T[v * r * n];
        _norm = new T[v * r];
        _beta = new T[v * r];
        _gLambda = new T[v * n];
        _gUnit = new T[v * r * n];
        _gBeta = new T[v * r];
        _z = new T[n];
        _g = new T[n];
        _carry = new T[n];
        _scratch = new T[(r + 1) * n];
        _logits = new T[spec.Classes];
    }

    /// <summary>The final states [B][T][N] of the last <see cref="Forward"/> (or <see cref="DenseForward"/>).</summary>
    public ReadOnlySpan<T> States => _kept > 0 ? _states.AsSpan(_kept * _trials * _length * _spec.Hidden, _trials * _length * _spec.Hidden) : _states.AsSpan(0, _trials * _length * _spec.Hidden);

    /// <summary>Iterations the last forward pass ran.</summary>
    public int IterationsRun { get; private set; }

    /// <summary>How the last forward pass ended.</summary>
    public FpStatus Status { get; private set; }

    /// <summary>The stopping rule's residual (the batch quantile) after the last iteration.</summary>
    public double Residual { get; private set; }

    /// <summary>Computes λ, the unit reflection vectors and β of every token from one network's parameters.</summary>
    public void Prepare(ReadOnlySpan<T> p)
    {
        var s = _spec;
        Guard.Length(p.Length, s.Stride, nameof(p), $"one network's parameters [stride {s.Stride}]");
        int n = s.Hidden, r = s.Reflections;
        for (int i = 0; i < s.Vocab * n; i++)
        {
            _lambda[i] = Sigmoid(p[s.LambdaOffset + i]);
        }

        for (int k = 0; k < s.Vocab * r; k++)
        {
            var raw = p.Slice(s.ReflectOffset + k * n, n);
            T sq = T.Zero;
            for (int j = 0; j < n; j++)
            {
                sq += raw[j] * raw[j];
            }

            T norm = T.Sqrt(sq) + T.CreateTruncating(1e-12);
            _norm[k] = norm;
            for (int j = 0; j < n; j++)
            {
                _unit[k * n + j] = raw[j] / norm;
            }

            _beta[k] = T.CreateTruncating(2.0) * Sigmoid(p[s.BetaOffset + k]);
        }
    }

    /// <summary>Runs the depth iteration on B sequences of length T; the result is in <see cref="States"/>.</summary>
    /// <param name="p">The network's parameters (also prepared here).</param>
    /// <param name="tokens">[B·T] token ids.</param>
    /// <param name="trials">B.</param>
    /// <param name="length">T.</param>
    /// <param name="iteration">A fixed count or the stopping rule.</param>
    /// <param name="keepIterates">Keep every iterate (needed by <see cref="Backward"/> with a fixed count).</param>
    public void Forward(ReadOnlySpan<T> p, ReadOnlySpan<int> tokens, int trials, int length, FpIteration iteration, bool keepIterates)
    {
        ArgumentNullException.ThrowIfNull(iteration);
        if (iteration.Direct)
        {
            DenseForward(p, tokens, trials, length);
            foreach (var x in States)
            {
                if (!T.IsFinite(x))
                {
                    Status = FpStatus.NonFinite;
                    break;
                }
            }

            return;
        }

        Prepare(p);
        CheckTokens(tokens, trials, length);
        int n = _spec.Hidden, size = trials * length * n;
        int budget = iteration.Budget;
        _kept = keepIterates && iteration.IsFixed ? budget : 0;
        Ensure(ref _states, _kept > 0 ? (budget + 1) * size : size);
        Ensure(ref _previous, size);
        if (_residual.Length < trials)
        {
            _residual = new double[trials];
        }

        _trials = trials;
        _length = length;
        var embed = p.Slice(_spec.EmbedOffset, _spec.Vocab * n);
        Span<T> cur = _states.AsSpan(0, size);
        cur.Clear();
        Status = FpStatus.MaxIterations;
        IterationsRun = 0;
        for (int l = 1; l <= budget; l++)
        {
            Span<T> old, next;
            if (_kept > 0)
            {
                old = _states.AsSpan((l - 1) * size, size);
                next = _states.AsSpan(l * size, size);
            }
            else
            {
                cur.CopyTo(_previous.AsSpan(0, size));
                old = _previous.AsSpan(0, size);
                next = cur;
            }

            bool finite = Sweep(embed, tokens, old, next, trials, length);
            IterationsRun = l;
            if (!finite)
            {
                Status = FpStatus.NonFinite;
                break;
            }

            Residual = Quantile(_residual.AsSpan(0, trials), iteration.Quantile);
            if (iteration.IsFixed)
            {
                if (l == budget)
                {
                    Status = FpStatus.Converged;
                }
            }
            else if (Residual < iteration.Tolerance)
            {
                Status = FpStatus.Converged;
                break;
            }
        }

        if (_kept > 0 && IterationsRun < _kept)
        {
            _kept = IterationsRun; // stopped early on a non-finite state: the last iterate is the output
        }
    }

    /// <summary>The dense recurrence the fixed point represents, h_t = Q_t⁻¹ Λ_t h_{t−1} + b_t, into <see cref="States"/>.</summary>
    public void DenseForward(ReadOnlySpan<T> p, ReadOnlySpan<int> tokens, int trials, int length)
    {
        Prepare(p);
        CheckTokens(tokens, trials, length);
        int n = _spec.Hidden, size = trials * length * n;
        _kept = 0;
        _trials = trials;
        _length = length;
        Ensure(ref _states, size);
        var embed = p.Slice(_spec.EmbedOffset, _spec.Vocab * n);
        for (int b = 0; b < trials; b++)
        {
            for (int t = 0; t < length; t++)
            {
                int v = tokens[b * length + t];
                var h = _states.AsSpan((b * length + t) * n, n);
                for (int j = 0; j < n; j++)
                {
                    h[j] = t == 0 ? T.Zero : _lambda[v * n + j] * _states[(b * length + t - 1) * n + j];
                }

                for (int i = 0; i < _spec.Reflections; i++)
                {
                    InverseReflect(v, i, h);
                }

                for (int j = 0; j < n; j++)
                {
                    h[j] += embed[v * n + j];
                }
            }
        }

        IterationsRun = 0;
        Status = FpStatus.Converged;
    }

    /// <summary>Loss and accuracy of the current <see cref="States"/>; with <paramref name="grad"/>, also the readout gradient and dL/dh.</summary>
    /// <param name="p">The network's parameters.</param>
    /// <param name="targets">[B·T] class ids, −1 unscored.</param>
    /// <param name="grad">Accumulates the readout gradient (same layout as <paramref name="p"/>); empty to skip.</param>
    /// <returns>Mean cross-entropy, correct scored positions, scored positions, sequences with every scored position right.</returns>
    public (double Loss, int Correct, int Scored, int SequencesRight) Loss(ReadOnlySpan<T> p, ReadOnlySpan<int> targets, Span<T> grad)
    {
        var s = _spec;
        int n = s.Hidden, c = s.Classes, trials = _trials, length = _length;
        Guard.Length(targets.Length, (long)trials * length, nameof(targets), $"[B={trials}][T={length}]");
        var h = States;
        int scored = 0;
        foreach (int y in targets)
        {
            scored += y >= 0 ? 1 : 0;
        }

        bool wantGrad = !grad.IsEmpty;
        if (wantGrad)
        {
            Ensure(ref _dh, trials * length * n);
            _dh.AsSpan(0, trials * length * n).Clear();
        }

        T inv = scored > 0 ? T.One / T.CreateTruncating(scored) : T.Zero;
        var w = p.Slice(s.ReadoutOffset, c * n);
        var bias = p.Slice(s.ReadoutBiasOffset, c);
        double loss = 0;
        int correct = 0, right = 0;
        for (int b = 0; b < trials; b++)
        {
            bool all = true;
            for (int t = 0; t < length; t++)
            {
                int y = targets[b * length + t];
                if (y < 0)
                {
                    continue;
                }

                if (y >= c)
                {
                    throw new ArgumentOutOfRangeException(nameof(targets), y, $"targets[{b * length + t}] = {y}, expected a class in [0, {c}) or −1.");
                }

                var hv = h.Slice((b * length + t) * n, n);
                int arg = 0;
                T max = T.NegativeInfinity;
                for (int k = 0; k < c; k++)
                {
                    T z = bias[k] + TensorPrimitives.Dot(w.Slice(k * n, n), hv);

                    _logits[k] = z;
                    if (z > max)
                    {
                        max = z;
                        arg = k;
                    }
                }

                T zy = _logits[y] - max;
                T sum = T.Zero;
                for (int k = 0; k < c; k++)
                {
                    _logits[k] = T.Exp(_logits[k] - max);
                    sum += _logits[k];
                }

                loss += double.CreateTruncating(T.Log(sum) - zy);
                correct += arg == y ? 1 : 0;
                all &= arg == y;
                if (wantGrad)
                {
                    var dh = _dh.AsSpan((b * length + t) * n, n);
                    for (int k = 0; k < c; k++)
                    {
                        T d = (_logits[k] / sum - (k == y ? T.One : T.Zero)) * inv;
                        grad[s.ReadoutBiasOffset + k] += d;
                        var gRow = grad.Slice(s.ReadoutOffset + k * n, n);
                        TensorPrimitives.MultiplyAdd(hv, d, gRow, gRow);
                        TensorPrimitives.MultiplyAdd(w.Slice(k * n, n), d, dh, dh);
                    }
                }
            }

            right += all ? 1 : 0;
        }

        return (scored > 0 ? loss / scored : 0, correct, scored, right);
    }

    /// <summary>Accumulates the gradient of the last <see cref="Loss"/> (called with a gradient) into <paramref name="grad"/>.</summary>
    /// <remarks>
    /// Fixed count (forward with <c>keepIterates</c>): exact backpropagation through the K iterations. Stopping rule: the implicit
    /// gradient at the fixed point, i.e. BPTT through h_t = Q_t⁻¹ Λ_t h_{t−1} + b_t evaluated at the final iterate:
    /// g_t = ∂L/∂h_t + λ_{t+1} ⊙ p_{t+1}, p_t = Q_t⁻ᵀ g_t; ∂L/∂b_t = g_t, ∂L/∂λ_t = p_t ⊙ h_{t−1}, and Q_t receives upstream −p_t
    /// applied to h_t − b_t (= Q_t⁻¹ Λ_t h_{t−1}).
    /// </remarks>
    public void Backward(ReadOnlySpan<T> p, ReadOnlySpan<int> tokens, FpIteration iteration, Span<T> grad)
    {
        ArgumentNullException.ThrowIfNull(iteration);
        var s = _spec;
        Guard.Length(grad.Length, s.Stride, nameof(grad), $"one network's gradient [stride {s.Stride}]");
        _gLambda.AsSpan().Clear();
        _gUnit.AsSpan().Clear();
        _gBeta.AsSpan().Clear();
        var gEmbed = grad.Slice(s.EmbedOffset, s.Vocab * s.Hidden);
        var embed = p.Slice(s.EmbedOffset, s.Vocab * s.Hidden);
        if (iteration.IsFixed)
        {
            if (_kept == 0)
            {
                throw new InvalidOperationException("Backward with a fixed iteration count needs the forward pass run with keepIterates.");
            }

            BackwardIterations(embed, tokens, gEmbed);
        }
        else
        {
            BackwardImplicit(embed, tokens, gEmbed);
        }

        int n = s.Hidden, r = s.Reflections;
        for (int i = 0; i < s.Vocab * n; i++)
        {
            grad[s.LambdaOffset + i] += _gLambda[i] * _lambda[i] * (T.One - _lambda[i]);
        }

        T half = T.CreateTruncating(0.5);
        for (int k = 0; k < s.Vocab * r; k++)
        {
            T dot = T.Zero;
            for (int j = 0; j < n; j++)
            {
                dot += _unit[k * n + j] * _gUnit[k * n + j];
            }

            for (int j = 0; j < n; j++)
            {
                grad[s.ReflectOffset + k * n + j] += (_gUnit[k * n + j] - _unit[k * n + j] * dot) / _norm[k];
            }

            grad[s.BetaOffset + k] += _gBeta[k] * _beta[k] * (T.One - half * _beta[k]);
        }
    }

    private void BackwardImplicit(ReadOnlySpan<T> embed, ReadOnlySpan<int> tokens, Span<T> gEmbed)
    {
        int n = _spec.Hidden, r = _spec.Reflections, length = _length;
        var h = States;
        for (int b = 0; b < _trials; b++)
        {
            _carry.AsSpan().Clear();
            for (int t = length - 1; t >= 0; t--)
            {
                int v = tokens[b * length + t], at = (b * length + t) * n;
                var pt = _g.AsSpan();
                for (int j = 0; j < n; j++)
                {
                    pt[j] = _dh[at + j] + _carry[j];
                    gEmbed[v * n + j] += pt[j];
                }

                for (int i = r - 1; i >= 0; i--)
                {
                    InverseReflect(v, i, pt); // p = Q⁻ᵀ g = H_0⁻¹ ⋯ H_{r−1}⁻¹ g
                }

                for (int j = 0; j < n; j++)
                {
                    if (t > 0)
                    {
                        _gLambda[v * n + j] += pt[j] * h[at - n + j];
                    }

                    _carry[j] = _lambda[v * n + j] * pt[j];
                    _z[j] = h[at + j] - embed[v * n + j];
                    pt[j] = -pt[j];
                }

                ReflectBackward(v, _z, pt);
            }
        }
    }

    private void BackwardIterations(ReadOnlySpan<T> embed, ReadOnlySpan<int> tokens, Span<T> gEmbed)
    {
        int n = _spec.Hidden, length = _length, size = _trials * length * n;
        Ensure(ref _adjoint, size);
        Ensure(ref _adjointPrev, size);
        _dh.AsSpan(0, size).CopyTo(_adjoint);
        for (int l = _kept; l >= 1; l--)
        {
            var hl = _states.AsSpan(l * size, size);
            var hOld = _states.AsSpan((l - 1) * size, size);
            var gPrev = _adjointPrev.AsSpan(0, size);
            gPrev.Clear();
            for (int b = 0; b < _trials; b++)
            {
                _carry.AsSpan().Clear();
                for (int t = length - 1; t >= 0; t--)
                {
                    int v = tokens[b * length + t], at = (b * length + t) * n;
                    var gt = _g.AsSpan();
                    for (int j = 0; j < n; j++)
                    {
                        gt[j] = _adjoint[at + j] + _carry[j];
                        if (t > 0)
                        {
                            _gLambda[v * n + j] += gt[j] * hl[at - n + j];
                        }

                        _carry[j] = _lambda[v * n + j] * gt[j];
                        _z[j] = embed[v * n + j] - hOld[at + j];
                        gPrev[at + j] += gt[j]; // the + h^{ℓ−1} term; the − Q z part is subtracted below
                    }

                    ReflectBackward(v, _z, gt); // gt becomes ∂L/∂z
                    for (int j = 0; j < n; j++)
                    {
                        gEmbed[v * n + j] += gt[j];
                        gPrev[at + j] -= gt[j];
                    }
                }
            }

            (_adjoint, _adjointPrev) = (_adjointPrev, _adjoint);
        }
    }

    /// <summary>One causal scan of the iteration; writes the per-sequence residuals; false on a non-finite state.</summary>
    private bool Sweep(ReadOnlySpan<T> embed, ReadOnlySpan<int> tokens, ReadOnlySpan<T> old, Span<T> next, int trials, int length)
    {
        int n = _spec.Hidden;
        T tiny = T.CreateTruncating(1e-8);
        bool finite = true;
        for (int b = 0; b < trials; b++)
        {
            T worst = T.Zero;
            for (int t = 0; t < length; t++)
            {
                int v = tokens[b * length + t], at = (b * length + t) * n;
                for (int j = 0; j < n; j++)
                {
                    _z[j] = embed[v * n + j] - old[at + j];
                }

                for (int i = _spec.Reflections - 1; i >= 0; i--)
                {
                    Reflect(v, i, _z);
                }

                T diff = T.Zero, size = T.Zero, sum = T.Zero;
                var lambda = _lambda.AsSpan(v * n, n);
                var hOld = old.Slice(at, n);
                var hNew = next.Slice(at, n);
                for (int j = 0; j < n; j++)
                {
                    T h = (t > 0 ? lambda[j] * next[at - n + j] : T.Zero) + hOld[j] + _z[j];
                    hNew[j] = h;
                    sum += h; // NaN and ±Inf propagate into the sum; the comparisons below skip NaN
                    T d = T.Abs(h - hOld[j]), a = T.Abs(h);
                    if (d > diff)
                    {
                        diff = d;
                    }

                    if (a > size)
                    {
                        size = a;
                    }
                }

                if (!T.IsFinite(sum))
                {
                    finite = false;
                }

                worst = T.Max(worst, diff / (size + tiny));
            }

            _residual[b] = double.CreateTruncating(worst);
        }

        return finite;
    }

    /// <summary>x ← H_i x = x − β u (uᵀx) for token v's reflection i.</summary>
    private void Reflect(int v, int i, Span<T> x)
    {
        int n = _spec.Hidden, k = v * _spec.Reflections + i;
        ReadOnlySpan<T> u = _unit.AsSpan(k * n, n);
        T a = _beta[k] * TensorPrimitives.Dot(u, (ReadOnlySpan<T>)x);
        TensorPrimitives.MultiplyAdd(u, -a, x, x);
    }

    /// <summary>x ← H_i⁻¹ x = x + β/(1 − β) u (uᵀx).</summary>
    private void InverseReflect(int v, int i, Span<T> x)
    {
        int n = _spec.Hidden, k = v * _spec.Reflections + i;
        ReadOnlySpan<T> u = _unit.AsSpan(k * n, n);
        T a = _beta[k] / (T.One - _beta[k]) * TensorPrimitives.Dot(u, (ReadOnlySpan<T>)x);
        TensorPrimitives.MultiplyAdd(u, a, x, x);
    }

    /// <summary>Backward of y = Q_v w: accumulates ∂L/∂u and ∂L/∂β of token v from upstream <paramref name="g"/>, which becomes ∂L/∂w.</summary>
    private void ReflectBackward(int v, ReadOnlySpan<T> w, Span<T> g)
    {
        int n = _spec.Hidden, r = _spec.Reflections;
        // s[r] = w, s[i] = H_i s[i+1]: the input of H_i is s[i+1].
        w.CopyTo(_scratch.AsSpan(r * n, n));
        for (int i = r - 1; i >= 0; i--)
        {
            _scratch.AsSpan((i + 1) * n, n).CopyTo(_scratch.AsSpan(i * n, n));
            Reflect(v, i, _scratch.AsSpan(i * n, n));
        }

        for (int i = 0; i < r; i++)
        {
            int k = v * r + i;
            ReadOnlySpan<T> u = _unit.AsSpan(k * n, n);
            ReadOnlySpan<T> x = _scratch.AsSpan((i + 1) * n, n);
            T a = TensorPrimitives.Dot(u, x), c = TensorPrimitives.Dot(u, (ReadOnlySpan<T>)g);
            T beta = _beta[k];
            _gBeta[k] -= a * c;
            var gu = _gUnit.AsSpan(k * n, n);
            TensorPrimitives.MultiplyAdd((ReadOnlySpan<T>)g, -beta * a, gu, gu);
            TensorPrimitives.MultiplyAdd(x, -beta * c, gu, gu);
            TensorPrimitives.MultiplyAdd(u, -beta * c, g, g);
        }
    }

    private void CheckTokens(ReadOnlySpan<int> tokens, int trials, int length)
    {
        Guard.AtLeast(trials, 1, "trials");
        Guard.AtLeast(length, 1, "length");
        Guard.Length(tokens.Length, (long)trials * length, nameof(tokens), $"[B={trials}][T={length}]");
        for (int i = 0; i < tokens.Length; i++)
        {
            if ((uint)tokens[i] >= (uint)_spec.Vocab)
            {
                throw new ArgumentOutOfRangeException(nameof(tokens), tokens[i], $"tokens[{i}] = {tokens[i]}, expected a token in [0, {_spec.Vocab}).");
            }
        }
    }

    private static double Quantile(Span<double> values, double q)
    {
        values.Sort();
        int i = Math.Clamp((int)Math.Ceiling(q * values.Length) - 1, 0, values.Length - 1);
        return values[i];
    }

    private static T Sigmoid(T x) => T.One / (T.One + T.Exp(-x));

    private static void Ensure(ref T[] buffer, int length)
    {
        if (buffer.Length < length)
        {
            buffer = new T[length];
        }
    }
}
