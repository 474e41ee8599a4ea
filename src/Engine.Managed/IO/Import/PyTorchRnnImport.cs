using Engine.Model;

namespace Engine.IO.Import;

/// <summary>Loads a one-layer PyTorch <c>nn.RNN</c> (tanh or relu) with an <c>nn.Linear</c> readout as a one-network ensemble.</summary>
/// <remarks>
/// Accepted names (any common prefix such as <c>rnn.</c> or <c>model.rnn.</c>): <c>weight_hh_l0</c> [N, N] → W,
/// <c>weight_ih_l0</c> [N, I] → U, optional <c>bias_ih_l0</c> + <c>bias_hh_l0</c> [N] → b (their sum, as PyTorch adds
/// both). Readout: the one 2-D <c>*.weight</c> of shape [O, N] outside the RNN (preferring the prefixes
/// <c>readout</c>, <c>fc</c>, <c>linear</c>, <c>out</c>, <c>output</c>, <c>decoder</c>, <c>head</c>) → C, with its
/// optional <c>*.bias</c> [O] → d. PyTorch's h_t = φ(x_t W_ihᵀ + b_ih + h_{t−1} W_hhᵀ + b_hh) is our discrete cell with
/// h₀ = 0. Rejected clearly: a second layer (<c>*_l1</c>), bidirectional (<c>*_reverse</c>), LSTM/GRU-sized
/// weights (4N or 3N rows), missing or ambiguous readout. The nonlinearity is not stored in the file: pass it.
/// </remarks>
public static class PyTorchRnnImport
{
    private static readonly string[] ReadoutPrefixes = ["readout", "fc", "linear", "out", "output", "decoder", "head"];

    /// <summary>Reads <paramref name="path"/> (.safetensors or .npz) into an ensemble of one network.</summary>
    /// <exception cref="InvalidDataException">The file is not one of the formats, or its tensors do not form an nn.RNN + nn.Linear.</exception>
    public static Ensemble Load(string path, ActivationKind activation = ActivationKind.Tanh)
    {
        if (activation is not (ActivationKind.Tanh or ActivationKind.Relu))
        {
            throw new ArgumentException($"nn.RNN supports tanh or relu, got {activation}.", nameof(activation));
        }

        var t = TensorFile.Read(path);
        string Fail(string why) => $"{path}: {why} (tensors: {string.Join(", ", t.Keys.Order(StringComparer.Ordinal))}).";
        if (t.Keys.Any(k => k.Contains("_l1", StringComparison.Ordinal)))
        {
            throw new InvalidDataException(Fail("only one-layer nn.RNN is supported, found layer 1 weights"));
        }

        if (t.Keys.Any(k => k.Contains("_reverse", StringComparison.Ordinal)))
        {
            throw new InvalidDataException(Fail("bidirectional nn.RNN is not supported"));
        }

        var hhKeys = t.Keys.Where(k => k.EndsWith("weight_hh_l0", StringComparison.Ordinal)).ToList();
        if (hhKeys.Count != 1)
        {
            throw new InvalidDataException(Fail(hhKeys.Count == 0 ? "no 'weight_hh_l0' tensor: not a PyTorch nn.RNN state dict" : "several 'weight_hh_l0' tensors"));
        }

        string prefix = hhKeys[0][..^"weight_hh_l0".Length];
        var (whh, hhShape) = t[hhKeys[0]];
        if (!t.TryGetValue(prefix + "weight_ih_l0", out var ih))
        {
            throw new InvalidDataException(Fail($"missing '{prefix}weight_ih_l0'"));
        }

        if (hhShape.Length != 2 || hhShape[0] != hhShape[1])
        {
            throw new InvalidDataException(Fail($"'{hhKeys[0]}' has shape [{string.Join(", ", hhShape)}]; nn.RNN has [N, N] (LSTM/GRU stack 4N or 3N rows)"));
        }

        int n = hhShape[0];
        if (ih.Shape.Length != 2 || ih.Shape[0] != n)
        {
            throw new InvalidDataException(Fail($"'{prefix}weight_ih_l0' has shape [{string.Join(", ", ih.Shape)}], expected [{n}, I]"));
        }

        int ni = ih.Shape[1];
        var bias = new float[n];
        foreach (string name in new[] { "bias_ih_l0", "bias_hh_l0" })
        {
            if (t.TryGetValue(prefix + name, out var b))
            {
                if (b.Data.Length != n)
                {
                    throw new InvalidDataException(Fail($"'{prefix}{name}' has {b.Data.Length} values, expected {n}"));
                }

                for (int i = 0; i < n; i++)
                {
                    bias[i] += b.Data[i];
                }
            }
        }

        var readouts = t.Where(kv => kv.Key.EndsWith(".weight", StringComparison.Ordinal) && !kv.Key.StartsWith(prefix + "weight_", StringComparison.Ordinal)
                && kv.Value.Shape.Length == 2 && kv.Value.Shape[1] == n)
            .Select(kv => kv.Key).ToList();
        if (readouts.Count > 1)
        {
            var preferred = readouts.Where(k => ReadoutPrefixes.Any(p => k[..^".weight".Length].Split('.')[^1] == p)).ToList();
            readouts = preferred.Count == 1 ? preferred : readouts;
        }

        if (readouts.Count != 1)
        {
            throw new InvalidDataException(Fail(readouts.Count == 0 ? $"no nn.Linear readout: expected a '*.weight' of shape [O, {n}] (e.g. readout.weight or fc.weight)" : $"ambiguous readout, candidates {string.Join(", ", readouts)}"));
        }

        var (c, cShape) = t[readouts[0]];
        int no = cShape[0];
        var d = new float[no];
        if (t.TryGetValue(readouts[0][..^"weight".Length] + "bias", out var db))
        {
            if (db.Data.Length != no)
            {
                throw new InvalidDataException(Fail($"readout bias has {db.Data.Length} values, expected {no}"));
            }

            d = db.Data;
        }

        var spec = new EnsembleSpec { Networks = 1, Hidden = n, Inputs = ni, Outputs = no, Activation = activation };
        var layout = spec.Layout;
        var p = new float[layout.Stride];
        whh.CopyTo(p, layout.WRecOffset);
        ih.Data.CopyTo(p, layout.WInOffset);
        bias.CopyTo(p, layout.BiasOffset);
        c.CopyTo(p, layout.WOutOffset);
        d.CopyTo(p, layout.BOutOffset);
        foreach (float x in p)
        {
            if (!float.IsFinite(x))
            {
                throw new InvalidDataException($"{path}: the network holds NaN or Inf weights.");
            }
        }

        return new Ensemble(spec, [0], p);
    }
}
