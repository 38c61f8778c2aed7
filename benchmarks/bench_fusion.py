"""Would fusing the LSTM's element-wise work beat numpy's ufuncs on this machine?

seqnn's fast LSTM step does its point-wise work (three sigmoids, two tanh, the
cell update) as about a dozen numpy ufunc calls, one pass over memory each
(see ``seqnn/fast.py``). The usual cure is to fuse them into one loop. This
script times, for one time step's point-wise work on a (B, 4H) block of
pre-activations:

    numpy     the ufunc sequence of seqnn.fast.LSTMKernel.forward (what seqnn does)
    numba     one fused, compiled loop over the block (if numba is installed)
    numexpr   the same sequence as numexpr expressions (if numexpr is installed)

and checks that all three give the same h and c. Median of repeats, printed
with the ratio to numpy (> 1: slower than numpy).

    pip install numba numexpr          # only for this experiment; seqnn needs neither
    python benchmarks/bench_fusion.py
"""

from __future__ import annotations

import math
import statistics
import timeit

import numpy as np

SHAPES = [(1, 100), (32, 256), (128, 128), (64, 512)]     # (B, H) of the grid in bench_recurrent.py


def numpy_pointwise(z, c_prev, c, tc, h, ig):
    """seqnn.fast's sequence (z: pre-activations i, f, g, o; the g block not yet doubled)."""
    H = c.shape[1]
    z[:, 2 * H:3 * H] *= 2.0                       # seqnn folds this into the weights; one pass of H here
    np.negative(z, out=z)
    np.exp(z, out=z)
    z += 1.0
    np.reciprocal(z, out=z)                        # i, f, o and sigmoid(2 z_g)
    g = z[:, 2 * H:3 * H]
    g *= 2.0
    g -= 1.0                                       # tanh(z_g)
    np.multiply(z[:, H:2 * H], c_prev, out=c)
    np.multiply(z[:, :H], g, out=ig)
    c += ig
    np.tanh(c, out=tc)
    np.multiply(z[:, 3 * H:], tc, out=h)


def make_numba():
    try:
        import numba
    except ImportError:
        return None

    @numba.njit(fastmath=True, cache=False)
    def fused(z, c_prev, c, tc, h, ig):
        B, H = c.shape
        for b in range(B):
            for j in range(H):
                i = 1.0 / (1.0 + math.exp(-z[b, j]))
                f = 1.0 / (1.0 + math.exp(-z[b, H + j]))
                g = math.tanh(z[b, 2 * H + j])
                o = 1.0 / (1.0 + math.exp(-z[b, 3 * H + j]))
                z[b, j], z[b, H + j], z[b, 2 * H + j], z[b, 3 * H + j] = i, f, g, o
                c[b, j] = f * c_prev[b, j] + i * g
                tc[b, j] = math.tanh(c[b, j])
                h[b, j] = o * tc[b, j]

    return fused


def make_numexpr():
    try:
        import numexpr as ne
    except ImportError:
        return None

    def with_numexpr(z, c_prev, c, tc, h, ig):
        H = c.shape[1]
        zi, zf, zg, zo = (z[:, k * H:(k + 1) * H] for k in range(4))
        i = ne.evaluate("1 / (1 + exp(-zi))")
        f = ne.evaluate("1 / (1 + exp(-zf))")
        g = ne.evaluate("tanh(zg)")
        o = ne.evaluate("1 / (1 + exp(-zo))")
        ne.evaluate("f * c_prev + i * g", out=c)
        ne.evaluate("tanh(c)", out=tc)
        ne.evaluate("o * tc", out=h)
        z[:, :H], z[:, H:2 * H], z[:, 2 * H:3 * H], z[:, 3 * H:] = i, f, g, o

    return with_numexpr


def time_us(fn, args, z0, number=200, repeat=7):
    z = args[0]

    def once():
        np.copyto(z, z0)
        fn(*args)

    once()
    return statistics.median(timeit.repeat(once, number=number, repeat=repeat)) / number * 1e6


def main():
    candidates = {"numpy": numpy_pointwise, "numba": make_numba(), "numexpr": make_numexpr()}
    missing = [k for k, v in candidates.items() if v is None]
    if missing:
        print(f"not installed, skipped: {', '.join(missing)} (pip install {' '.join(missing)})")
    print(f"numpy {np.__version__}; one LSTM step's point-wise work on a (B, 4H) block; median microseconds")
    print(f"{'dtype':8} {'(B, H)':11} " + " ".join(f"{k:>9}" for k, v in candidates.items() if v)
          + "   ratios to numpy")
    for dtype in (np.float32, np.float64):
        for B, H in SHAPES:
            rng = np.random.default_rng(0)
            z0 = rng.standard_normal((B, 4 * H)).astype(dtype)
            c_prev = rng.standard_normal((B, H)).astype(dtype)
            times, outputs = {}, {}
            for name, fn in candidates.items():
                if fn is None:
                    continue
                args = (z0.copy(),) + (c_prev,) + tuple(np.empty((B, H), dtype) for _ in range(4))
                times[name] = time_us(fn, args, z0)
                outputs[name] = (args[2].copy(), args[4].copy())       # c, h
            ref_c, ref_h = outputs["numpy"]
            tol = 1e-5 if dtype == np.float32 else 1e-12
            for name, (c, h) in outputs.items():
                if not (np.allclose(c, ref_c, atol=tol) and np.allclose(h, ref_h, atol=tol)):
                    raise AssertionError(f"{name} disagrees with numpy at {np.dtype(dtype).name} {(B, H)}")
            ratios = " ".join(f"{k} {times[k] / times['numpy']:.2f}" for k in times if k != "numpy")
            print(f"{np.dtype(dtype).name:8} {str((B, H)):11} " + " ".join(f"{t:9.1f}" for t in times.values())
                  + f"   {ratios}", flush=True)


if __name__ == "__main__":
    main()
