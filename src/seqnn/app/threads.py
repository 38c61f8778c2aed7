"""How many threads numpy's matrix products (BLAS) may use: a number, or "auto".

A training step is many small matrix products, one per time step, and
OpenBLAS's threads wait for each other after every one. On an idle machine two
threads are faster than one; when another program keeps a core busy, a thread
that waits for its partner loses whole time slices, and the step becomes
several times slower (benchmarks/bench_threads.py: on 2 cores, 2 threads are
1.4x faster idle and 1.9x slower with one core busy). "auto" therefore counts
the cores that are idle when the run starts (over a tenth of a second, from
/proc/stat on Linux; the load average elsewhere) and uses that many, at least
one. The limit is set with ``threadpoolctl`` (numpy's BLAS is already loaded,
so environment variables would come too late).
"""

from __future__ import annotations

import os
import time
from contextlib import contextmanager


def cores() -> int:
    """The cores this process may run on."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def _cpu_times(cpus) -> dict[int, tuple[int, int]]:
    """(busy, total) jiffies of each of ``cpus`` from /proc/stat."""
    times = {}
    with open("/proc/stat") as f:
        for line in f:
            name, *fields = line.split()
            if name.startswith("cpu") and name[3:].isdigit() and int(name[3:]) in cpus:
                numbers = [int(x) for x in fields[:8]]
                idle = numbers[3] + numbers[4]                       # idle and iowait
                times[int(name[3:])] = (sum(numbers) - idle, sum(numbers))
    return times


def busy_cores(seconds: float = 0.1) -> float:
    """How many of this process's cores other programs keep busy now (0 when that cannot be told)."""
    try:
        cpus = os.sched_getaffinity(0)
        before = _cpu_times(cpus)
        time.sleep(seconds)
        after = _cpu_times(cpus)
        return sum((after[c][0] - before[c][0]) / max(after[c][1] - before[c][1], 1) for c in before if c in after)
    except (OSError, AttributeError, ValueError, IndexError):
        pass
    try:
        return os.getloadavg()[0]
    except (OSError, AttributeError):
        return 0.0


def resolve(threads) -> tuple[int, str]:
    """``threads`` ("auto" or a positive int) -> (the number of BLAS threads, how it was chosen, in words)."""
    if threads != "auto":
        return threads, "--threads"
    n, busy = cores(), busy_cores()
    return max(1, n - round(busy)), f"auto: {n} core{'s' * (n > 1)}, {busy:.1f} busy"


@contextmanager
def blas_threads(n: int):
    """Numpy's BLAS uses at most ``n`` threads inside the block."""
    from threadpoolctl import threadpool_limits
    with threadpool_limits(limits=n, user_api="blas"):
        yield
