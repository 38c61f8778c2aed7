"""Parity with PyTorch without PyTorch: fixtures computed by torch 2.13 (scripts/make_golden.py),
checked on every run. Outputs, final states and every gradient agree to 1e-10 (float64)."""

from pathlib import Path

import numpy as np
import pytest

from seqnn import interop

DATA = np.load(Path(__file__).resolve().parent / "data" / "golden.npz")
CASES = sorted({key.split("/")[0] for key in DATA.files if "/" in key})
TOL = 1e-10


def case(name):
    return {key.split("/", 1)[1]: DATA[key] for key in DATA.files if key.startswith(name + "/")}


def build(c):
    weights = {k[2:]: v for k, v in c.items() if k.startswith("w.")}
    return interop.stack_from_state_dict(weights, nonlinearity=str(c["nonlinearity"]))


def pair(c, h, cc):
    return (c[h], c[cc]) if cc in c else c[h]


def test_fixtures_are_present():
    assert CASES == ["gru", "gru_uni", "lstm", "lstm_uni", "rnn_relu", "rnn_tanh"]
    assert str(DATA["torch_version"]).startswith("2.13.0")


@pytest.mark.parametrize("name", CASES)
def test_matches_pytorch(name):
    c = case(name)
    stack = build(c)
    lengths = c.get("lengths")
    stack.zero_grad()
    out, final = stack.forward(c["X"], pair(c, "h0", "c0"), lengths)
    dX, dstate0 = stack.backward(c["dout"], pair(c, "dh_n", "dc_n"))

    np.testing.assert_allclose(out, c["out"], rtol=0, atol=TOL, err_msg="outputs")
    finals = final if isinstance(final, tuple) else (final,)
    np.testing.assert_allclose(finals[0], c["h_n"], rtol=0, atol=TOL, err_msg="h_n")
    np.testing.assert_allclose(dX, c["dX"], rtol=0, atol=TOL, err_msg="dX")
    d0 = dstate0 if isinstance(dstate0, tuple) else (dstate0,)
    np.testing.assert_allclose(d0[0], c["dh0"], rtol=0, atol=TOL, err_msg="dh0")
    if "c_n" in c:
        np.testing.assert_allclose(finals[1], c["c_n"], rtol=0, atol=TOL, err_msg="c_n")
        np.testing.assert_allclose(d0[1], c["dc0"], rtol=0, atol=TOL, err_msg="dc0")
    grads = interop.stack_grads_state_dict(stack)
    for key in (k for k in c if k.startswith("g.")):
        np.testing.assert_allclose(grads[key[2:]], c[key], rtol=0, atol=TOL, err_msg=f"gradient of {key[2:]}")


@pytest.mark.parametrize("name", ["lstm", "gru"])
def test_fixtures_catch_a_wrong_gate_order(name):
    """Swapping two gate blocks (as a port with the wrong order would) changes the outputs a lot."""
    c = case(name)
    weights = {k[2:]: v.copy() for k, v in c.items() if k.startswith("w.")}
    H = weights["weight_hh_l0"].shape[1]
    for key in weights:
        w = weights[key]
        w[:H], w[H:2 * H] = w[H:2 * H].copy(), w[:H].copy()           # i <-> f (LSTM), r <-> z (GRU)
    wrong = interop.stack_from_state_dict(weights)
    out, _ = wrong.forward(c["X"], pair(c, "h0", "c0"), c.get("lengths"))
    assert np.abs(out - c["out"]).max() > 1e-2
