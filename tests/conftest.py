"""Shared oracles for the test suite.

``check_grads`` is the one gradient oracle every test calls: it runs
``seqnn.gradcheck`` and, on failure, names the array whose gradient is wrong.
"""

import os

import numpy as np
import pytest

import seqnn

TOL = 1e-6   # float64 central differences: a correct backward scores ~1e-8 or better
WORST = []   # (error, test, array) of every gradient check, summarised at the end of the run


def random_state(cell, B, rng):
    """A random public state for ``cell``: h (B, H), or (h, c) for an LSTM."""
    parts = tuple(rng.standard_normal((B, cell.hidden_size)) for _ in cell.state_names)
    return parts[0] if len(parts) == 1 else parts


def check_grads(fn, inputs, tol=TOL, **kwargs):
    report = seqnn.gradcheck(fn, inputs, **kwargs)
    assert report.errors, "gradcheck checked nothing"
    WORST.append((report.max_error, os.environ.get("PYTEST_CURRENT_TEST", "?").split(" ")[0], report.worst))
    assert report.max_error <= tol, (
        f"gradient of {', '.join(report.failures(tol))} is wrong: relative error {report.max_error:.2e} > "
        f"{tol:.0e}\n{report}")
    return report


@pytest.fixture
def rng():
    return np.random.default_rng(1234)


def pytest_terminal_summary(terminalreporter):
    if WORST:
        err, test, name = max(WORST)
        terminalreporter.write_line(
            f"gradient checks: {len(WORST)}, worst relative error {err:.1e} ({name} in {test})")
