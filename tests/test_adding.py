"""The adding-problem experiment (experiments/adding.py), short and seeded: the lecture's claim in
miniature, and the same learning curve in seqnn and PyTorch from the same weights on the same batches.

The full runs (T = 50, 100, 200, thousands of steps) are in docs/results.md.
"""

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "experiments"))
import adding  # noqa: E402
from conftest import check_grads  # noqa: E402

SHORT = dict(hidden=32, lr=1e-2, test_size=500, log=None)     # a small model that learns T = 20 in 400 steps


def final_mse(run):
    return run["sides"]["seqnn"]["mse"][-1]


def test_gated_cells_learn_to_add_across_20_steps_where_the_tanh_rnn_does_not():
    runs = {name: adding.run_one(name, 20, seed=0, steps=400, eval_every=100, **SHORT)
            for name in ("rnn", "lstm", "gru")}
    assert runs["rnn"]["sides"]["seqnn"]["mse"][0] > adding.BASELINE          # untrained: worse than answering 1
    assert final_mse(runs["lstm"]) < 0.02 and final_mse(runs["gru"]) < 0.02   # ~10x below answering 1 (1/6)
    assert final_mse(runs["rnn"]) > 0.12                                       # the same 400 steps: still near 1/6
    assert runs["lstm"]["sides"]["seqnn"]["solved_at"] == 400 and runs["rnn"]["sides"]["seqnn"]["solved_at"] is None


@pytest.mark.parametrize("name", list(adding.MODELS))
def test_seqnn_and_pytorch_learn_the_same_curve(name):
    pytest.importorskip("torch")
    run = adding.run_one(name, 20, seed=1, steps=40, eval_every=10, with_torch=True, **SHORT)
    seqnn_mse, torch_mse = run["sides"]["seqnn"]["mse"], run["sides"]["torch"]["mse"]
    assert len(seqnn_mse) == 5 and seqnn_mse[0] == pytest.approx(torch_mse[0], rel=1e-6)
    np.testing.assert_allclose(seqnn_mse, torch_mse, rtol=1e-4)       # float32 round-off, after 40 Adam steps
    assert seqnn_mse[-1] < 0.5 * seqnn_mse[0]                         # and the curve did move


@pytest.mark.parametrize("name", list(adding.MODELS))
def test_the_models_backward_is_their_gradient(name, rng):
    """float64 central differences over every parameter and the input, random upstream gradient.
    The IRNN's pre-activations start within 1e-3 of ReLU's kink (input weights ~ 1e-3, zero bias),
    where finite differences cross it, so its check scales the input weights up first."""
    model = adding.AddingModel(name, hidden_size=4, dtype=np.float64, rng=0)
    if name == "irnn":
        model.rnn.layers[0].cell.W_xh *= 1000
    check_grads(model, (rng.random((5, 3, 2)),))
