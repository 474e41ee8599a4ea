using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;
using Engine.Backends;
using Engine.IO.Import;
using Engine.Model;
using Engine.Tests.Support;
using NUnit.Framework;

namespace Engine.Tests.FixedPoints;

/// <summary>PyTorch nn.RNN + nn.Linear files written here (safetensors and npz) load and run like PyTorch's formula.</summary>
public sealed class PyTorchImportTests
{
    private const int N = 5, I = 2, O = 3;
    private string _dir = null!;

    [SetUp]
    public void Setup() => _dir = Directory.CreateTempSubdirectory("import").FullName;

    [TearDown]
    public void Cleanup() => Directory.Delete(_dir, true);

    private static Dictionary<string, (float[] Data, int[] Shape)> StateDict(int seed)
    {
        var rng = new Random(seed);
        (float[], int[]) T(params int[] shape)
        {
            var a = new float[shape.Aggregate(1, (x, y) => x * y)];
            TestData.Fill(a, rng, 0.6f);
            return (a, shape);
        }

        return new()
        {
            ["rnn.weight_ih_l0"] = T(N, I), ["rnn.weight_hh_l0"] = T(N, N), ["rnn.bias_ih_l0"] = T(N), ["rnn.bias_hh_l0"] = T(N),
            ["fc.weight"] = T(O, N), ["fc.bias"] = T(O),
        };
    }

    private static void WriteSafetensors(string path, Dictionary<string, (float[] Data, int[] Shape)> tensors, bool float64)
    {
        var json = new StringBuilder("{\"__metadata__\":{\"format\":\"pt\"}");
        var payload = new MemoryStream();
        foreach (var (name, (data, shape)) in tensors)
        {
            long begin = payload.Length;
            foreach (float x in data)
            {
                var b = new byte[float64 ? 8 : 4];
                if (float64)
                {
                    BinaryPrimitives.WriteDoubleLittleEndian(b, x);
                }
                else
                {
                    BinaryPrimitives.WriteSingleLittleEndian(b, x);
                }

                payload.Write(b);
            }

            json.Append($",\"{name}\":{{\"dtype\":\"{(float64 ? "F64" : "F32")}\",\"shape\":[{string.Join(",", shape)}],\"data_offsets\":[{begin},{payload.Length}]}}");
        }

        json.Append('}');
        var header = Encoding.UTF8.GetBytes(json.ToString());
        using var fs = File.Create(path);
        var len = new byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(len, (ulong)header.Length);
        fs.Write(len);
        fs.Write(header);
        fs.Write(payload.ToArray());
    }

    private static void WriteNpz(string path, Dictionary<string, (float[] Data, int[] Shape)> tensors)
    {
        using var zip = new ZipArchive(File.Create(path), ZipArchiveMode.Create);
        foreach (var (name, (data, shape)) in tensors)
        {
            string dims = shape.Length == 1 ? $"{shape[0]}," : string.Join(", ", shape);
            string dict = $"{{'descr': '<f4', 'fortran_order': False, 'shape': ({dims}), }}";
            int pad = (64 - (10 + dict.Length + 1) % 64) % 64;
            string header = dict + new string(' ', pad) + "\n";
            using var s = zip.CreateEntry(name + ".npy").Open();
            s.Write([0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y', 1, 0, (byte)(header.Length & 0xFF), (byte)(header.Length >> 8)]);
            s.Write(Encoding.ASCII.GetBytes(header));
            foreach (float x in data)
            {
                var b = new byte[4];
                BinaryPrimitives.WriteSingleLittleEndian(b, x);
                s.Write(b);
            }
        }
    }

    /// <summary>PyTorch's formula, written out: h_t = tanh(x_t W_ihᵀ + b_ih + h_{t−1} W_hhᵀ + b_hh), y_t = h_t Cᵀ + d.</summary>
    private static double[] TorchForward(Dictionary<string, (float[] Data, int[] Shape)> t, float[] x, int steps)
    {
        var h = new double[N];
        var y = new double[steps * O];
        for (int s = 0; s < steps; s++)
        {
            var next = new double[N];
            for (int i = 0; i < N; i++)
            {
                double z = t["rnn.bias_ih_l0"].Data[i] + t["rnn.bias_hh_l0"].Data[i];
                for (int j = 0; j < I; j++)
                {
                    z += x[s * I + j] * t["rnn.weight_ih_l0"].Data[i * I + j];
                }

                for (int j = 0; j < N; j++)
                {
                    z += h[j] * t["rnn.weight_hh_l0"].Data[i * N + j];
                }

                next[i] = Math.Tanh(z);
            }

            h = next;
            for (int o = 0; o < O; o++)
            {
                double v = t["fc.bias"].Data[o];
                for (int i = 0; i < N; i++)
                {
                    v += t["fc.weight"].Data[o * N + i] * h[i];
                }

                y[s * O + o] = v;
            }
        }

        return y;
    }

    [TestCase("model.safetensors", false)]
    [TestCase("model64.safetensors", true)]
    [TestCase("model.npz", false)]
    public void Load_GivesTheSameOutputsAsPyTorchsFormula(string file, bool float64)
    {
        var dict = StateDict(3);
        string path = Path.Combine(_dir, file);
        if (file.EndsWith(".npz", StringComparison.Ordinal))
        {
            WriteNpz(path, dict);
        }
        else
        {
            WriteSafetensors(path, dict, float64);
        }

        var ensemble = PyTorchRnnImport.Load(path);
        Assert.That((ensemble.Spec.Hidden, ensemble.Spec.Inputs, ensemble.Spec.Outputs), Is.EqualTo((N, I, O)));
        var batch = TrialBatch.For(ensemble.Spec, 1, 1, 9);
        TestData.Fill(batch.Inputs, new Random(4), 1f);
        using var backend = BackendFactory.Create("cpu");
        var (outputs, _) = ensemble.Run(backend, batch);
        var expected = TorchForward(dict, batch.Inputs, 9);
        TestData.AssertClose(outputs, expected.Select(v => (float)v).ToArray(), 1e-4, 1e-5, "outputs");
    }

    [Test]
    public void Load_RejectsOtherFilesAndShapes()
    {
        string junk = Path.Combine(_dir, "junk.safetensors");
        File.WriteAllText(junk, "this is not a tensor file");
        Assert.That(() => PyTorchRnnImport.Load(junk), Throws.InstanceOf<InvalidDataException>().With.Message.Contains("not a .safetensors or .npz"));

        var lstm = StateDict(5);
        lstm["rnn.weight_hh_l0"] = (new float[4 * N * N], [4 * N, N]);
        string lstmPath = Path.Combine(_dir, "lstm.npz");
        WriteNpz(lstmPath, lstm);
        Assert.That(() => PyTorchRnnImport.Load(lstmPath), Throws.InstanceOf<InvalidDataException>().With.Message.Contains("LSTM/GRU"));

        var noReadout = StateDict(6);
        noReadout.Remove("fc.weight");
        string nr = Path.Combine(_dir, "noreadout.safetensors");
        WriteSafetensors(nr, noReadout, false);
        Assert.That(() => PyTorchRnnImport.Load(nr), Throws.InstanceOf<InvalidDataException>().With.Message.Contains("no nn.Linear readout"));
    }
}
