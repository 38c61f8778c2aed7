"""seqnn's training step against PyTorch's, and against its own matrix products alone.

One training step = forward of one recurrent layer over (T, B, D) + a summed
loss + full BPTT (gradients of the input and every parameter). For each cell
(RNN, LSTM, GRU), dtype (float32, float64) and grid point (T, B, D, H) it prints
the median times and the ratios

    seqnn/torch   seqnn's step over torch.nn.RNN/LSTM/GRU's on the CPU (< 1: seqnn faster)
    seqnn/GEMM    seqnn's step over the bare matrix products it must do (the lower bound)

How the numbers are kept honest (see ../shared/reference/benchmarking.md):
seqnn and torch are timed alternately in one process, each sample after a
short sleep (OpenBLAS and torch keep worker threads spinning for ~0.1 s after a
call, which would slow the other); torch uses as many threads as numpy's BLAS;
the median of the rounds is reported. No absolute time is compared with anything.

    python benchmarks/bench_recurrent.py            # the full grid (several minutes)
    python benchmarks/bench_recurrent.py --quick    # a small subset, under a minute
    python benchmarks/bench_recurrent.py --memory   # peak memory of the largest LSTM step

Needs torch (``pip install torch==2.13.0``) and threadpoolctl (to read numpy's
BLAS thread count).
"""

from __future__ import annotations

import argparse
import platform
import statistics
import time
import tracemalloc

import numpy as np

import seqnn

GRID = [(25, 1, 65, 100), (100, 32, 128, 256), (50, 128, 64, 128), (100, 64, 256, 512)]
QUICK = [(25, 1, 65, 100), (50, 32, 64, 128)]
GATES = {"rnn": 1, "lstm": 4, "gru": 3}
SLEEP = 0.3


def blas_threads() -> tuple[int, str]:
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return 1, "unknown (pip install threadpoolctl)"
    info = [i for i in threadpool_info() if i["user_api"] == "blas"]
    if not info:
        return 1, "none found"
    return info[0]["num_threads"], f"{info[0]['internal_api']} {info[0]['version']} ({info[0].get('architecture')})"


def seqnn_step(kind, dtype, T, B, D, H, rng):
    cell = seqnn.cells.make_cell(kind, D, H, dtype=dtype, rng=rng)
    layer = seqnn.Recurrent(cell)
    X = rng.standard_normal((T, B, D)).astype(dtype)
    dH = np.ones((T, B, H), dtype)                           # d(sum of outputs)/dH

    def step():
        layer.zero_grad()
        layer.forward(X)
        layer.backward(dH)

    return layer, X, step


def torch_step(layer, X, kind, dtype):
    import torch

    from seqnn import interop

    module = interop.torch_module(seqnn.RecurrentStack(kind, layer.cell.input_size, layer.cell.hidden_size,
                                                       dtype=dtype, rng=0))
    Xt = torch.tensor(X, requires_grad=True)

    def step():
        module.zero_grad()
        Xt.grad = None
        out, _ = module(Xt)
        out.sum().backward()

    return step


def gemm_step(kind, dtype, T, B, D, H, rng):
    """Only the matrix products of one training step (same shapes, same count)."""
    G = GATES[kind]
    X2 = rng.standard_normal((T * B, D)).astype(dtype)
    W_x = rng.standard_normal((G * H, D)).astype(dtype)
    W_h = rng.standard_normal((G * H, H)).astype(dtype)
    h = rng.standard_normal((B, H)).astype(dtype)
    dz = rng.standard_normal((B, G * H)).astype(dtype)
    dZ = rng.standard_normal((T * B, G * H)).astype(dtype)
    Hp = rng.standard_normal((T * B, H)).astype(dtype)

    def step():
        X2 @ W_x.T                                           # input projection, all steps
        for _ in range(T):
            h @ W_h.T                                        # recurrent term, each step
        for _ in range(T):
            dz @ W_h                                         # into the previous state, each step
        dZ.T @ X2                                            # dW_x
        dZ.T @ Hp                                            # dW_h
        dZ @ W_x                                             # dX

    return step


def timed(fn) -> float:
    time.sleep(SLEEP)
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def bench_row(kind, dtype, shape, rounds, with_torch):
    rng = np.random.default_rng(0)
    layer, X, ours = seqnn_step(kind, dtype, *shape, rng)
    theirs = torch_step(layer, X, kind, dtype) if with_torch else None
    bound = gemm_step(kind, dtype, *shape, rng)
    for f in (ours, theirs, bound):                          # warm up
        if f:
            f()
    samples = {"seqnn": [], "torch": [], "gemm": []}
    for _ in range(rounds):                                  # alternate, one sample each per round
        samples["seqnn"].append(timed(ours))
        if theirs:
            samples["torch"].append(timed(theirs))
        samples["gemm"].append(timed(bound))
    return {k: statistics.median(v) if v else float("nan") for k, v in samples.items()}


def peak_memory_lstm(dtype=np.float32, shape=(100, 64, 256, 512)):
    """Peak bytes numpy allocates during one LSTM step, and the activations BPTT must keep."""
    T, B, D, H = shape
    layer, X, step = seqnn_step("lstm", dtype, *shape, np.random.default_rng(0))
    step()
    tracemalloc.start()
    step()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    itemsize = np.dtype(dtype).itemsize
    # Per step BPTT must keep the four gates, the cell state and the hidden state: 6H numbers per example.
    must_keep = T * B * 6 * H * itemsize
    return peak, must_keep


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="a small subset, under a minute")
    parser.add_argument("--rounds", type=int, default=None, help="samples per method (median taken)")
    parser.add_argument("--cells", default="rnn,lstm,gru")
    parser.add_argument("--dtypes", default="float32,float64")
    parser.add_argument("--memory", action="store_true", help="only the peak-memory measurement")
    args = parser.parse_args(argv)

    threads, blas = blas_threads()
    try:
        import torch
        torch.set_num_threads(threads)
        torch_version = torch.__version__
    except ImportError:
        torch = None
        torch_version = "not installed (ratios to torch skipped)"
    print(f"machine: {platform.processor() or platform.machine()}, {platform.system()}; numpy {np.__version__}, "
          f"BLAS {blas}, {threads} threads; torch {torch_version}")

    if args.memory:
        peak, keep = peak_memory_lstm()
        print(f"LSTM (100, 64, 256, 512) float32 step: peak {peak / 2**20:.0f} MiB; BPTT must keep "
              f"{keep / 2**20:.0f} MiB of activations; ratio {peak / keep:.2f}")
        return

    grid = QUICK if args.quick else GRID
    rounds = args.rounds or (3 if args.quick else 7)
    print(f"{'cell':5} {'dtype':8} {'(T, B, D, H)':20} {'seqnn ms':>9} {'torch ms':>9} {'GEMM ms':>9} "
          f"{'seqnn/torch':>12} {'seqnn/GEMM':>11}")
    for kind in args.cells.split(","):
        for dtype in args.dtypes.split(","):
            for shape in grid:
                t = bench_row(kind, np.dtype(dtype), shape, rounds, torch is not None)
                print(f"{kind:5} {dtype:8} {str(shape):20} {1e3 * t['seqnn']:9.2f} {1e3 * t['torch']:9.2f} "
                      f"{1e3 * t['gemm']:9.2f} {t['seqnn'] / t['torch']:12.2f} {t['seqnn'] / t['gemm']:11.2f}",
                      flush=True)


if __name__ == "__main__":
    main()
