using System.Globalization;
using Engine.Util;

namespace Engine.FixedPointRnn;

/// <summary>A state-tracking task over token sequences: inputs are token ids, targets a class id per position (−1: not scored).</summary>
/// <remarks>
/// A batch is <c>tokens[b·T + t]</c> and <c>targets[b·T + t]</c> for B sequences of length T. Generation depends only on the
/// generator passed in, so (seed, purpose, index) fixes every batch. Length generalisation: train at one length, test at longer ones.
/// </remarks>
public abstract class StateTask
{
    /// <summary>The task's name (as the CLI spells it).</summary>
    public abstract string Name { get; }

    /// <summary>V, the number of input tokens.</summary>
    public abstract int Vocab { get; }

    /// <summary>C, the number of output classes.</summary>
    public abstract int Classes { get; }

    /// <summary>The task's settings (for the run's manifest), as text.</summary>
    public abstract IReadOnlyDictionary<string, string> Settings { get; }

    /// <summary>The shortest sequence length the task can make.</summary>
    public virtual int MinLength => 1;

    /// <summary>Fills B sequences of length T.</summary>
    /// <param name="rng">The generator (consumed).</param>
    /// <param name="trials">B.</param>
    /// <param name="length">T.</param>
    /// <param name="tokens">[B·T] token ids in [0, V).</param>
    /// <param name="targets">[B·T] class ids in [0, C), −1 where unscored.</param>
    public void Generate(Rng rng, int trials, int length, Span<int> tokens, Span<int> targets)
    {
        ArgumentNullException.ThrowIfNull(rng);
        Guard.AtLeast(trials, 1, "trials");
        Guard.AtLeast(length, MinLength, "length");
        Guard.Length(tokens.Length, (long)trials * length, nameof(tokens), $"[B={trials}][T={length}]");
        Guard.Length(targets.Length, (long)trials * length, nameof(targets), $"[B={trials}][T={length}]");
        for (int b = 0; b < trials; b++)
        {
            Sequence(rng, tokens.Slice(b * length, length), targets.Slice(b * length, length));
        }
    }

    /// <summary>Fills one sequence.</summary>
    protected abstract void Sequence(Rng rng, Span<int> tokens, Span<int> targets);
}

/// <summary>Running parity: tokens are bits, the target at every position is the parity of the bits so far (the Z₂ word problem).</summary>
public sealed class ParityTask : StateTask
{
    /// <inheritdoc />
    public override string Name => "parity";

    /// <inheritdoc />
    public override int Vocab => 2;

    /// <inheritdoc />
    public override int Classes => 2;

    /// <inheritdoc />
    public override IReadOnlyDictionary<string, string> Settings => new Dictionary<string, string>();

    /// <inheritdoc />
    protected override void Sequence(Rng rng, Span<int> tokens, Span<int> targets)
    {
        int p = 0;
        for (int t = 0; t < tokens.Length; t++)
        {
            tokens[t] = rng.NextInt(2);
            p ^= tokens[t];
            targets[t] = p;
        }
    }
}

/// <summary>Modular counting: tokens are bits, the target at every position is the number of ones so far modulo m.</summary>
public sealed class ModularCountTask : StateTask
{
    /// <summary>Creates the task with modulus <paramref name="modulus"/> (≥ 2).</summary>
    public ModularCountTask(int modulus)
    {
        Guard.AtLeast(modulus, 2, "modulus");
        Modulus = modulus;
    }

    /// <summary>m.</summary>
    public int Modulus { get; }

    /// <inheritdoc />
    public override string Name => "count";

    /// <inheritdoc />
    public override int Vocab => 2;

    /// <inheritdoc />
    public override int Classes => Modulus;

    /// <inheritdoc />
    public override IReadOnlyDictionary<string, string> Settings => new Dictionary<string, string> { ["modulus"] = Modulus.ToString(CultureInfo.InvariantCulture) };

    /// <inheritdoc />
    protected override void Sequence(Rng rng, Span<int> tokens, Span<int> targets)
    {
        int c = 0;
        for (int t = 0; t < tokens.Length; t++)
        {
            tokens[t] = rng.NextInt(2);
            c = (c + tokens[t]) % Modulus;
            targets[t] = c;
        }
    }
}

/// <summary>A group word problem (A5 or S5): tokens are group elements, the target at every position is the running product g₁⋯g_t.</summary>
/// <remarks>
/// Elements are permutations of 5 points, listed in lexicographic order (S5: all 120; A5: the 60 even ones); the product
/// (g·h)(i) = g(h(i)) applies h first, and the running product is p_t = p_{t−1}·g_t.
/// </remarks>
public sealed class WordProblemTask : StateTask
{
    private readonly int[] _table;

    /// <summary>Creates the A5 (<paramref name="alternating"/>) or S5 word problem.</summary>
    public WordProblemTask(bool alternating)
    {
        Alternating = alternating;
        var elements = Permutations(5).Where(p => !alternating || Even(p)).ToArray();
        Elements = elements;
        int g = elements.Length;
        var index = new Dictionary<string, int>();
        for (int i = 0; i < g; i++)
        {
            index[string.Join(",", elements[i])] = i;
        }

        _table = new int[g * g];
        for (int a = 0; a < g; a++)
        {
            for (int b = 0; b < g; b++)
            {
                _table[a * g + b] = index[string.Join(",", Compose(elements[a], elements[b]))];
            }
        }
    }

    /// <summary>Whether this is A5 (else S5).</summary>
    public bool Alternating { get; }

    /// <summary>The elements as permutations of {0..4}, in token order.</summary>
    public IReadOnlyList<int[]> Elements { get; }

    /// <inheritdoc />
    public override string Name => Alternating ? "a5" : "s5";

    /// <inheritdoc />
    public override int Vocab => Elements.Count;

    /// <inheritdoc />
    public override int Classes => Elements.Count;

    /// <inheritdoc />
    public override IReadOnlyDictionary<string, string> Settings => new Dictionary<string, string>();

    /// <summary>The index of the product a·b (b applied first).</summary>
    public int Multiply(int a, int b) => _table[a * Elements.Count + b];

    /// <summary>(g∘h)(i) = g(h(i)).</summary>
    public static int[] Compose(int[] g, int[] h)
    {
        ArgumentNullException.ThrowIfNull(g);
        ArgumentNullException.ThrowIfNull(h);
        return h.Select(i => g[i]).ToArray();
    }

    /// <inheritdoc />
    protected override void Sequence(Rng rng, Span<int> tokens, Span<int> targets)
    {
        int p = -1;
        for (int t = 0; t < tokens.Length; t++)
        {
            tokens[t] = rng.NextInt(Elements.Count);
            p = p < 0 ? tokens[t] : Multiply(p, tokens[t]);
            targets[t] = p;
        }
    }

    private static bool Even(int[] p)
    {
        int inversions = 0;
        for (int i = 0; i < p.Length; i++)
        {
            for (int j = i + 1; j < p.Length; j++)
            {
                inversions += p[i] > p[j] ? 1 : 0;
            }
        }

        return inversions % 2 == 0;
    }

    private static IEnumerable<int[]> Permutations(int n)
    {
        var p = Enumerable.Range(0, n).ToArray();
        while (true)
        {
            yield return (int[])p.Clone();
            int i = n - 2;
            while (i >= 0 && p[i] > p[i + 1])
            {
                i--;
            }

            if (i < 0)
            {
                yield break;
            }

            int j = n - 1;
            while (p[j] < p[i])
            {
                j--;
            }

            (p[i], p[j]) = (p[j], p[i]);
            Array.Reverse(p, i + 1, n - i - 1);
        }
    }
}

/// <summary>Copy (Jelassi et al. 2024): "$ s | s ." over an alphabet of A letters, next-token prediction scored on the answer half.</summary>
/// <remarks>
/// Tokens: letters 0..A−1, then $ = A, | = A+1, . = A+2. A sequence of length T = 2L + 3 holds a string s of L = (T − 3)/2
/// letters (T odd; an even T leaves one trailing '.'). The input at position t is token t and the target is token t+1, scored
/// where token t+1 is a letter of the second s or the closing '.'.
/// </remarks>
public sealed class CopyTask : StateTask
{
    /// <summary>Creates the task over <paramref name="alphabet"/> letters (≥ 2).</summary>
    public CopyTask(int alphabet)
    {
        Guard.AtLeast(alphabet, 2, "alphabet");
        Alphabet = alphabet;
    }

    /// <summary>A, the number of letters.</summary>
    public int Alphabet { get; }

    /// <inheritdoc />
    public override string Name => "copy";

    /// <inheritdoc />
    public override int Vocab => Alphabet + 3;

    /// <inheritdoc />
    public override int Classes => Alphabet + 3;

    /// <inheritdoc />
    public override int MinLength => 5;

    /// <inheritdoc />
    public override IReadOnlyDictionary<string, string> Settings => new Dictionary<string, string> { ["alphabet"] = Alphabet.ToString(CultureInfo.InvariantCulture) };

    /// <inheritdoc />
    protected override void Sequence(Rng rng, Span<int> tokens, Span<int> targets)
    {
        int n = tokens.Length, l = (n - 3) / 2;
        Span<int> full = n + 1 <= 1024 ? stackalloc int[n + 1] : new int[n + 1];
        full[0] = Alphabet;
        for (int i = 0; i < l; i++)
        {
            full[1 + i] = rng.NextInt(Alphabet);
            full[2 + l + i] = full[1 + i];
        }

        full[1 + l] = Alphabet + 1;
        for (int i = 2 + 2 * l; i <= n; i++)
        {
            full[i] = Alphabet + 2;
        }

        for (int t = 0; t < n; t++)
        {
            tokens[t] = full[t];
            targets[t] = t + 1 >= 2 + l && t + 1 <= 2 + 2 * l ? full[t + 1] : -1;
        }
    }
}

/// <summary>Builds a state-tracking task from its name and settings.</summary>
public static class StateTasks
{
    /// <summary>The task names.</summary>
    public static IReadOnlyList<string> Names { get; } = ["parity", "count", "a5", "s5", "copy"];

    /// <summary>Creates a task: parity | count (setting modulus, default 8) | a5 | s5 | copy (setting alphabet, default 8).</summary>
    /// <exception cref="ArgumentException">Unknown task, a setting the task does not have, or a malformed value.</exception>
    public static StateTask Create(string name, IReadOnlyDictionary<string, string>? settings = null)
    {
        settings ??= new Dictionary<string, string>();
        string key = name?.Trim().ToLowerInvariant() ?? "";
        string[] known = key switch
        {
            "count" => ["modulus"],
            "copy" => ["alphabet"],
            "parity" or "a5" or "s5" => [],
            _ => throw new ArgumentException($"task: unknown fixed-point RNN task '{name}'; expected one of {string.Join(", ", Names)}.", nameof(name)),
        };
        foreach (var k in settings.Keys.Where(k => !known.Contains(k)))
        {
            throw new ArgumentException($"task {key} has no setting '{k}' (it has: {(known.Length == 0 ? "none" : string.Join(", ", known))}).", nameof(settings));
        }

        int Int(string k, int fallback) => !settings.TryGetValue(k, out var v) ? fallback
            : int.TryParse(v, NumberStyles.Integer, CultureInfo.InvariantCulture, out int i) ? i
            : throw new ArgumentException($"{k} must be an integer, got '{v}'.", nameof(settings));
        return key switch
        {
            "parity" => new ParityTask(),
            "count" => new ModularCountTask(Int("modulus", 8)),
            "a5" => new WordProblemTask(alternating: true),
            "s5" => new WordProblemTask(alternating: false),
            _ => new CopyTask(Int("alphabet", 8)),
        };
    }
}
