"""--threads: numpy's BLAS really runs with the number asked for, and "auto" counts the cores other work leaves."""

import multiprocessing
import time

import numpy as np
import pytest
from threadpoolctl import threadpool_info

from conftest import TINY, seqnn_main
from seqnn.app import threads as _threads


def blas_limits() -> set:
    return {pool["num_threads"] for pool in threadpool_info() if pool["user_api"] == "blas"}


def test_blas_threads_limits_numpys_blas_inside_the_block_only():
    np.dot(np.ones((2, 2)), np.ones((2, 2)))                 # BLAS is loaded
    before = blas_limits()
    with _threads.blas_threads(1):
        assert blas_limits() == {1}
    assert blas_limits() == before


def burn(stop):
    while not stop.is_set():
        sum(range(10_000))


def test_auto_counts_the_cores_that_other_programs_keep_busy():
    cores = _threads.cores()
    assert 0 <= _threads.busy_cores(0.1) <= cores + 0.5
    n, how = _threads.resolve("auto")
    assert 1 <= n <= cores and how.startswith(f"auto: {cores} core")
    assert _threads.resolve(3) == (3, "--threads")
    stop = multiprocessing.Event()
    burners = [multiprocessing.Process(target=burn, args=(stop,), daemon=True) for _ in range(cores)]
    for p in burners:
        p.start()
    try:
        time.sleep(0.3)
        busy = _threads.busy_cores(0.3)                      # every core kept busy by another process
    finally:
        stop.set()
        for p in burners:
            p.join()
    assert busy > cores - 1, f"{cores} cores kept busy, {busy:.2f} counted"


@pytest.mark.parametrize("given, shown", [("1", "1 BLAS thread (--threads)"), (None, "BLAS thread")])
def test_the_run_header_shows_its_threads(given, shown, text, tmp_path, capsys):
    argv = ["train", text, *TINY, "--steps", "2", "--out", tmp_path / "run"] + (["--threads", given] if given else [])
    code, out, _ = seqnn_main(capsys, *argv)
    assert code == 0 and shown in out
    if given is None:
        assert "(auto: " in out


def test_sample_and_evaluate_take_threads(trained, capsys):
    assert seqnn_main(capsys, "sample", trained, "--length", "5", "--threads", "1")[0] == 0
    code, out, _ = seqnn_main(capsys, "evaluate", trained, "--threads", "2")
    assert code == 0 and "bits/char" in out
