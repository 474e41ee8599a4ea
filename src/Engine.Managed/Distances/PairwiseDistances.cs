using Engine.Backends;
using Engine.Backends.Ilgpu;
using Engine.Model;

namespace Engine.Distances;

/// <summary>The pairwise distance matrices of an ensemble, each computed where it runs fastest: ILGPU kernels on a real device, the SIMD CPU paths otherwise.</summary>
/// <remarks>
/// Shared by <c>compare</c>, <c>degeneracy</c> and the study runner, so every caller sends the same work to the same code.
/// The ILGPU CPU simulator never takes the heavy work (it is a test device, far slower than the CPU paths).
/// </remarks>
public static class PairwiseDistances
{
    /// <summary>Whether distance work goes to ILGPU kernels: a real device (CUDA, OpenCL), never the CPU simulator.</summary>
    public static bool OnDevice(IEnsembleBackend? backend) => backend is IlgpuBackend && backend.Name != "ilgpu-cpu";

    /// <summary>arccos linear CKA between every pair of networks of <paramref name="states"/>.</summary>
    public static PairwiseMatrix Cka(IEnsembleBackend? backend, StateSet states, int threads = 0, Action<int, int>? progress = null)
        => OnDevice(backend) && states.Widths.Distinct().Count() == 1
            ? new IlgpuDistances(backend!).Cka(states)
            : Distances.Cka.Compute(states, threads, progress);

    /// <summary>DSA between every pair of networks of <paramref name="states"/> (angular, euclidean and Wasserstein scores).</summary>
    public static DsaResult Dsa(IEnsembleBackend? backend, StateSet states, DsaOptions options, int threads = 0, Action<int, int>? progress = null)
        => OnDevice(backend)
            ? new IlgpuDistances(backend!).Dsa(states.States.Select((x, k) => DsaOperator.Fit(x, states.Trials, states.Steps, states.Widths[k], options)).ToArray(), states.Ids, options)
            : Distances.Dsa.Compute(states, options, threads, progress);

    /// <summary>d_PIF between the recurrent weights of the networks <paramref name="networks"/> of <paramref name="ensemble"/>, named by <paramref name="ids"/>.</summary>
    /// <param name="backend">Backend whose device may run the Frank–Wolfe gradients.</param>
    /// <param name="ensemble">The networks.</param>
    /// <param name="networks">Which networks of the ensemble.</param>
    /// <param name="ids">Their ids in the matrix (default: <paramref name="networks"/>).</param>
    /// <param name="permutations">Optional [pairs] destination for the permutation of each pair.</param>
    /// <param name="threads">CPU threads.</param>
    /// <param name="progress">Progress callback (done, total).</param>
    public static PairwiseMatrix Pif(IEnsembleBackend? backend, Ensemble ensemble, IReadOnlyList<int> networks, IReadOnlyList<int>? ids = null,
        int[][]? permutations = null, int threads = 0, Action<int, int>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(ensemble);
        ArgumentNullException.ThrowIfNull(networks);
        var spec = ensemble.Spec;
        var w = networks.Select(e => spec.Layout.WRec(ensemble.Parameters, e).ToArray()).ToArray();
        return WeightDistance.Matrix(w, Enumerable.Repeat(spec.Hidden, w.Length).ToArray(), ids ?? networks, permutations, threads, progress, OnDevice(backend) ? backend : null);
    }
}
