"""Truncated BPTT: the state's value crosses chunk boundaries, its gradient does not."""

import numpy as np
import pytest

import seqnn
from seqnn.data import Vocabulary, batchify
from seqnn.gradient_check import numerical_gradient, relative_error
from seqnn.models import CharLM
from seqnn.train import StreamTrainer, evaluate, truncated_bptt

from conftest import CELL_KINDS, parts

N, B, V, K = 12, 2, 5, 4


def setup(kind, seed=0):
    rng = np.random.default_rng(seed)
    cell, options = CELL_KINDS[kind]
    model = CharLM(V, 3, cell=cell, rng=seed, **options)
    stream = rng.integers(0, V, (N + 1, B))
    return model, stream[:-1], stream[1:]


def chunk_losses(model, inputs, targets, carried=None):
    """Sum of the chunk losses. carried=None: states flow through (full graph);
    else chunk c starts from the frozen value carried[c]."""
    total, state = 0.0, None
    for c, start in enumerate(range(0, N, K)):
        s0 = state if carried is None else carried[c]
        logits, state = model.forward(inputs[start:start + K], s0)
        total += seqnn.softmax_cross_entropy(logits, targets[start:start + K])[0]
    return total


def carried_states(model, inputs):
    states, state = [], None
    for start in range(0, N, K):
        states.append(state)
        _, state = model.forward(inputs[start:start + K], state)
    return states


@pytest.mark.parametrize("kind", CELL_KINDS)
def test_truncated_gradient_is_the_gradient_of_each_chunk_alone(kind):
    model, inputs, targets = setup(kind)
    model.zero_grad()
    truncated_bptt(model, inputs, targets, K)                      # no optimizer: gradients summed
    truncated = {n: p.grad.copy() for n, p in model.named_parameters()}

    frozen = carried_states(model, inputs)                          # values, computed once
    for name, p in model.named_parameters():
        numeric_cut = numerical_gradient(lambda: chunk_losses(model, inputs, targets, frozen), p.value)
        assert relative_error(truncated[name], numeric_cut) < 1e-6, (
            f"{name}: truncated gradient != gradient of the chunks from their carried states")


@pytest.mark.parametrize("kind", CELL_KINDS)
def test_truncated_gradient_differs_from_full_bptt(kind):
    model, inputs, targets = setup(kind)
    model.zero_grad()
    truncated_bptt(model, inputs, targets, K)
    cut = {n: p.grad.copy() for n, p in model.named_parameters()}

    model.zero_grad()
    truncated_bptt(model, inputs, targets, N)                       # k = T: full BPTT of the mean loss
    full = {n: p.grad * (N / K) for n, p in model.named_parameters()}   # = gradient of the sum of chunk means

    W_hh = dict(model.named_parameters())["rnn.layers.0.cell.W_hh"].value
    numeric_full = numerical_gradient(lambda: chunk_losses(model, inputs, targets), W_hh)
    assert relative_error(full["rnn.layers.0.cell.W_hh"], numeric_full) < 1e-6, "k = T is full BPTT"
    assert relative_error(cut["rnn.layers.0.cell.W_hh"], full["rnn.layers.0.cell.W_hh"]) > 1e-3, \
        "the cut must change W_hh's gradient"
    # The output layer sees no recurrence: its gradient is the same either way.
    assert np.allclose(cut["out.W_hy"], full["out.W_hy"], rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("kind", CELL_KINDS)
def test_state_value_is_carried(kind):
    model, inputs, targets = setup(kind)
    history = truncated_bptt(model, inputs, targets, K)
    _, whole = model.forward(inputs)
    as_tuple = parts
    for a, b in zip(as_tuple(history.state), as_tuple(whole)):
        assert np.allclose(a, b, rtol=0, atol=1e-14), "the final state is that of one pass over the stream"
    assert len(history.losses) == N // K


def test_training_on_a_stream_lowers_the_loss():
    text = "the cat sat on the mat. " * 20
    vocab = Vocabulary(text)
    data = batchify(vocab.encode(text), 4)                          # (T, 4)
    model = CharLM(len(vocab), 32, cell="lstm", rng=0)
    opt = seqnn.Adam(model.parameters(), lr=0.01)
    first = truncated_bptt(model, data[:-1], data[1:], 10, optimizer=opt, clip_norm=5.0)
    state = None
    for _ in range(15):
        h = truncated_bptt(model, data[:-1], data[1:], 10, optimizer=opt, clip_norm=5.0, state=state)
        state = h.state
    assert np.mean(h.losses) < 0.5 * np.mean(first.losses)
    assert all(n >= 0 for n in h.grad_norms)


def test_bad_arguments():
    model, inputs, targets = setup("rnn-tanh")
    with pytest.raises(ValueError, match="k: expected a positive int"):
        truncated_bptt(model, inputs, targets, 0)
    with pytest.raises(ValueError, match="targets: expected shape"):
        truncated_bptt(model, inputs, targets[:-1], K)


# --- evaluate and StreamTrainer: what seqnn train runs ----------------------------------------------------------
def test_evaluate_is_the_mean_loss_of_every_prediction_with_its_column_as_context():
    rng = np.random.default_rng(3)
    model = CharLM(V, 6, cell="lstm", num_layers=2, dropout=0.5, rng=3)
    ids = rng.integers(0, V, 23)
    got = evaluate(model, ids, k=3, batch_size=2)        # 2 columns of 11, read in chunks of 3
    assert model.training, "evaluate restores training mode"

    model.eval()
    expected = []
    for column in ids[:22].reshape(2, 11):               # each column as one sequence, no truncation
        logits, _ = model.forward(column[:-1, None])
        expected.append(seqnn.softmax_cross_entropy(logits, column[1:, None], reduction="sum")[0])
    assert got == pytest.approx(sum(expected) / 20, rel=1e-12)
    with pytest.raises(ValueError, match="ids: expected at least 2 tokens"):
        evaluate(model, ids[:1], 3, 2)


def _trainer(dtype=np.float64, seed=0):
    model = CharLM(V, 4, cell="lstm", num_layers=2, dropout=0.3, dtype=dtype, rng=seed)
    data = np.random.default_rng(0).integers(0, V, (12, 3))        # 11 input rows: 2 chunks of 4, 3 left out
    return StreamTrainer(model, data, 4, seqnn.Adam(model.parameters(), lr=0.01), clip_norm=1.0)


def test_stream_trainer_walks_the_stream_in_chunks_and_resets_the_state_each_epoch():
    trainer = _trainer()
    assert trainer.chunks_per_epoch == 2
    seen = []
    for _ in range(3):
        was = (trainer.epoch, trainer.chunk, trainer.state is None)
        _, _, tokens = trainer.step()
        seen.append((*was, tokens))
    assert seen == [(0, 0, True, 12), (0, 1, False, 12), (1, 0, True, 12)], (
        "full chunks of 4 rows x 3 streams (the 3 rows left over are skipped); a fresh state at each epoch")
    assert trainer.steps == 3 and trainer.optimizer.steps == 3
    with pytest.raises(ValueError, match=r"data: expected at least k \+ 1 = 13 rows"):
        StreamTrainer(trainer.model, trainer.data, 12, trainer.optimizer)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_stream_trainer_resumed_from_its_state_dict_matches_to_the_bit(dtype):
    whole = _trainer(dtype)
    losses = [whole.step()[0] for _ in range(7)]

    first = _trainer(dtype)
    for _ in range(4):                                     # stop mid-epoch: a carried state, dropout draws
        first.step()
    saved, params = first.state_dict(), first.model.state_dict()
    resumed = _trainer(dtype, seed=99)                     # other weights and generator: all must be restored
    resumed.model.load_state_dict(params)
    resumed.load_state_dict(saved)
    assert [resumed.step()[0] for _ in range(3)] == losses[4:]
    for (name, a), b in zip(whole.model.named_parameters(), resumed.model.parameters()):
        assert a.value.dtype == dtype and np.array_equal(a.value, b.value), name

    resumed_without_rng = _trainer(dtype, seed=99)
    resumed_without_rng.model.load_state_dict(params)
    saved["generators"] = [g.bit_generator.state for g in resumed_without_rng.model.generators()]
    resumed_without_rng.load_state_dict(saved)
    assert [resumed_without_rng.step()[0] for _ in range(3)] != losses[4:], "the dropout draws are part of the state"


def test_chunk_with_a_non_finite_loss_stops_before_any_update():
    trainer = _trainer()
    trainer.model.out.params["b_y"].value[0] = np.inf
    before = {n: p.value.copy() for n, p in trainer.model.named_parameters()}
    with pytest.raises(FloatingPointError, match="not finite"):
        trainer.step()
    assert trainer.steps == 0 and trainer.optimizer.steps == 0
    for name, p in trainer.model.named_parameters():
        assert np.array_equal(p.value, before[name], equal_nan=True), name


@pytest.mark.parametrize("clip_norm", [None, 1.0], ids=["no-clip", "clip"])
def test_chunk_with_a_non_finite_gradient_stops_before_any_update(clip_norm, monkeypatch):
    trainer = _trainer()
    trainer.clip_norm = clip_norm
    real_backward = trainer.model.backward

    def backward_with_nan(dlogits, check=True):  # a finite loss whose gradient overflowed somewhere
        out = real_backward(dlogits, check=check)
        trainer.model.out.params["W_hy"].grad[0, 0] = np.nan
        return out
    monkeypatch.setattr(trainer.model, "backward", backward_with_nan)
    before = {n: p.value.copy() for n, p in trainer.model.named_parameters()}
    with pytest.raises(FloatingPointError, match="the gradient norm is nan"):
        trainer.step()
    assert trainer.optimizer.steps == 0
    for name, p in trainer.model.named_parameters():
        assert np.array_equal(p.value, before[name]), name


def test_a_training_step_of_the_default_model_scans_for_finiteness_at_most_three_times(monkeypatch):
    """Each argument is checked once, where the user passed it: a step of `seqnn train` (the default model, its
    state carried from the step before) scans only what it makes itself, the logits (its guard against divergence).
    It used to scan 26 arrays, 5.4 million numbers: X at the stack and again at each layer, the logits in the step
    and again in the loss, every gradient at every door and again in the optimizer."""
    from seqnn.app.options import new_options
    from seqnn.app.runsetup import make_run
    run = make_run(new_options({"steps": 3}))                 # what `seqnn train` builds: 2 x 256 LSTM, dropout
    run.trainer.step()                                        # from here on a state is carried
    real, scans = np.isfinite, []

    def counting(x, *args, **kwargs):
        if np.ndim(x) > 0:
            scans.append(np.size(x))
        return real(x, *args, **kwargs)
    monkeypatch.setattr(np, "isfinite", counting)
    loss, norm, _ = run.trainer.step()
    assert 1 <= len(scans) <= 3, f"{len(scans)} scans of {sum(scans):,} numbers"
    assert np.isfinite(loss) and np.isfinite(norm)
