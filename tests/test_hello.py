"""The char-level "hello" example: learns, generates, same result every run."""

import io
import sys
from contextlib import redirect_stdout
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "examples"))
import hello  # noqa: E402


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_hello_learns_and_generates(cell):
    out = io.StringIO()
    with redirect_stdout(out):
        hello.main(["--cell", cell])
    text = out.getvalue()
    assert "from 'h' the network generates: 'hello'" in text
    assert "after 'hel' it predicts: 'l', then 'o'" in text


def test_hello_loss_falls_and_is_deterministic():
    _, _, losses = hello.train(file=None)
    _, _, again = hello.train(file=None)
    assert losses == again, "same seed, same numbers"
    assert losses[-1] < 0.05 < 1.0 < losses[0]
