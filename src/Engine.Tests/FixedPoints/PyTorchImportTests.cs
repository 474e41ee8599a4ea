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

    private static Dictionary<string, (float[] Data, int[] Shape)> StateDict(int seed) => ModelFiles.StateDict(seed, N, I, O);

    private static void WriteSafetensors(string path, Dictionary<string, (float[] Data, int[] Shape)> tensors, bool float64)
        => File.WriteAllBytes(path, ModelFiles.Safetensors(tensors, float64));

    private static void WriteNpz(string path, Dictionary<string, (float[] Data, int[] Shape)> tensors) => File.WriteAllBytes(path, ModelFiles.Npz(tensors));

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
