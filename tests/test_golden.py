"""Parity with PyTorch without PyTorch: fixtures computed by torch 2.13 (scripts/make_golden.py),
checked on every run. Outputs, final states and every gradient agree to 1e-10 (float64)."""

from pathlib import Path

import numpy as np
import pytest

from seqnn import interop

from conftest import assert_same_run, stack_run_torch_names

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
    got = stack_run_torch_names(stack, c["X"], pair(c, "h0", "c0"), c["dout"], pair(c, "dh_n", "dc_n"),
                                c.get("lengths"))
    want = {"H": c["out"], "final.h": c["h_n"], "dX": c["dX"], "dstate0.h": c["dh0"],
            **({"final.c": c["c_n"], "dstate0.c": c["dc0"]} if "c_n" in c else {}),
            **{"grad." + k[2:]: v for k, v in c.items() if k.startswith("g.")}}
    assert_same_run(got, want, rtol=0, atol=TOL, what=f"seqnn vs PyTorch 2.13's fixture {name}")


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
