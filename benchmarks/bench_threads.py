"""How many BLAS threads a training step wants, on an idle machine and on a busy one.

A training step of ``seqnn train``'s default model (2 LSTM layers x 256,
batch 32 x 100 characters, the bundled corpus, built by ``runsetup.make_run``
exactly as the command builds it) is timed with numpy's BLAS limited to each
thread count in turn (``threadpoolctl``, as ``seqnn train --threads`` does),
first with the machine idle, then with 1 and with N other processes each
keeping a core busy (N = the number of cores: a laptop compiling, or a second
training run). The median of the steps is reported, and the ratio to the
fastest thread count in the same load.

OpenBLAS's threads spin while they wait for work; when another process holds
a core, a thread that must wait for its partner loses whole time slices, and a
step of many small matrix products (one per time step) slows down several
times. This is the measurement behind ``--threads``'s default.

    python benchmarks/bench_threads.py              # about a minute on 2 cores
    python benchmarks/bench_threads.py --steps 10
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import statistics
import time


def burn(stop) -> None:
    """Keep one core busy until ``stop`` is set."""
    x = 0
    while not stop.is_set():
        for _ in range(100_000):
            x += 1


def time_steps(trainer, steps: int) -> float:
    times = []
    for _ in range(steps):
        t0 = time.perf_counter()
        trainer.step()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=5, help="timed steps per setting (default: 5)")
    args = parser.parse_args()

    from threadpoolctl import threadpool_limits

    from seqnn.app.options import new_options
    from seqnn.app.runsetup import make_run

    cores = os.cpu_count() or 1
    counts = sorted({1, 2, cores} & set(range(1, cores + 1)))
    run = make_run(new_options({"steps": 1}))
    run.trainer.step()                                       # warm up: first-call costs are not the step's
    print(f"{cores} cores; default model, one step = 32 x 100 characters; median of {args.steps} steps\n")
    print(f"{'busy cores':>10} | " + " | ".join(f"{n} thread{'s' * (n > 1)} s/step (x best)" for n in counts))
    stop = multiprocessing.Event()
    for busy in sorted({0, 1, cores}):
        burners = [multiprocessing.Process(target=burn, args=(stop,), daemon=True) for _ in range(busy)]
        for p in burners:
            p.start()
        time.sleep(0.5)
        row = {}
        for n in counts:
            with threadpool_limits(limits=n, user_api="blas"):
                row[n] = time_steps(run.trainer, args.steps)
        stop.set()
        for p in burners:
            p.join()
        stop.clear()
        best = min(row.values())
        print(f"{busy:>10} | " + " | ".join(f"{row[n]:>10.3f} ({row[n] / best:4.2f})".ljust(28) for n in counts),
              flush=True)


if __name__ == "__main__":
    main()
