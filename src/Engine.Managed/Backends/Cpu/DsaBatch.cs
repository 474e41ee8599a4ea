using System.Runtime.CompilerServices;
using Engine.Kernels;
using Engine.Numerics;

namespace Engine.Backends.Cpu;

/// <summary>The fast DSA alignment: many Procrustes problems solved together, one per SIMD lane, in float32.</summary>
/// <remarks>
/// The same iteration as the reference alignment (<see cref="Engine.Backends.Reference.ReferenceDistanceKernels.Align"/>; formulas in <c>Distances.DsaAlignment</c>), with every r × r matrix stored as r² vectors whose
/// lane ℓ belongs to problem ℓ: each matrix product is r³ vector FMAs serving 16 problems (Vector512) at once, and nothing
/// crosses lanes, so no shuffles are needed. Per iteration ≈ 9 r³ lane-FMAs (Gauss–Jordan for M = (I + S)⁻¹ ≈ 2 r³, C B,
/// C B Cᵀ, R C, (R C) Bᵀ + Rᵀ (C B), Mᵀ G, (Mᵀ G)(C + I)ᵀ). The workspace is allocated once per worker.
/// </remarks>
internal sealed class DsaBatch<TS, TV>
    where TS : struct, ISimd<TV, float>
    where TV : struct
{
    private readonly int _r;
    private readonly TV[] _a, _b, _x, _m, _v, _p, _inv, _c, _cb, _res, _rc, _g, _mg, _gs;

    public DsaBatch(int r)
    {
        _r = r;
        int rr = r * r;
        TV[] New() => new TV[rr];
        (_a, _b, _x, _m, _v, _p, _inv) = (New(), New(), New(), New(), New(), New(), New());
        (_c, _cb, _res, _rc, _g, _mg, _gs) = (New(), New(), New(), New(), New(), New(), New());
    }

    public static int Lanes => TS.Lanes;

    /// <summary>Solves up to <see cref="Lanes"/> problems; a and b are [lanes][r·r] unit-norm float operators; writes each final C into rotations [count][r·r].</summary>
    public unsafe void Solve(ReadOnlySpan<float> a, ReadOnlySpan<float> b, int count, int iterations, float lr, Span<float> rotations)
    {
        int r = _r, rr = r * r, lanes = TS.Lanes;
        float* tmp = stackalloc float[lanes];
        for (int k = 0; k < rr; k++)
        {
            for (int l = 0; l < lanes; l++)
            {
                tmp[l] = a[Math.Min(l, count - 1) * rr + k];
            }

            _a[k] = TS.Load(tmp);
            for (int l = 0; l < lanes; l++)
            {
                tmp[l] = b[Math.Min(l, count - 1) * rr + k];
            }

            _b[k] = TS.Load(tmp);
        }

        TV zero = TS.Splat(0f);
        Array.Fill(_x, zero);
        Array.Fill(_m, zero);
        Array.Fill(_v, zero);
        TV one = TS.Splat(1f), eps = TS.Splat(AdamMath.Epsilon);
        for (int it = 1; it <= iterations; it++)
        {
            Cayley();
            Residual();
            // G = 2 (R C Bᵀ + Rᵀ C B)
            Mul(_res, _c, _rc, false, false);
            MulSum(_rc, _b, _res, _cb, _g);
            // gS' = Mᵀ G (C + I)ᵀ (sign folded into the update below)
            Mul(_inv, _g, _mg, true, false);
            for (int i = 0; i < r; i++)
            {
                _c[i * r + i] = TS.Add(_c[i * r + i], TS.Splat(1f));
            }

            Mul(_mg, _c, _gs, false, true);
            var coefficients = AdamMath.Coefficients(lr, it, 1f);
            TV step = TS.Splat(coefficients.StepSize), inv = TS.Splat(coefficients.InvSqrtBias2);
            for (int i = 0; i < r; i++)
            {
                for (int j = 0; j < r; j++)
                {
                    int k = i * r + j;
                    // ∂f/∂S = −2 gS' (the 2 of G), so ∂f/∂X = (∂f/∂S − ∂f/∂Sᵀ)/2 = gS'ᵀ − gS'.
                    TV gx = TS.Sub(_gs[j * r + i], _gs[k]);
                    AdamMath.Update<TV, TS>(ref _x[k], ref _m[k], ref _v[k], gx, one, step, inv, eps);
                }
            }
        }

        Cayley();
        for (int k = 0; k < rr; k++)
        {
            TS.Store(_c[k], tmp);
            for (int l = 0; l < count; l++)
            {
                rotations[l * rr + k] = tmp[l];
            }
        }
    }

    /// <summary>_inv = M = (I + S)⁻¹ by Gauss–Jordan, _c = 2M − I, with S = (X − Xᵀ)/2.</summary>
    private void Cayley()
    {
        int r = _r;
        TV one = TS.Splat(1f), zero = TS.Splat(0f), half = TS.Splat(0.5f);
        for (int i = 0; i < r; i++)
        {
            for (int j = 0; j < r; j++)
            {
                TV s = TS.Mul(half, TS.Sub(_x[i * r + j], _x[j * r + i]));
                _p[i * r + j] = i == j ? TS.Add(one, s) : s;
                _inv[i * r + j] = i == j ? one : zero;
            }
        }

        for (int k = 0; k < r; k++)
        {
            TV piv = TS.Div(one, _p[k * r + k]);
            for (int j = 0; j < r; j++)
            {
                _p[k * r + j] = TS.Mul(_p[k * r + j], piv);
                _inv[k * r + j] = TS.Mul(_inv[k * r + j], piv);
            }

            for (int i = 0; i < r; i++)
            {
                if (i == k)
                {
                    continue;
                }

                TV f = TS.Sub(zero, _p[i * r + k]);
                for (int j = k; j < r; j++)
                {
                    _p[i * r + j] = TS.Fma(f, _p[k * r + j], _p[i * r + j]);
                }

                for (int j = 0; j < r; j++)
                {
                    _inv[i * r + j] = TS.Fma(f, _inv[k * r + j], _inv[i * r + j]);
                }
            }
        }

        TV two = TS.Splat(2f);
        for (int i = 0; i < r; i++)
        {
            for (int j = 0; j < r; j++)
            {
                TV c = TS.Mul(two, _inv[i * r + j]);
                _c[i * r + j] = i == j ? TS.Sub(c, one) : c;
            }
        }
    }

    /// <summary>_cb = C B, _res = C B Cᵀ − A.</summary>
    private void Residual()
    {
        Mul(_c, _b, _cb, false, false);
        Mul(_cb, _c, _res, false, true);
        for (int k = 0; k < _res.Length; k++)
        {
            _res[k] = TS.Sub(_res[k], _a[k]);
        }
    }

    /// <summary>z = op(x) op(y), op = transpose when asked; each case is its own loop so the inner loop has no branches.</summary>
    private void Mul(TV[] x, TV[] y, TV[] z, bool tx, bool ty)
    {
        if (tx)
        {
            MulTN(x, y, z);
        }
        else if (ty)
        {
            MulNT(x, y, z);
        }
        else
        {
            MulNN(x, y, z);
        }
    }

    /// <summary>z = x y.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void MulNN(TV[] x, TV[] y, TV[] z)
    {
        int r = _r;
        for (int i = 0; i < r; i++)
        {
            for (int j = 0; j < r; j++)
            {
                TV acc = TS.Splat(0f);
                for (int k = 0; k < r; k++)
                {
                    acc = TS.Fma(x[i * r + k], y[k * r + j], acc);
                }

                z[i * r + j] = acc;
            }
        }
    }

    /// <summary>z = x yᵀ.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void MulNT(TV[] x, TV[] y, TV[] z)
    {
        int r = _r;
        for (int i = 0; i < r; i++)
        {
            for (int j = 0; j < r; j++)
            {
                TV acc = TS.Splat(0f);
                for (int k = 0; k < r; k++)
                {
                    acc = TS.Fma(x[i * r + k], y[j * r + k], acc);
                }

                z[i * r + j] = acc;
            }
        }
    }

    /// <summary>z = xᵀ y.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void MulTN(TV[] x, TV[] y, TV[] z)
    {
        int r = _r;
        for (int i = 0; i < r; i++)
        {
            for (int j = 0; j < r; j++)
            {
                TV acc = TS.Splat(0f);
                for (int k = 0; k < r; k++)
                {
                    acc = TS.Fma(x[k * r + i], y[k * r + j], acc);
                }

                z[i * r + j] = acc;
            }
        }
    }

    /// <summary>z = x1 y1ᵀ + x2ᵀ y2.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void MulSum(TV[] x1, TV[] y1, TV[] x2, TV[] y2, TV[] z)
    {
        int r = _r;
        for (int i = 0; i < r; i++)
        {
            for (int j = 0; j < r; j++)
            {
                TV acc = TS.Splat(0f);
                for (int k = 0; k < r; k++)
                {
                    acc = TS.Fma(x1[i * r + k], y1[j * r + k], acc);
                    acc = TS.Fma(x2[k * r + i], y2[k * r + j], acc);
                }

                z[i * r + j] = acc;
            }
        }
    }
}
