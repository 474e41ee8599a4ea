using System.CommandLine;
using Engine.Backends;
using Engine.Diagnostics;

namespace Engine.Cli;

/// <summary><c>selftest --backend NAME</c>: every kernel of a backend against the float64 reference.</summary>
internal static class SelfTestCommand
{
    public static Command Create()
    {
        var backend = new Option<string>("--backend") { Description = "Backend to check (default auto).", DefaultValueFactory = _ => "auto" };
        var cmd = new Command("selftest", "Check forward, loss, BPTT gradient and Adam of a backend against the reference on odd shapes.") { backend };
        cmd.SetAction(r => CliErrors.Run(() =>
        {
            using var b = BackendFactory.Create(r.GetValue(backend)!);
            Console.WriteLine($"backend: {b.Name} ({b.Device})");
            var checks = BackendSelfTest.Run(b);
            Console.WriteLine(BackendSelfTest.Format(checks));
            return checks.Any(c => c.Failed) ? 1 : 0;
        }));
        return cmd;
    }
}

/// <summary><c>devices</c>: lists the accelerators ILGPU sees and the default backend.</summary>
internal static class DevicesCommand
{
    public static Command Create()
    {
        var cmd = new Command("devices", "List ILGPU accelerators and which backend 'auto' picks.");
        cmd.SetAction(_ => CliErrors.Run(() =>
        {
            foreach (var d in Engine.Backends.BackendFactory.ListDevices())
            {
                Console.WriteLine(d);
            }

            using var auto = BackendFactory.Create("auto");
            Console.WriteLine($"auto -> {auto.Name} ({auto.Device})");
            return 0;
        }));
        return cmd;
    }
}
