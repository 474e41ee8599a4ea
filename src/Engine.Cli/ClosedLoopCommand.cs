using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Engine.Backends;
using Engine.ClosedLoop;
using Engine.IO;
using Engine.Model;
using Engine.Tasks.Control;

namespace Engine.Cli;

/// <summary><c>closed-loop</c>: trains linear RNN agents through a plant (closed loop) or by imitation (open loop) and records the theory.</summary>
internal static class ClosedLoopCommand
{
    public static Command Create()
    {
        var plant = new Option<string>("--plant") { Description = "double-integrator | integrator | point-mass | FILE.json (default double-integrator).", DefaultValueFactory = _ => "double-integrator" };
        var order = new Option<int>("--order") { Description = "Order K of --plant integrator (default 3).", DefaultValueFactory = _ => 3 };
        var mode = new Option<string>("--mode") { Description = "closed | open (open also trains the closed-loop teacher and records both) (default closed).", DefaultValueFactory = _ => "closed" };
        var task = new Option<string>("--task") { Description = "regulate | tracking (default regulate).", DefaultValueFactory = _ => "regulate" };
        var freqs = new Option<string>("--frequencies") { Description = "Tracking frequencies in rad/step, comma-separated (default 0.05,0.2,0.5).", DefaultValueFactory = _ => "0.05,0.2,0.5" };
        var agents = new Option<int>("--agents") { Description = "E, agents (default 4).", DefaultValueFactory = _ => 4 };
        var hidden = new Option<int>("--hidden") { Description = "N (default 100).", DefaultValueFactory = _ => 100 };
        var horizon = new Option<string>("--horizon") { Description = "T, or a comma list cycled over agents (default 50).", DefaultValueFactory = _ => "50" };
        var lr = new Option<string>("--lr") { Description = "Learning rate, or a comma list cycled over agents (default 0.02).", DefaultValueFactory = _ => "0.02" };
        var steps = new Option<int>("--steps") { Description = "Training steps (default 1000).", DefaultValueFactory = _ => 1000 };
        var optimizer = new Option<string>("--optimizer") { Description = "sgd | adam (default sgd).", DefaultValueFactory = _ => "sgd" };
        var clip = new Option<double>("--clip") { Description = "Global gradient-norm clip, 0 = off (default 1).", DefaultValueFactory = _ => 1.0 };
        var train = new Option<string>("--train") { Description = "Trained blocks, comma list of W, m, z (uv with --rank-one) (default W; uv with --rank-one).", DefaultValueFactory = _ => "" };
        var rankOne = new Option<bool>("--rank-one") { Description = "W = u vᵀ trained through its factors; also runs the reduced model." };
        var activation = new Option<string>("--activation") { Description = "linear (identity) | tanh | relu (default linear).", DefaultValueFactory = _ => "linear" };
        var beta = new Option<double>("--beta") { Description = "Control cost β (default 0).", DefaultValueFactory = _ => 0.0 };
        var gain = new Option<double>("--init-gain") { Description = "Scale g of the initial W (default 0.3).", DefaultValueFactory = _ => 0.3 };
        var seed = new Option<long>("--seed") { Description = "Base seed: agent e gets seed + e (default 0).", DefaultValueFactory = _ => 0 };
        var threads = new Option<int>("--threads") { Description = "Worker threads, 0 = all cores (default 0).", DefaultValueFactory = _ => 0 };
        var every = new Option<int>("--record-every") { Description = "Record spectrum, gains and overlaps every K steps (default 10).", DefaultValueFactory = _ => 10 };
        var conflict = new Option<int>("--conflict-horizon") { Description = "Short horizon for the gradient-conflict angle, 0 = off (default 5).", DefaultValueFactory = _ => 5 };
        var inputs = new Option<string>("--open-inputs") { Description = "teacher | noise: open-loop inputs (default teacher).", DefaultValueFactory = _ => "teacher" };
        var backendOption = new Option<string>("--backend") { Description = "cpu | reference | cuda | opencl | ilgpu-cpu | auto: where losses and gradients are computed (ILGPU kernels: one horizon for all agents; single-agent queries and the open-loop student run on the host's cpu path) (default cpu).", DefaultValueFactory = _ => "cpu" };
        var preset = new Option<string>("--preset") { Description = "Named defaults, overridden by explicit flags: ger-barak (the three stages of Ger & Barak on the double integrator: N=100, T=50, W=0, z ⊥ m scaled 0.3, W and z trained, SGD lr 1e-3 clip 1, 2000 steps, conflict horizon 25, open-loop lr 3e-2); ger-barak-tracking (multi-frequency tracking on the point mass, dt 0.1, 0.1-0.4 Hz, agent sees position and reference, leak 0.1, Adam lr 5e-4 clip 1, T=300, 3000 steps: the loss falls in steps)." };
        var zScale = new Option<double>("--z-init-scale") { Description = "Factor s_z on the initial z ~ s_z 𝒩(0,1)/N (default 1).", DefaultValueFactory = _ => 1.0 };
        var zPerp = new Option<bool>("--z-orthogonal") { Description = "Project the initial z orthogonal to m, so the initial direct gain zᵀm is 0." };
        var leak = new Option<double>("--leak") { Description = "Agent leak α = dt/τ: h ← (1−α) h + α φ(W h + m y) (default 1, the discrete agent).", DefaultValueFactory = _ => 1.0 };
        var mScale = new Option<double>("--m-init-scale") { Description = "Factor s_m on the initial m ~ s_m 𝒩(0,1) (default 1).", DefaultValueFactory = _ => 1.0 };
        var plantDt = new Option<double>("--plant-dt") { Description = "Time step dt of --plant point-mass (default 1).", DefaultValueFactory = _ => 1.0 };
        var observe = new Option<string>("--observe") { Description = "Tracking inputs: error (C(x − x*)) | reference (C x and C x* apart) (default error).", DefaultValueFactory = _ => "error" };
        var channels = new Option<string>("--channels") { Description = "Tracking: the observed channel each frequency drives, comma-separated (default all 0).", DefaultValueFactory = _ => "" };
        var ramp = new Option<int>("--ramp") { Description = "Tracking: steps over which the reference ramps up from 0 (default 0).", DefaultValueFactory = _ => 0 };
        var amplitude = new Option<double>("--amplitude") { Description = "Tracking: amplitude of each sinusoid (default 1).", DefaultValueFactory = _ => 1.0 };
        var trials = new Option<int>("--trials") { Description = "Tracking: B, reference trials (random phases) per loss (default 8).", DefaultValueFactory = _ => 8 };
        var openLr = new Option<string>("--open-lr") { Description = "Learning rate(s) of the open-loop student (default: --lr).", DefaultValueFactory = _ => "" };
        var output = new Option<DirectoryInfo?>("--out") { Description = "Output directory (metrics.csv, eigenvalues.csv, summary.json, PNGs)." };
        var cmd = new Command("closed-loop", "Train linear RNN agents through a plant (closed loop) or by imitation (open loop); record loss, ρ(P), eigenvalues, gains and overlaps.")
        {
            plant, order, mode, task, freqs, agents, hidden, horizon, lr, steps, optimizer, clip, train, rankOne, activation, beta, gain,
            seed, threads, every, conflict, inputs, backendOption, preset, zScale, zPerp, leak, mScale, plantDt, observe, channels, ramp, amplitude, trials,
            openLr, output,
        };
        cmd.SetAction(r => CliErrors.Run(() =>
        {
            var outDir = r.GetValue(output)?.FullName ?? throw new ArgumentException("--out DIR is required.", "--out");
            bool r1 = r.GetValue(rankOne);
            var pre = r.GetValue(preset) is { Length: > 0 } pn ? ClosedLoopPreset.Get(pn) : null;

            // a preset supplies the default of every flag it names; a flag given on the command line wins
            T Pick<T>(Option<T> o, Func<ClosedLoopPreset, T> fromPreset)
                => pre is not null && r.GetResult(o) is null or { Implicit: true } ? fromPreset(pre) : r.GetValue(o)!;
            string I(int v) => v.ToString(CultureInfo.InvariantCulture);
            string D(double v) => v.ToString("R", CultureInfo.InvariantCulture);
            var pl = Plant.Create(Pick(plant, p => p.Plant), r.GetValue(order), Pick(plantDt, p => p.PlantDt));
            var opt = new ClosedLoopOptions
            {
                Hidden = Pick(hidden, p => p.Options.Hidden),
                Activation = r.GetValue(activation) switch
                {
                    "linear" or "identity" => ActivationKind.Identity,
                    "tanh" => ActivationKind.Tanh,
                    "relu" => ActivationKind.Relu,
                    var a => throw new ArgumentException($"unknown --activation '{a}': expected linear, tanh or relu.", "--activation"),
                },
                RankOne = r1,
                Train = pre is not null && r.GetResult(train) is null or { Implicit: true } ? pre.Options.Train : ParseTrain(r.GetValue(train)!, r1),
                InitGain = Pick(gain, p => p.Options.InitGain),
                ZInitScale = Pick(zScale, p => p.Options.ZInitScale),
                ZOrthogonalToM = Pick(zPerp, p => p.Options.ZOrthogonalToM),
                MInitScale = Pick(mScale, p => p.Options.MInitScale),
                Leak = Pick(leak, p => p.Options.Leak),
                Beta = r.GetValue(beta),
                Optimizer = Pick(optimizer, p => p.Options.Optimizer == ClosedLoopOptimizer.Adam ? "adam" : "sgd") switch
                {
                    "sgd" => ClosedLoopOptimizer.Sgd,
                    "adam" => ClosedLoopOptimizer.Adam,
                    var o => throw new ArgumentException($"unknown --optimizer '{o}': expected sgd or adam.", "--optimizer"),
                },
                Clip = Pick(clip, p => p.Options.Clip),
                Steps = Pick(steps, p => p.Options.Steps),
            };
            string m = r.GetValue(mode)!;
            if (m is not ("closed" or "open"))
            {
                throw new ArgumentException($"unknown --mode '{m}': expected closed or open.", "--mode");
            }

            var tr = pre?.Tracking;
            ControlTask ct = Pick(task, p => p.Task) switch
            {
                "regulate" => ControlTask.Regulate(pl),
                "tracking" => new TrackingTask(pl,
                    ParseList(Pick(freqs, _ => tr is null ? r.GetValue(freqs)! : string.Join(',', tr.Frequencies.Select(D))), "--frequencies", x => double.Parse(x, CultureInfo.InvariantCulture)),
                    trials: Pick(trials, _ => tr?.Trials ?? r.GetValue(trials)),
                    amplitude: Pick(amplitude, _ => tr?.Amplitude ?? r.GetValue(amplitude)),
                    seed: r.GetValue(seed),
                    channels: Pick(channels, _ => tr is null ? r.GetValue(channels)! : string.Join(',', tr.Channels.Select(I))) is { Length: > 0 } cs
                        ? ParseList(cs, "--channels", x => int.Parse(x, CultureInfo.InvariantCulture)) : null,
                    rampSteps: Pick(ramp, _ => tr?.RampSteps ?? r.GetValue(ramp)),
                    observeReference: Pick(observe, _ => tr is null ? r.GetValue(observe)! : tr.ObserveReference ? "reference" : "error") switch
                    {
                        "error" => false,
                        "reference" => true,
                        var o => throw new ArgumentException($"unknown --observe '{o}': expected error or reference.", "--observe"),
                    }),
                var t => throw new ArgumentException($"unknown --task '{t}': expected regulate or tracking.", "--task"),
            };
            var hs = ParseList(Pick(horizon, p => I(p.Horizon)), "--horizon", s => int.Parse(s, CultureInfo.InvariantCulture));
            var lrs = ParseList(Pick(lr, p => D(p.LearningRate)), "--lr", x => double.Parse(x, CultureInfo.InvariantCulture));
            var olrText = Pick(openLr, p => D(p.OpenLoopLearningRate));
            var olrs = olrText.Length == 0 ? lrs : ParseList(olrText, "--open-lr", x => double.Parse(x, CultureInfo.InvariantCulture));
            int e = r.GetValue(agents);
            Util.Guard.AtLeast(e, 1, "--agents");
            var setups = Enumerable.Range(0, e).Select(i => new AgentSetup(r.GetValue(seed) + i, hs[i % hs.Length], lrs[i % lrs.Length])).ToArray();
            var openInputs = r.GetValue(inputs) switch
            {
                "teacher" => OpenLoopInputs.TeacherDriven,
                "noise" => OpenLoopInputs.WhiteNoise,
                var x => throw new ArgumentException($"unknown --open-inputs '{x}': expected teacher or noise.", "--open-inputs"),
            };
            var openSetups = setups.Select((a, i) => a with { LearningRate = olrs[i % olrs.Length] }).ToArray();
            var settings = new ClosedLoopExperimentSettings
            {
                Plant = pl, Task = ct, Options = opt, Agents = setups, OpenLoop = m == "open", OpenLoopAgents = openSetups, OpenLoopInputs = openInputs,
                RecordEvery = Pick(every, p => p.RecordEvery), ConflictHorizon = Pick(conflict, p => p.ConflictShortHorizon),
            };
            using var backend = BackendFactory.Create(r.GetValue(backendOption)!, r.GetValue(threads));
            return Run(backend, settings, outDir, pre?.Name);
        }));
        return cmd;
    }

    private static int Run(IEnsembleBackend backend, ClosedLoopExperimentSettings settings, string outDir, string? presetName)
    {
        var (plant, task, opt, setups) = (settings.Plant, settings.Task, settings.Options, settings.Agents);
        Console.WriteLine($"closed-loop: {(presetName is null ? "" : $"preset {presetName}, ")}plant {plant.Name} (n={plant.N}, p={plant.P}, q={plant.Q}), task {task.Name} (B={task.Trials}), " +
            $"E={setups.Count} N={opt.Hidden} T={string.Join(',', setups.Select(a => a.Horizon).Distinct())} lr={string.Join(',', setups.Select(a => a.LearningRate).Distinct())} " +
            $"steps={opt.Steps} {opt.Optimizer} clip={opt.Clip} train={opt.Train} init-gain={opt.InitGain} z-scale={opt.ZInitScale} m-scale={opt.MInitScale} leak={opt.Leak}" +
            $"{(opt.ZOrthogonalToM ? " z⊥m" : "")}{(task.ObserveReference ? " observes reference" : "")} backend={backend.Name} ({backend.Device})");
        var sw = System.Diagnostics.Stopwatch.StartNew();
        var closedProgress = Progress("closed", opt.Steps);
        var openProgress = Progress("open", opt.Steps);
        var result = ClosedLoopExperiment.Run(backend, settings, (mode, s, loss) => (mode == "open" ? openProgress : closedProgress)(s, loss));
        ClosedLoopExperiment.Write(result, outDir);
        foreach (var s in result.Summary)
        {
            Console.WriteLine(string.Join(' ', s.Where(kv => kv.Value is not null).Select(kv => $"{kv.Key}={Fmt(kv.Value)}")));
        }

        Console.WriteLine($"wrote {outDir}/metrics.csv, eigenvalues.csv, summary.json and PNGs in {sw.Elapsed.TotalSeconds:F1} s");
        return 0;
    }

    private static Action<int, double[]> Progress(string mode, int steps)
    {
        var sw = System.Diagnostics.Stopwatch.StartNew();
        var last = TimeSpan.Zero;
        return (s, loss) =>
        {
            if (sw.Elapsed - last > TimeSpan.FromSeconds(2) || s == steps - 1)
            {
                last = sw.Elapsed;
                var f = loss.Where(double.IsFinite).DefaultIfEmpty(double.NaN).ToArray();
                var eta = TimeSpan.FromSeconds(sw.Elapsed.TotalSeconds / (s + 1) * (steps - s - 1));
                Console.WriteLine($"{mode} step {s + 1}/{steps} loss min {f.Min():G4} median {f.Order().ElementAt(f.Length / 2):G4} max {f.Max():G4} diverged {loss.Count(double.IsNaN)} " +
                    $"elapsed {sw.Elapsed:mm\\:ss} ETA {eta:mm\\:ss}");
            }
        };
    }

    private static TrainedWeights ParseTrain(string s, bool rankOne)
    {
        if (string.IsNullOrWhiteSpace(s))
        {
            return rankOne ? TrainedWeights.Factors : TrainedWeights.W;
        }

        var w = TrainedWeights.None;
        foreach (var part in s.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            w |= part switch
            {
                "W" => TrainedWeights.W,
                "m" => TrainedWeights.M,
                "z" => TrainedWeights.Z,
                "uv" => TrainedWeights.Factors,
                _ => throw new ArgumentException($"unknown --train block '{part}': expected W, m, z or uv.", "--train"),
            };
        }

        return w;
    }

    private static T[] ParseList<T>(string s, string name, Func<string, T> parse)
    {
        try
        {
            var v = s.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(parse).ToArray();
            return v.Length > 0 ? v : throw new ArgumentException($"{name} is empty.", name);
        }
        catch (FormatException)
        {
            throw new ArgumentException($"{name} '{s}' is not a comma-separated list of numbers.", name);
        }
    }

    private static string Fmt(object? v) => v switch
    {
        double d => d.ToString("G5", CultureInfo.InvariantCulture),
        double[] a => "[" + string.Join(',', a.Select(x => x.ToString("G4", CultureInfo.InvariantCulture))) + "]",
        int[] a => "[" + string.Join(',', a) + "]",
        int[][] a => "[" + string.Join(',', a.Select(x => $"{x[0]}-{x[1]}")) + "]",
        double[][] a => "[" + string.Join(',', a.Select(x => $"{x[0]:G3}→{x[1]:G3}")) + "]",
        _ => v?.ToString() ?? "",
    };
}
