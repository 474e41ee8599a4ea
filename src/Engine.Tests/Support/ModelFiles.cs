using System.Buffers.Binary;
using System.Text;

namespace Engine.Tests.Support;

/// <summary>PyTorch <c>nn.RNN</c> + <c>nn.Linear</c> state dicts as <c>.npz</c> and <c>.safetensors</c> bytes, for the import tests.</summary>
internal static class ModelFiles
{
    /// <summary>A random state dict with the names PyTorch gives an <c>nn.RNN</c> (rnn.*) and its readout (fc.*), entries U(−0.6·scale, 0.6·scale).</summary>
    public static Dictionary<string, (float[] Data, int[] Shape)> StateDict(int seed, int n, int inputs, int outputs, float scale = 1)
    {
        var rng = new Random(seed);
        (float[], int[]) T(params int[] shape)
        {
            var a = new float[shape.Aggregate(1, (x, y) => x * y)];
            TestData.Fill(a, rng, 0.6f * scale);
            return (a, shape);
        }

        return new()
        {
            ["rnn.weight_ih_l0"] = T(n, inputs), ["rnn.weight_hh_l0"] = T(n, n), ["rnn.bias_ih_l0"] = T(n), ["rnn.bias_hh_l0"] = T(n),
            ["fc.weight"] = T(outputs, n), ["fc.bias"] = T(outputs),
        };
    }

    /// <summary>An <c>.npz</c> (zip of little-endian float32 <c>.npy</c> arrays), plus any <paramref name="extra"/> ready-made <c>.npy</c> images.</summary>
    public static byte[] Npz(Dictionary<string, (float[] Data, int[] Shape)> tensors, params (string Name, byte[] Npy)[] extra)
        => NpyImage.Npz(tensors.Select(kv => (kv.Key, NpyImage.File("<f4", kv.Value.Shape, kv.Value.Data.Select(x => (double)x).ToArray()))).Concat(extra));

    /// <summary>A <c>.safetensors</c> file: u64 header length, JSON header, then the tensors as F32 (or F64), then <paramref name="extra"/> raw tensors.</summary>
    public static byte[] Safetensors(Dictionary<string, (float[] Data, int[] Shape)> tensors, bool float64 = false, params (string Name, string Dtype, int[] Shape, byte[] Data)[] extra)
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

        foreach (var (name, dtype, shape, data) in extra)
        {
            long begin = payload.Length;
            payload.Write(data);
            json.Append($",\"{name}\":{{\"dtype\":\"{dtype}\",\"shape\":[{string.Join(",", shape)}],\"data_offsets\":[{begin},{payload.Length}]}}");
        }

        json.Append('}');
        var header = Encoding.UTF8.GetBytes(json.ToString());
        var all = new MemoryStream();
        var len = new byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(len, (ulong)header.Length);
        all.Write(len);
        all.Write(header);
        all.Write(payload.ToArray());
        return all.ToArray();
    }
}
