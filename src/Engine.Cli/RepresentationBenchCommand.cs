using System.CommandLine;
using System.Globalization;
using Engine.Backends;
using Engine.Kernels;
using Engine.Model;
using Engine.Training.Representation;
using Engine.Util;

namespace Engine.Cli;

/// <summary><c>bench representation</c>: one training step with the guidance and diversity terms against without them, and the forward pass alone.</summary>
internal static class RepresentationBenchCommand
{
    public static Command Create()
    {
        var networks = new Option<int>("--networks") { Description = "E (default 32).", DefaultValueFactory = _ => 32 };
        var hidden = new Option<int>("--hidden") { Description = "N (default 128).", DefaultValueFactory = _ => 128 };
        var trials = new Option<int>("--trials") { Description = "B (default 64).", DefaultValueFactory = _ => 64 };
        var steps = new Option<int>("--steps") { Description = "T (default 100).", DefaultValueFactory = _ => 100 };
        var probe = new Option<int>("--representation-trials") { Description = "P, probe trials the terms read (default 16).", DefaultValueFactory = _ => 16 };
        var repeats = new Option<int>("--repeats") { Description = "Timed steps per variant (default 10).", DefaultValueFactory = _ => 10 };
        var backend = new Option<string>("--backend") { Description = "Backend (default cpu).", DefaultValueFactory = _ => "cpu" };
        var cmd = new Command("representation", "Times a training step (forward, BPTT, Adam) without and with guidance (1 − CKA to a guide) and diversity (ridge predictability of every earlier network), and the forward pass alone; prints median ms.")
        {
            networks, hidden, trials, steps, probe, repeats, backend,
        };
        cmd.SetAction(r => CliErrors.Run(() =>
        {
            int e = r.GetValue(networks), n = r.GetValue(hidden), b = r.GetValue(trials), t = r.GetValue(steps), p = r.GetValue(probe), k = r.GetValue(repeats);
            Util.Guard.AtLeast(e, 2, "--networks");
            Util.Guard.AtLeast(k, 1, "--repeats");
            Util.Guard.InRange(p, 2, b, "--representation-trials");
            using var be = BackendFactory.Create(r.GetValue(backend)!);
            var spec = new EnsembleSpec { Networks = e, Hidden = n, Inputs = 3, Outputs = 3 }.Validate();
            var ensemble = Ensemble.Initialize(spec, Ensemble.ConsecutiveSeeds(0, e));
            var batch = Engine.Analysis.Evaluation.SharedTrials(ensemble, new Engine.Tasks.FlipFlopTask(3), b, t, 7);
            var guide = new GuideStates(ensemble.Run(be, Engine.Analysis.Evaluation.SharedTrials(ensemble, new Engine.Tasks.FlipFlopTask(3), p, t, 8)).States.AsSpan(0, p * t * n).ToArray(), 1, p, t, n, "bench guide");
            int stride = ProbeTrials.DefaultStride(p, t, n), guideStride = ProbeTrials.GuideStride(p, t);
            Console.WriteLine($"backend: {be.Name} ({be.Device}); E={e} N={n} B={b} T={t}, probe P={p}, guidance stride {guideStride} ({p * ((t + guideStride - 1) / guideStride)} samples), diversity stride {stride} ({p * ((t + stride - 1) / stride)} samples) per network");
            var lambda = Enumerable.Repeat(1.0, e).ToArray();
            var none = new double[e];
            var variants = new (string Name, Func<RepresentationalLoss?> Loss)[]
            {
                ("plain", () => null),
                ("guidance", () => new RepresentationalLoss(e, p, t, n, guide, 0, lambda, 0, 0, none, stride, null, GuideRows.Samples, guideStride)),
                ("diversity", () => new RepresentationalLoss(e, p, t, n, null, 0, none, 0, 0, lambda, stride)),
                ("both", () => new RepresentationalLoss(e, p, t, n, guide, 0, lambda, 0, 0, lambda, stride, null, GuideRows.Samples, guideStride)),
            };
            using var runner = be.CreateRunner(spec);
            runner.SetParameters(ensemble.Parameters);
            var outputs = new float[(long)e * b * t * 3];
            double forward = StepTimer.Median(StepTimer.SortedMilliseconds(k, () => runner.Forward(batch, outputs, default)));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"representation variant=forward-only median_ms={forward:F1}"));
            double plain = 0;
            var active = Enumerable.Repeat((byte)1, e).ToArray();
            var (loss, norm) = (new float[e], new float[e]);
            var coefficients = Enumerable.Repeat(AdamMath.Coefficients(0f, 1, 1f), e).ToArray();
            foreach (var (name, make) in variants)
            {
                var term = make();
                runner.SetStateLoss(term);
                void Step()
                {
                    runner.ComputeGradients(batch, active, loss, norm);
                    runner.AdamStep(coefficients);
                    term?.Advance();
                }

                Step(); // warm up, and the earlier networks' states for diversity
                double ms = StepTimer.Median(StepTimer.SortedMilliseconds(k, Step));
                plain = name == "plain" ? ms : plain;
                string added = name == "plain" ? "" : string.Create(CultureInfo.InvariantCulture, $" added_ms={ms - plain:F1} added_over_forward={(ms - plain) / forward:F2}");
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"representation variant={name} median_ms={ms:F1}{added}"));
            }

            runner.SetStateLoss(null);
            return 0;
        }));
        return cmd;
    }
}
