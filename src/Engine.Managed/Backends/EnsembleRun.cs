using Engine.Model;
using Engine.Util;

namespace Engine.Backends;

/// <summary>Running a whole ensemble once on a backend, the way the analyses and the CLI record outputs and states.</summary>
public static class EnsembleRun
{
    /// <summary>Runs every network on a batch (checked for shape and finite values) and returns outputs and states.</summary>
    /// <returns>Outputs [E][B][T][O] and states [E][B][T][N].</returns>
    /// <exception cref="ArgumentOutOfRangeException">Outputs or states would not fit in an array or the memory (<see cref="Guard.Buffer"/>).</exception>
    public static (float[] Outputs, float[] States) Run(this Ensemble ensemble, IEnsembleBackend backend, TrialBatch batch, bool keepStates = true)
    {
        ArgumentNullException.ThrowIfNull(ensemble);
        ArgumentNullException.ThrowIfNull(backend);
        ArgumentNullException.ThrowIfNull(batch);
        var spec = ensemble.Spec;
        batch.ValidateFor(spec);
        var outputs = new float[Guard.Buffer("outputs [E][B][T][O]", sizeof(float), spec.Networks, batch.Trials, batch.Steps, spec.Outputs)];
        var states = keepStates ? new float[Guard.Buffer("states [E][B][T][N]", sizeof(float), spec.Networks, batch.Trials, batch.Steps, spec.Hidden)] : [];
        using var runner = backend.CreateRunner(spec);
        runner.SetParameters(ensemble.Parameters);
        runner.Forward(batch, outputs, states);
        return (outputs, states);
    }
}
