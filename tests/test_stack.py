"""Deep, bidirectional and variable-length recurrent layers."""

import numpy as np
import pytest

import seqnn
from seqnn.recurrent import reverse_padded

from conftest import CELL_KINDS, assert_same_run, check_grads, layer_run, make_stack, parts

KINDS = CELL_KINDS


def random_stack_state(m, B, rng):
    parts = tuple(rng.standard_normal((m.num_layers * m.num_directions, B, m.hidden_size)) for _ in m.state_names)
    return parts[0] if len(parts) == 1 else parts


# --- the generic gradient check: cell kind x bias x layers x directions x lengths -------------
@pytest.mark.parametrize("with_lengths", [False, True], ids=["full", "lengths"])
@pytest.mark.parametrize("bidirectional", [False, True], ids=["uni", "bi"])
@pytest.mark.parametrize("num_layers", [1, 2])
@pytest.mark.parametrize("bias", [True, False], ids=["bias", "nobias"])
@pytest.mark.parametrize("kind", KINDS)
def test_gradcheck_grid(kind, bias, num_layers, bidirectional, with_lengths, rng):
    m = make_stack(kind, 3, 3, num_layers, bidirectional, bias=bias, rng=0)
    T, B = 4, 3
    X = rng.standard_normal((T, B, 3))
    lengths = np.array([4, 1, 3]) if with_lengths else None

    def forward(X, state0):
        return m.forward(X, state0, lengths)

    kink = {"eps": 1e-4} if kind == "rnn-relu" else {}  # a smaller step is less likely to straddle ReLU's kink
    check_grads(forward, (X, random_stack_state(m, B, rng)), backward=m.backward, params=m, rng=1, **kink)


def test_gradcheck_with_dropout_in_training_mode(rng):
    """The masks are random, so the check redraws the same ones at every forward (same seed)."""
    m = seqnn.LSTM(3, 3, num_layers=3, dropout=0.5, rng=0)

    def forward(X):
        for k, d in enumerate(m.dropouts):
            d.rng = np.random.default_rng(100 + k)
        return m.forward(X)

    report = check_grads(forward, (rng.standard_normal((4, 2, 3)),), backward=m.backward, params=m)
    assert report.max_error < 1e-6


# --- PyTorch's layout of outputs and states ---------------------------------------------------
@pytest.mark.parametrize("kind", KINDS)
def test_bidirectional_layout_like_pytorch(kind, rng):
    m = make_stack(kind, 3, 4, num_layers=2, bidirectional=True, rng=0)
    out, state = m.forward(rng.standard_normal((6, 2, 3)))
    h_n = parts(state)[0]
    assert out.shape == (6, 2, 8) and h_n.shape == (4, 2, 4)
    assert np.array_equal(h_n[-2], out[-1, :, :4]), "forward direction ends at t = T-1"
    assert np.array_equal(h_n[-1], out[0, :, 4:]), "reverse direction ends at t = 0"
    assert not np.allclose(h_n[-1], out[-1, :, 4:])


def test_reverse_direction_is_the_forward_run_on_reversed_input(rng):
    cell = seqnn.GRUCell(3, 4, rng=0)
    X = rng.standard_normal((5, 2, 3))
    H_rev, h_rev = seqnn.Recurrent(cell, reverse=True).forward(X)
    H_fwd, h_fwd = seqnn.Recurrent(cell).forward(X[::-1])
    assert np.allclose(H_rev, H_fwd[::-1], rtol=0, atol=1e-15) and np.allclose(h_rev, h_fwd, rtol=0, atol=1e-15)


def test_layer_two_reads_layer_one(rng):
    """A 2-layer stack is two 1-layer stacks in a row (the correct reference loop)."""
    m = seqnn.LSTM(3, 4, num_layers=2, bidirectional=True, rng=0)
    X = rng.standard_normal((5, 2, 3))
    out, (h, c) = m.forward(X)
    first, second = m.layers[:2], m.layers[2:]
    mid = np.concatenate([first[0].forward(X)[0], first[1].forward(X)[0]], axis=-1)
    top = np.concatenate([second[0].forward(mid)[0], second[1].forward(mid)[0]], axis=-1)
    assert np.allclose(out, top, rtol=0, atol=1e-15)


# --- variable lengths: a padded batch is every sequence run alone ------------------------------
@pytest.mark.parametrize("bidirectional", [False, True], ids=["uni", "bi"])
@pytest.mark.parametrize("kind", KINDS)
def test_padded_batch_equals_each_sequence_alone(kind, bidirectional, rng):
    m = make_stack(kind, 3, 4, num_layers=2, bidirectional=bidirectional, rng=0)
    lengths = np.array([5, 2, 4, 1])
    T, B = 5, 4
    X = rng.standard_normal((T, B, 3))
    state0 = random_stack_state(m, B, rng)
    dout = rng.standard_normal((T, B, m.output_size))
    dfinal = random_stack_state(m, B, rng)

    batched = layer_run(m, X, state0, dout, dfinal, lengths)

    def pick(state, b):
        """Sequence b's slice of a (L*Dirs, B, H) state (or (h, c) pair)."""
        sliced = tuple(p[:, b:b + 1] for p in parts(state))
        return sliced[0] if len(sliced) == 1 else sliced

    alone = {name: np.zeros_like(a) for name, a in batched.items() if not name.startswith("grad.")}
    m.zero_grad()                                      # the gradients add up over the single runs
    for b, L in enumerate(lengths):
        out_b, final_b = m.forward(X[:L, b:b + 1], pick(state0, b))
        dX_b, ds0_b = m.backward(dout[:L, b:b + 1], pick(dfinal, b))
        alone["H"][:L, b:b + 1], alone["dX"][:L, b:b + 1] = out_b, dX_b     # zero past the end: padding
        for name, p in zip(m.state_names, parts(final_b)):
            alone[f"final.{name}"][:, b:b + 1] = p
        for name, p in zip(m.state_names, parts(ds0_b)):
            alone[f"dstate0.{name}"][:, b:b + 1] = p
    alone.update({f"grad.{n}": p.grad.copy() for n, p in m.named_parameters()})
    assert_same_run(batched, alone, rtol=0, atol=1e-12, what="a padded batch vs each sequence alone")


def test_padding_values_do_not_matter(rng):
    m = seqnn.GRU(3, 4, bidirectional=True, rng=0)
    X = rng.standard_normal((5, 2, 3))
    lengths = np.array([3, 5])
    out1, h1 = m.forward(X, lengths=lengths)
    X2 = X.copy()
    X2[3:, 0] = 1e3
    out2, h2 = m.forward(X2, lengths=lengths)
    assert np.array_equal(out1, out2) and np.array_equal(h1, h2)


def test_reverse_padded_is_an_involution(rng):
    A = rng.standard_normal((5, 3, 2))
    lengths = np.array([5, 2, 3])
    R = reverse_padded(A, lengths)
    assert np.array_equal(R[:2, 1], A[1::-1, 1]) and np.array_equal(R[2:, 1], A[2:, 1])
    assert np.array_equal(reverse_padded(R, lengths), A)


# --- dropout -------------------------------------------------------------------------------
def test_dropout_between_layers_only_in_training(rng):
    X = rng.standard_normal((4, 2, 3))
    m = seqnn.RNN(3, 50, num_layers=2, dropout=0.5, rng=0)
    plain = seqnn.RNN(3, 50, num_layers=2, rng=0)
    assert np.array_equal(m.eval().forward(X)[0], plain.forward(X)[0]), "eval(): no dropout"
    m.train()
    m.forward(X)
    scale = m.dropouts[0]._scale
    assert set(np.unique(scale)) == {0.0, 2.0}, "inverted dropout: 0 or 1/(1-p)"
    assert 0.4 < (scale == 0).mean() < 0.6
    assert len(m.dropouts) == 1, "no dropout after the last layer"


def test_dropout_argument_checked():
    with pytest.raises(ValueError, match=r"^dropout: expected a probability in \[0, 1\), got 1.5"):
        seqnn.LSTM(3, 4, num_layers=2, dropout=1.5)


def test_state_shapes_are_checked(rng):
    m = seqnn.LSTM(3, 4, num_layers=2, bidirectional=True)
    with pytest.raises(ValueError, match=r"state0.c: expected shape \(L\*Dirs, B, H\) = \(4, 2, 4\), got \(2, 2, 4\)"):
        m.forward(rng.standard_normal((3, 2, 3)), (np.zeros((4, 2, 4)), np.zeros((2, 2, 4))))
    with pytest.raises(ValueError, match=r"lengths: expected values in \[1, T\] = \[1, 3\], got 7"):
        m.forward(rng.standard_normal((3, 2, 3)), lengths=np.array([7, 1]))
    with pytest.raises(ValueError, match=r"lengths: expected values in \[1, T\] = \[1, 3\], got 0"):
        m.forward(rng.standard_normal((3, 2, 3)), lengths=np.array([0, 1]))


def test_dropout_with_one_layer_warns():
    with pytest.warns(UserWarning, match="with num_layers=1 it does nothing"):
        seqnn.GRU(3, 4, dropout=0.3)


@pytest.mark.parametrize("bidirectional", [False, True], ids=["uni", "bi"])
@pytest.mark.parametrize("kind", KINDS)
def test_input_grad_false_skips_only_the_input_gradient(kind, bidirectional, rng):
    """Token ids need no dX: input_grad=False returns None and leaves every parameter gradient as it was."""
    m = make_stack(kind, 3, 4, 2, bidirectional, rng=0)
    X = rng.standard_normal((5, 2, 3))
    lengths = np.array([5, 3])
    dout = rng.standard_normal((5, 2, m.output_size))
    grads = []
    for input_grad in (True, False):
        m.forward(X, None, lengths)                     # a fresh forward: backward consumes its cache
        m.zero_grad()
        dX, dstate0 = m.backward(dout, input_grad=input_grad)
        grads.append(({n: p.grad.copy() for n, p in m.named_parameters()}, dX, dstate0))
    (with_dx, dX, s0), (without, none, s1) = grads
    assert dX.shape == X.shape and none is None
    for name in with_dx:
        assert np.array_equal(with_dx[name], without[name]), name
    assert all(np.array_equal(a, b) for a, b in zip(parts(s0), parts(s1)))


def test_charlm_with_one_hot_input_skips_the_input_gradient(monkeypatch):
    from seqnn.models import CharLM
    seen = []
    original = seqnn.Recurrent.backward
    monkeypatch.setattr(seqnn.Recurrent, "backward",
                        lambda self, *a, **k: seen.append(k.get("input_grad", True)) or original(self, *a, **k))
    ids = np.array([[0, 1], [2, 0], [1, 1]])
    for embedding_dim, expected in ((None, [True, False]), (3, [True, True])):
        model = CharLM(3, 4, cell="lstm", num_layers=2, embedding_dim=embedding_dim, rng=0)
        logits, _ = model.forward(ids)
        seen.clear()
        model.backward(np.ones_like(logits))
        assert seen == expected, "layers run backward top down; only one-hot input skips dX"
