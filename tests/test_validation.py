"""Bad input gets a clear error naming the argument, what was expected and what came."""

import numpy as np
import pytest

import seqnn
from seqnn.data import Vocabulary, one_hot
from seqnn.models import CharLM

rnn = seqnn.Recurrent(seqnn.RNNCell(3, 4, rng=0))
lstm = seqnn.Recurrent(seqnn.LSTMCell(3, 4, rng=0))
lm = CharLM(4, 5, rng=0)
X = np.zeros((5, 2, 3))
nan_X = X.copy()
nan_X[2, 1, 0] = np.nan
ids = np.zeros((3, 2), dtype=np.int64)

CASES = {
    # wrong shapes
    "X 2-D": (lambda: rnn.forward(np.zeros((5, 3))), ValueError,
              r"X: expected shape \(T, B, D\) = \(\?, \?, 3\), got \(5, 3\)"),
    "X wrong D": (lambda: rnn.forward(np.zeros((5, 2, 7))), ValueError, r"X: .*\(\?, \?, 3\), got \(5, 2, 7\)"),
    "T = 0": (lambda: rnn.forward(np.zeros((0, 2, 3))), ValueError, r"X: expected at least one time step"),
    "h0 wrong batch": (lambda: rnn.forward(X, np.zeros((7, 4))), ValueError,
                       r"state0: expected shape \(B, H\) = \(2, 4\), got \(7, 4\)"),
    "lstm state not a pair": (lambda: lstm.forward(X, np.zeros((2, 4))), TypeError,
                              r"state0: expected a tuple \(h, c\)"),
    "lstm c wrong": (lambda: lstm.forward(X, (np.zeros((2, 4)), np.zeros((2, 5)))), ValueError,
                     r"state0.c: expected shape \(B, H\) = \(2, 4\), got \(2, 5\)"),
    "dH wrong": (lambda: (rnn.forward(X), rnn.backward(np.zeros((5, 2, 3)))), ValueError,
                 r"dH: expected shape \(T, B, H\) = \(5, 2, 4\), got \(5, 2, 3\)"),
    "linear last axis": (lambda: seqnn.Linear(4, 2).forward(np.zeros((3, 5))), ValueError,
                         r"h: expected shape \(\?, 4\), got \(3, 5\)"),
    "param assignment": (lambda: setattr(rnn.cell, "W_hh", np.zeros((4, 3))), ValueError,
                         r"W_hh: expected shape \(4, 4\), got \(4, 3\)"),
    "mask shape": (lambda: seqnn.softmax_cross_entropy(np.zeros((3, 2, 4)), ids, np.ones((2, 3), bool)),
                   ValueError, r"mask: expected shape \(3, 2\)"),
    "targets shape": (lambda: seqnn.softmax_cross_entropy(np.zeros((3, 2, 4)), ids[:2]), ValueError,
                      r"targets: expected shape \(3, 2\), got \(2, 2\)"),
    # wrong dtypes
    "X int": (lambda: rnn.forward(X.astype(np.int64)), TypeError, r"X: expected dtype float64, got int64"),
    "X float32 into float64": (lambda: rnn.forward(X.astype(np.float32)), TypeError,
                               r"X: expected dtype float64, got float32"),
    "X a list": (lambda: rnn.forward(X.tolist()), TypeError, r"X: expected a numpy array, got list"),
    "ids float": (lambda: lm.forward(ids.astype(float)), TypeError,
                  r"ids: expected an integer dtype \(token ids\), got float64"),
    "targets float": (lambda: seqnn.softmax_cross_entropy(np.zeros((3, 4)), np.zeros(3)), TypeError,
                      r"targets: expected an integer dtype"),
    "dtype arg": (lambda: seqnn.RNNCell(2, 3, dtype=np.int32), TypeError, r"dtype: expected float32 or float64"),
    "rng arg": (lambda: seqnn.RNNCell(2, 3, rng="seed"), TypeError, r"rng: expected an int seed"),
    # non-finite values
    "X nan": (lambda: rnn.forward(nan_X), ValueError, r"X: expected finite values, got nan at index \(2, 1, 0\)"),
    "h0 inf": (lambda: rnn.forward(X, np.full((2, 4), np.inf)), ValueError, r"state0: expected finite values, got inf"),
    "logits nan": (lambda: seqnn.softmax_cross_entropy(np.full((3, 4), np.nan), np.zeros(3, int)), ValueError,
                   r"logits: expected finite values"),
    "param nan": (lambda: setattr(rnn.cell, "b_h", np.full(4, np.nan)), ValueError, r"b_h: expected finite values"),
    # out-of-range token ids and values
    "ids too big": (lambda: lm.forward(np.array([[0, 7]])), ValueError, r"ids: expected ids in \[0, 4\), got 7"),
    "ids negative": (lambda: lm.forward(np.array([[-1, 0]])), ValueError, r"ids: expected ids in \[0, 4\), got -1"),
    "targets too big": (lambda: seqnn.softmax_cross_entropy(np.zeros((2, 3)), np.array([0, 3])), ValueError,
                        r"targets: expected ids in \[0, 3\), got 3"),
    "one_hot range": (lambda: one_hot(np.array([5]), 4), ValueError, r"ids: expected ids in \[0, 4\), got 5"),
    "unknown token": (lambda: Vocabulary("helo").encode("help"), ValueError,
                      r"seq: unknown token 'p' at position 3"),
    "mask values": (lambda: seqnn.softmax_cross_entropy(np.zeros((2, 3)), np.zeros(2, int), np.array([0.5, 1])),
                    ValueError, r"mask: expected booleans or 0/1"),
    # bad configuration
    "hidden size 0": (lambda: seqnn.LSTMCell(3, 0), ValueError, r"hidden_size: expected a positive int, got 0"),
    "nonlinearity": (lambda: seqnn.RNNCell(3, 4, nonlinearity="sigmoid"), ValueError,
                     r"nonlinearity: expected 'tanh' or 'relu', got 'sigmoid'"),
    "recurrent_init": (lambda: seqnn.RNNCell(3, 4, recurrent_init="eye"), ValueError, r"recurrent_init: expected"),
    "cell kind": (lambda: CharLM(4, 5, cell="gru2"), ValueError, r"cell: expected one of"),
    "reduction": (lambda: seqnn.softmax_cross_entropy(np.zeros((2, 3)), np.zeros(2, int), reduction="avg"),
                  ValueError, r"reduction: expected one of"),
    "state dict": (lambda: rnn.load_state_dict({"cell.W_xh": np.zeros((4, 3))}), ValueError,
                   r"state: missing parameters \['cell.W_hh', 'cell.b_h'\]"),
}


@pytest.mark.parametrize("case", CASES)
def test_bad_input_is_named(case):
    call, error, message = CASES[case]
    with pytest.raises(error, match=message):
        call()


def test_validation_does_not_cast_or_copy():
    assert rnn.forward(X)[0].dtype == np.float64
