using System.Text.Json;

namespace Engine.Tasks.Control;

/// <summary>A discrete linear plant (environment) x_{t+1} = A x_t + B u_t with observation y_t = C x_t.</summary>
/// <remarks>
/// Shapes: A is n×n, B is n×p, C is q×n (n state, p control, q observation dimensions), all row-major
/// (<c>A[i * n + j]</c>, <c>B[i * p + j]</c>, <c>C[i * n + j]</c>). Built in: the double integrator
/// (A = [[1, 1], [0, 1]], B = [0, 1]ᵀ, C = [1, 0], position observed only), the K-th order integrator
/// (A = I + superdiagonal, B = e_K, C = e_1ᵀ) and a 2D point mass (position and velocity per axis, force per
/// axis, both positions observed).
/// </remarks>
public sealed class Plant
{
    /// <summary>Builds and validates a plant; throws <see cref="ArgumentException"/> naming the inconsistent shape.</summary>
    public Plant(string name, int n, int p, int q, double[] a, double[] b, double[] c)
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        ArgumentNullException.ThrowIfNull(c);
        Util.Guard.AtLeast(n, 1, "state dimension n");
        Util.Guard.AtLeast(p, 1, "control dimension p");
        Util.Guard.AtLeast(q, 1, "observation dimension q");
        Util.Guard.Length(a.Length, (long)n * n, "A", $"n×n = {n}×{n}");
        Util.Guard.Length(b.Length, (long)n * p, "B", $"n×p = {n}×{p}");
        Util.Guard.Length(c.Length, (long)q * n, "C", $"q×n = {q}×{n}");
        foreach (var (arr, label) in new[] { (a, "A"), (b, "B"), (c, "C") })
        {
            for (int i = 0; i < arr.Length; i++)
            {
                if (!double.IsFinite(arr[i]))
                {
                    throw new ArgumentException($"plant matrix {label}[{i}] is {arr[i]}; all entries must be finite.", label);
                }
            }
        }

        Name = name;
        N = n;
        P = p;
        Q = q;
        A = a;
        B = b;
        C = c;
    }

    /// <summary>Name for logs and file headers.</summary>
    public string Name { get; }

    /// <summary>n, the state dimension.</summary>
    public int N { get; }

    /// <summary>p, the control dimension.</summary>
    public int P { get; }

    /// <summary>q, the observation dimension.</summary>
    public int Q { get; }

    /// <summary>A, n×n row-major.</summary>
    public double[] A { get; }

    /// <summary>B, n×p row-major.</summary>
    public double[] B { get; }

    /// <summary>C, q×n row-major.</summary>
    public double[] C { get; }

    /// <summary>True for one control and one observation (the reduced model and the gains k1, k2 need it).</summary>
    public bool IsSiso => P == 1 && Q == 1;

    /// <summary>The double integrator of Ger &amp; Barak: position and velocity, force input, position observed.</summary>
    public static Plant DoubleIntegrator() => Integrator(2, "double-integrator");

    /// <summary>The K-th order integrator: x_i ← x_i + x_{i+1}, the last state integrates u, the first is observed.</summary>
    /// <remarks>A = I + superdiagonal ones (K×K), B = e_K (K×1), C = e_1ᵀ (1×K); K = 1 is x ← x + u.</remarks>
    public static Plant Integrator(int order, string? name = null)
    {
        Util.Guard.AtLeast(order, 1, "order");
        int k = order;
        var a = new double[k * k];
        for (int i = 0; i < k; i++)
        {
            a[i * k + i] = 1;
            if (i + 1 < k)
            {
                a[i * k + i + 1] = 1;
            }
        }

        var b = new double[k];
        b[k - 1] = 1;
        var c = new double[k];
        c[0] = 1;
        return new Plant(name ?? $"integrator-{k}", k, 1, 1, a, b, c);
    }

    /// <summary>A point mass in the plane: state (px, py, vx, vy), force (fx, fy), both positions observed.</summary>
    /// <remarks>A = [[I, dt I], [0, I]], B = [[0], [dt I]], C = [I, 0] (4×4, 4×2, 2×4).</remarks>
    public static Plant PointMass2D(double dt = 1.0)
    {
        Util.Guard.InRange(dt, 1e-9, 1e9, "dt");
        var a = new double[16];
        for (int i = 0; i < 4; i++)
        {
            a[i * 4 + i] = 1;
        }

        a[0 * 4 + 2] = dt;
        a[1 * 4 + 3] = dt;
        var b = new double[8];
        b[2 * 2 + 0] = dt;
        b[3 * 2 + 1] = dt;
        var c = new double[8];
        c[0 * 4 + 0] = 1;
        c[1 * 4 + 1] = 1;
        return new Plant("point-mass-2d", 4, 2, 2, a, b, c);
    }

    /// <summary>A built-in plant by name (<c>double-integrator</c>, <c>integrator</c> with <paramref name="order"/>, <c>point-mass</c> with time step <paramref name="dt"/>) or a JSON file.</summary>
    public static Plant Create(string nameOrPath, int order = 3, double dt = 1.0)
    {
        ArgumentNullException.ThrowIfNull(nameOrPath);
        return nameOrPath switch
        {
            "double-integrator" => DoubleIntegrator(),
            "integrator" => Integrator(order),
            "point-mass" or "point-mass-2d" => PointMass2D(dt),
            _ when nameOrPath.EndsWith(".json", StringComparison.OrdinalIgnoreCase) => FromJsonFile(nameOrPath),
            _ => throw new ArgumentException(
                $"unknown plant '{nameOrPath}': expected double-integrator, integrator, point-mass or a .json file.", "--plant"),
        };
    }

    /// <summary>Reads a plant from a JSON file <c>{"name": "...", "A": [[...]], "B": [[...]], "C": [[...]]}</c>.</summary>
    public static Plant FromJsonFile(string path)
    {
        if (!File.Exists(path))
        {
            throw new ArgumentException($"plant file {path} does not exist.", nameof(path));
        }

        return FromJson(File.ReadAllText(path), Path.GetFileNameWithoutExtension(path));
    }

    /// <summary>Parses a plant from JSON: matrices as arrays of rows; n, p, q are inferred and every shape is checked.</summary>
    public static Plant FromJson(string json, string defaultName = "plant")
    {
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(json, new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"plant JSON is malformed: {e.Message}", e);
        }

        using (doc)
        {
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                throw new InvalidDataException("plant JSON must be an object with keys A, B, C.");
            }

            string name = root.TryGetProperty("name", out var nm) && nm.ValueKind == JsonValueKind.String ? nm.GetString()! : defaultName;
            foreach (var prop in root.EnumerateObject())
            {
                if (prop.Name is not ("name" or "A" or "B" or "C"))
                {
                    throw new ArgumentException($"plant JSON has an unknown key '{prop.Name}' (expected name, A, B, C).", "plant");
                }
            }

            var (a, ar, ac) = Matrix(root, "A");
            var (b, br, bc) = Matrix(root, "B");
            var (c, cr, cc) = Matrix(root, "C");
            if (ar != ac)
            {
                throw new ArgumentException($"plant matrix A must be square, got {ar}×{ac}.", "A");
            }

            if (br != ar)
            {
                throw new ArgumentException($"plant matrix B must have n = {ar} rows (as A), got {br}×{bc}.", "B");
            }

            if (cc != ar)
            {
                throw new ArgumentException($"plant matrix C must have n = {ar} columns (as A), got {cr}×{cc}.", "C");
            }

            return new Plant(name, ar, bc, cr, a, b, c);
        }
    }

    private static (double[] Data, int Rows, int Cols) Matrix(JsonElement root, string key)
    {
        if (!root.TryGetProperty(key, out var m) || m.ValueKind != JsonValueKind.Array || m.GetArrayLength() == 0)
        {
            throw new ArgumentException($"plant JSON needs a non-empty matrix '{key}' (an array of rows).", key);
        }

        int rows = m.GetArrayLength(), cols = -1;
        var data = new List<double>();
        int r = 0;
        foreach (var row in m.EnumerateArray())
        {
            if (row.ValueKind != JsonValueKind.Array)
            {
                throw new ArgumentException($"plant matrix {key} row {r} is not an array.", key);
            }

            int len = row.GetArrayLength();
            if (cols < 0)
            {
                cols = len;
            }
            else if (len != cols)
            {
                throw new ArgumentException($"plant matrix {key} is ragged: row 0 has {cols} entries, row {r} has {len}.", key);
            }

            foreach (var v in row.EnumerateArray())
            {
                if (v.ValueKind != JsonValueKind.Number)
                {
                    throw new ArgumentException($"plant matrix {key} row {r} holds a non-number.", key);
                }

                data.Add(v.GetDouble());
            }

            r++;
        }

        if (cols < 1)
        {
            throw new ArgumentException($"plant matrix {key} has empty rows.", key);
        }

        return (data.ToArray(), rows, cols);
    }
}
