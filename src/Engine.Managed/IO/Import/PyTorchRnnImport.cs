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
/// <para>Every other entry (buffers such as an integer <c>num_batches_tracked</c>, embeddings, other heads) is skipped and
/// named in <see cref="PyTorchImportResult.Skipped"/>. Bool and integer tensors are never parameters: they are not readout
/// candidates, and one under a parameter name above is an error rather than converted, since integer weights in a
/// state dict mean a quantized model whose scales live elsewhere. Float16/32/64 (and BF16) parameters are read as float32.</para>
/// </remarks>
public static class PyTorchRnnImport
{
    private static readonly string[] ReadoutPrefixes = ["readout", "fc", "linear", "out", "output", "decoder", "head"];

    /// <summary>Reads <paramref name="path"/> (.safetensors or .npz) into an ensemble of one network; what was skipped is dropped (see <see cref="Import"/>).</summary>
    /// <exception cref="InvalidDataException">The file is not one of the formats, or its tensors do not form an nn.RNN + nn.Linear.</exception>
    public static Ensemble Load(string path, ActivationKind activation = ActivationKind.Tanh) => Import(path, activation).Ensemble;

    /// <summary>Reads <paramref name="path"/> (.safetensors or .npz) into an ensemble of one network, with the entries it skipped.</summary>
    /// <exception cref="InvalidDataException">The file is not one of the formats, or its tensors do not form an nn.RNN + nn.Linear.</exception>
    public static PyTorchImportResult Import(string path, ActivationKind activation = ActivationKind.Tanh)
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

        var used = new HashSet<string>(StringComparer.Ordinal);
        (float[] Data, int[] Shape) Param(string name)
        {
            var a = t[name];
            if (a.Dtype.IsIntegral)
            {
                throw new InvalidDataException(Fail($"'{name}' is {a.Dtype}; nn.RNN and nn.Linear parameters are floating point "
                    + "(integer weights suggest a quantized model: dequantize it before saving)"));
            }

            used.Add(name);
            return (a.ToFloat32(), a.ShapeArray());
        }

        string prefix = hhKeys[0][..^"weight_hh_l0".Length];
        var (whh, hhShape) = Param(hhKeys[0]);
        if (!t.ContainsKey(prefix + "weight_ih_l0"))
        {
            throw new InvalidDataException(Fail($"missing '{prefix}weight_ih_l0'"));
        }

        var ih = Param(prefix + "weight_ih_l0");

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
            if (t.ContainsKey(prefix + name))
            {
                var b = Param(prefix + name);
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
                && !kv.Value.Dtype.IsIntegral && kv.Value.Shape.Count == 2 && kv.Value.Shape[1] == n)
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

        var (c, cShape) = Param(readouts[0]);
        int no = cShape[0];
        var d = new float[no];
        string biasName = readouts[0][..^"weight".Length] + "bias";
        if (t.ContainsKey(biasName))
        {
            var db = Param(biasName);
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

        var skipped = t.Keys.Where(k => !used.Contains(k)).Order(StringComparer.Ordinal).ToList();
        var notes = new List<string>();
        if (skipped.Count > 0)
        {
            notes.Add((skipped.Count == 1 ? "skipped 1 entry that is not an nn.RNN/nn.Linear parameter: " : $"skipped {skipped.Count} entries that are not nn.RNN/nn.Linear parameters: ")
                + string.Join(", ", skipped.Take(8).Select(k => $"{k} ({t[k].Dtype}, [{string.Join(", ", t[k].Shape)}])"))
                + (skipped.Count > 8 ? $" and {skipped.Count - 8} more" : ""));
        }

        return new PyTorchImportResult(new Ensemble(spec, [0], p), skipped, notes);
    }
}

/// <summary>What <see cref="PyTorchRnnImport.Import"/> made of a state dict.</summary>
/// <param name="Ensemble">The one-network ensemble.</param>
/// <param name="Skipped">Names of the entries that are not parameters of the nn.RNN or its readout (buffers, other modules), sorted.</param>
/// <param name="Notes">One line for a person per thing worth knowing, e.g. what was skipped; empty when nothing was.</param>
public sealed record PyTorchImportResult(Ensemble Ensemble, IReadOnlyList<string> Skipped, IReadOnlyList<string> Notes);
