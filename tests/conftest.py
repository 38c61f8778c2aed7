"""Shared oracles and the one registry of cell kinds for the test suite.

``CELL_KINDS``: every kind of cell, by name; a test that loops over cells
parametrizes over it, so a new cell is one line here.

``check_grads`` is the one gradient oracle every test calls: it runs
``seqnn.gradcheck`` and, on failure, names the arrays whose gradient is wrong.

``layer_run`` and ``assert_same_run`` are the one oracle for "the same
computation, two ways": a run is a dict of named arrays (outputs, final state
parts, every gradient), and two runs must have the same names and numbers.
"""

import os
import signal

import numpy as np
import pytest

import seqnn
from seqnn.app import cli, runsetup
from seqnn.cells import state_parts

# A test run started in the background (`make test &`, nohup) inherits SIGINT ignored, and so would every process
# it starts; the Ctrl-C tests need it as a terminal has it: Python's handler here, the default in children.
if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)

CELL_KINDS = {                   # name -> (seqnn.cells.make_cell kind, options)
    "rnn-tanh": ("rnn", {"nonlinearity": "tanh"}),
    "rnn-relu": ("rnn", {"nonlinearity": "relu"}),
    "lstm": ("lstm", {}),
    "gru": ("gru", {}),
}


def make_cell(name: str, D: int, H: int, **kwargs):
    """A cell of kind ``name`` (a key of CELL_KINDS), input size D, hidden size H."""
    kind, options = CELL_KINDS[name]
    return seqnn.cells.make_cell(kind, D, H, **options, **kwargs)


def make_stack(name: str, D: int, H: int, *args, **kwargs):
    """A ``RecurrentStack`` of cells of kind ``name`` (a key of CELL_KINDS)."""
    kind, options = CELL_KINDS[name]
    return seqnn.RecurrentStack(kind, D, H, *args, **options, **kwargs)


parts = state_parts              # public state -> tuple of arrays: h -> (h,), (h, c) -> (h, c)


def named_state(prefix: str, state, names) -> dict:
    """{"final.h": h, "final.c": c} from a public state and the state's part names."""
    return {f"{prefix}.{n}": np.array(p) for n, p in zip(names, parts(state), strict=True)}


def layer_run(layer, X, state0, dH, dstate=None, lengths=None) -> dict:
    """Forward and backward of a ``Recurrent`` (or a stack) from zeroed gradients, as named arrays:
    H, final.<part>, dX, dstate0.<part> and grad.<parameter> for every parameter."""
    names = getattr(layer, "state_names", None) or layer.cell.state_names
    layer.zero_grad()
    H, final = layer.forward(X, state0, lengths)
    run = {"H": np.array(H), **named_state("final", final, names)}
    dX, dstate0 = layer.backward(dH, dstate)
    run.update({"dX": np.array(dX), **named_state("dstate0", dstate0, names)})
    run.update({f"grad.{n}": p.grad.copy() for n, p in layer.named_parameters()})
    return run


def stack_run_torch_names(stack, X, state0, dH, dstate=None, lengths=None) -> dict:
    """``layer_run`` of a RecurrentStack with its gradients under PyTorch's names (``grad.weight_hh_l0``):
    what a PyTorch run (live, or the golden fixtures) is compared with."""
    from seqnn import interop
    run = {k: v for k, v in layer_run(stack, X, state0, dH, dstate, lengths).items() if not k.startswith("grad.")}
    run.update({f"grad.{k}": v for k, v in interop.stack_grads_state_dict(stack).items()})
    return run


def assert_same_run(got: dict, want: dict, rtol: float = 1e-12, atol: float = 1e-12, what: str = ""):
    """The one comparison of two runs: the same names, and every array the same to rtol/atol."""
    assert set(got) == set(want), f"{what}: different arrays: {sorted(set(got) ^ set(want))}"
    for name in want:
        assert got[name].shape == want[name].shape, f"{what}: {name}: shape {got[name].shape}, not {want[name].shape}"
        np.testing.assert_allclose(got[name], want[name], rtol=rtol, atol=atol, err_msg=f"{what}: {name}")


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


# --- the command line: tiny runs, so that a whole train -> stop -> resume cycle takes a fraction of a second ------
CORPUS_START = seqnn.data.read_text([runsetup.corpus_path()])[:2000]
TINY = ["--hidden", "8", "--layers", "1", "--seq-len", "10", "--batch", "4", "--val-fraction", "0.1",
        "--eval-every", "5", "--sample-chars", "30", "--log-seconds", "0"]


@pytest.fixture
def text(tmp_path):
    """291 characters (a newline is added): 262 for training = 4 streams of 65 rows = 6 chunks of 10 per epoch."""
    path = tmp_path / "text.txt"
    path.write_text(CORPUS_START[400:690])
    return str(path)


@pytest.fixture
def trained(text, tmp_path, capsys):
    """The folder of a tiny run of 10 steps on ``text``."""
    assert seqnn_main(capsys, "train", text, *TINY, "--steps", "10", "--out", tmp_path / "run")[0] == 0
    return tmp_path / "run"


def seqnn_main(capsys, *argv):
    """(exit status, stdout, stderr) of ``seqnn argv...`` run in this process."""
    code = cli.main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def seqnn_fails(capsys, *argv, code=1):
    """``seqnn argv...`` must fail with ``code`` and one line on stderr, no traceback; returns that line."""
    got, out, err = seqnn_main(capsys, *argv)
    assert got == code, (out, err)
    assert "Traceback" not in err and err.count("\n") == 1, err
    return err


def seqnn_process(*argv, **options):
    """``python -m seqnn argv...`` as a real process, its output piped (text)."""
    import subprocess
    import sys
    return subprocess.Popen([sys.executable, "-m", "seqnn", *map(str, argv)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, **options)


def samples(out: str) -> dict:
    """{step: the sample text shown after that step's validation} from a run's output."""
    import re
    found = {}
    for m in re.finditer(r"^step (\d+): validation .*\n((?:    .*\n)+)", out, re.M):
        found[int(m.group(1))] = m.group(2)
    return found
