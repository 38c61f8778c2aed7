"""What seqnn refuses, module by module.

``REFUSALS`` is one table keyed by module (in the order of the floors): each row
is a call, the error it must raise and a pattern its message must match, so
"what does ``LSTMCell`` refuse" is the ``CELLS`` table. The behaviour that
goes with a refusal (nothing is updated, nothing is changed) follows, module by
module; the argument sweep at the end gives every argument of the public
callables twelve bad values in turn.
"""

import atexit
import copy
import math
import re
import shutil
import tempfile
import warnings
from pathlib import Path

import numpy as np
import pytest

import seqnn
import seqnn.interop
from seqnn.app import plots
from seqnn.data import Vocabulary, lengths_to_mask, pad_sequences
from seqnn.functional import one_hot
from seqnn.models import CharLM, Seq2Seq, SequenceClassifier, SequenceTagger
from seqnn.sample import generate, next_token_distribution
from seqnn.trace import trace_step
from seqnn.train import StreamTrainer
from seqnn.viz import gradient_flow

from conftest import CELL_KINDS, make_cell


# --- what the rows call -------------------------------------------------------------------------------------------
rnn = seqnn.Recurrent(seqnn.RNNCell(3, 4, rng=0))
lstm = seqnn.Recurrent(seqnn.LSTMCell(3, 4, rng=0))
lm = CharLM(4, 5, rng=0)
X = np.zeros((5, 2, 3))
nan_X = X.copy()
nan_X[2, 1, 0] = np.nan
ids = np.zeros((3, 2), dtype=np.int64)

TAMPERED = Path(tempfile.mkdtemp(prefix="seqnn-tampered-"))      # tampered files, removed at exit
atexit.register(shutil.rmtree, TAMPERED, ignore_errors=True)


def model():
    return CharLM(4, 3, rng=0)


def logits_then_backward(dlogits):
    m = model()
    m.forward(np.zeros((3, 2), int))
    return m.backward(dlogits)


def step_with(**options):
    m = model()
    ids = np.zeros((3, 2), int)
    return seqnn.train.train_step(m, (ids,), ids, optimizer=seqnn.SGD(m), **options)


def step_inputs(inputs):
    m = model()
    return seqnn.train.train_step(m, inputs, ids, optimizer=seqnn.SGD(m))


def nan_grad():
    m = model()
    p = m.parameters()[1]
    p.grad[0, 0] = np.nan
    return m


def trained_adam(**changes):
    """Adam's state after one step, with ``changes`` made to it."""
    opt = seqnn.Adam(model())
    for p in opt.params:
        p.grad[...] = 0.1
    opt.step()
    return {**opt.state_dict(), **changes}


def adam_slots(**slots):
    return trained_adam(slots={**trained_adam()["slots"], **slots})


def trainer():
    m = model()
    return StreamTrainer(m, np.zeros((9, 2), dtype=int), 3, seqnn.SGD(m))


def trainer_state(**changes):
    t = trainer()
    return t, {**t.state_dict(), **changes}


def tampered(tmp_name, **entries):
    """The path of a saved CharLM whose archive has ``entries`` replaced (in a folder removed at exit)."""
    path = TAMPERED / tmp_name
    seqnn.io.save(model(), TAMPERED / "m.npz", Vocabulary("abcd"))
    with np.load(TAMPERED / "m.npz") as saved:
        data = {**dict(saved), **entries}
    np.savez(path, **data)
    return path


def after_forward(module, *inputs):
    """``module.backward``, preceded at every call by ``module.forward(*inputs)``."""
    def backward(**kwargs):
        module.forward(*inputs)
        return module.backward(**kwargs)
    return backward


def trainer_arguments():
    m = model()
    return dict(model=m, data=np.zeros((9, 2), int), k=3, optimizer=seqnn.SGD(m), clip_norm=None)


def train_step_arguments():
    m = model()
    return dict(model=m, inputs=(ids,), targets=ids, mask=None, optimizer=seqnn.SGD(m), clip_norm=1.0)


def nan_in(module, name):
    """``module.backward``, then a NaN written into the gradient of parameter ``name``."""
    backward = module.backward

    def broken(dy):
        dh = backward(dy)
        module.params[name].grad[0] = np.nan
        return dh
    return broken


def grads_after(make, run):
    """Every parameter gradient of ``make()`` after ``run(module, change)``, where ``change`` is called
    between forward and backward (to overwrite the caller's arrays) or does nothing."""
    out = []
    for change in (lambda arrays: None, lambda arrays: [a.fill(7) for a in arrays]):
        module = make()
        run(module, change)
        out.append([p.grad.copy() for p in module.parameters()])
    return out


# --- the refusals, module by module -------------------------------------------------------------------------------
MODULE = {
    "param assignment": (lambda: setattr(rnn.cell, "W_hh", np.zeros((4, 3))), ValueError,
                         r"W_hh: expected shape \(4, 4\), got \(4, 3\)"),
    "param nan": (lambda: setattr(rnn.cell, "b_h", np.full(4, np.nan)), ValueError, r"b_h: expected finite values"),
    "state dict": (lambda: rnn.load_state_dict({"cell.W_xh": np.zeros((4, 3))}), ValueError,
                   r"state: missing parameters \['cell.W_hh', 'cell.b_h'\]"),
    "train('no')": (lambda: model().train("no"), TypeError, r"mode: expected True or False, got str 'no'"),
    "load_state_dict(None)": (lambda: model().load_state_dict(None), TypeError,
                              r"state: expected a dict \{name: array\}"),
    "grad replaced by a wrong shape": (lambda: setattr(model().parameters()[0], "grad", np.zeros(2)), ValueError,
                                       r"W_xh.grad: expected a float64 array of shape \(3, 4\)"),
}

INIT = {
    "init bound negative": (lambda: seqnn.init.uniform((2, 2), -1, rng=0), ValueError, "bound: expected a number >= 0"),
    "init bound nan": (lambda: seqnn.init.uniform((2, 2), math.nan, rng=0), ValueError, "bound: expected a finite"),
    "xavier of a vector": (lambda: seqnn.init.xavier_uniform((3,), rng=0), ValueError,
                           r"shape: expected a matrix shape \(rows, cols\)"),
    "orthogonal of 3-D": (lambda: seqnn.init.orthogonal((3, 2, 2), rng=0), ValueError, "shape: expected a matrix"),
    "identity gain nan": (lambda: seqnn.init.identity((3, 3), gain=math.nan), ValueError, "gain: expected a finite"),
    "init dtype int": (lambda: seqnn.init.uniform((2, 2), 1.0, rng=0, dtype=int), TypeError,
                       "dtype: expected float32 or float64"),
    "default bound of 0": (lambda: seqnn.init.pytorch_default_bound(0), ValueError, "hidden_size: expected a positive"),
}

CELLS = {
    "dtype arg": (lambda: seqnn.RNNCell(2, 3, dtype=np.int32), TypeError, r"dtype: expected float32 or float64"),
    "rng arg": (lambda: seqnn.RNNCell(2, 3, rng="seed"), TypeError, r"rng: expected an int seed"),
    "hidden size 0": (lambda: seqnn.LSTMCell(3, 0), ValueError, r"hidden_size: expected a positive int, got 0"),
    "nonlinearity": (lambda: seqnn.RNNCell(3, 4, nonlinearity="sigmoid"), ValueError,
                     r"nonlinearity: expected one of 'tanh', 'relu', got 'sigmoid'"),
    "recurrent_init": (lambda: seqnn.RNNCell(3, 4, recurrent_init="eye"), ValueError, r"recurrent_init: expected"),
    "forget_bias a string": (lambda: seqnn.LSTMCell(2, 3, forget_bias="1"), TypeError,
                             "^forget_bias: expected a finite number"),
    "input_init unknown": (lambda: seqnn.GRUCell(2, 3, input_init=3), ValueError, "^input_init: expected"),
    "empty batch, cell": (lambda: seqnn.GRUCell(2, 3).forward(np.zeros((0, 2))), ValueError,
                          r"x: expected at least one example, got an empty batch"),
    "cell bias 'no'": (lambda: seqnn.RNNCell(2, 3, bias="no"), TypeError, "bias: expected True or False"),
    "dtype not a dtype": (lambda: seqnn.RNNCell(2, 3, dtype="banana"), TypeError,
                          "dtype: expected float32 or float64, got 'banana'"),
    "negative seed": (lambda: seqnn.RNNCell(2, 3, rng=-1), ValueError, "rng: expected a seed >= 0, got -1"),
    "recurrent_init of a wrong shape": (lambda: seqnn.RNNCell(2, 3, recurrent_init=lambda shape, rng: np.eye(2)),
                                        ValueError, r"recurrent_init: the callable returned float64 of shape \(2, 2\)"),
    "recurrent_init giving NaN": (lambda: seqnn.RNNCell(2, 3, recurrent_init=lambda s, r: np.full(s, np.nan)),
                                  ValueError, "recurrent_init: the callable returned NaN or inf"),
    "input_init giving a string": (lambda: seqnn.GRUCell(2, 3, input_init=lambda s, r: "x"), ValueError,
                                   "input_init: the callable returned <U1"),
}

LAYERS = {
    "linear last axis": (lambda: seqnn.Linear(4, 2).forward(np.zeros((3, 5))), ValueError,
                         r"h: expected shape \(\.\.\., 4\), got \(3, 5\)"),
    "empty batch, linear": (lambda: seqnn.Linear(3, 2).forward(np.zeros((0, 3))), ValueError,
                            r"h: expected at least one vector, got an empty batch"),
    "Linear bias 'no'": (lambda: seqnn.Linear(2, 3, bias="no"), TypeError, "bias: expected True or False"),
    "Dropout of ints": (lambda: seqnn.Dropout(0.5, rng=0).forward(np.ones((2, 2), int)), TypeError,
                        "x: expected dtype float32 or float64, got int64"),
    "Dropout backward without forward": (lambda: seqnn.Dropout(0.5, rng=0).backward(np.ones((2, 2))), RuntimeError,
                                         "without a forward"),
    "Dropout backward of a wrong shape": (
        lambda: (lambda d: (d.forward(np.ones((2, 2))), d.backward(np.ones(3))))(seqnn.Dropout(0.5, rng=0)),
        ValueError, r"dy: expected shape \(2, 2\), got \(3,\) \(the shape of the forward's x\)"),
}

LOSSES = {
    "mask shape": (lambda: seqnn.softmax_cross_entropy(np.zeros((3, 2, 4)), ids, np.ones((2, 3), bool)),
                   ValueError, r"mask: expected shape \(3, 2\)"),
    "targets shape": (lambda: seqnn.softmax_cross_entropy(np.zeros((3, 2, 4)), ids[:2]), ValueError,
                      r"targets: expected shape \(3, 2\), got \(2, 2\)"),
    "targets float": (lambda: seqnn.softmax_cross_entropy(np.zeros((3, 4)), np.zeros(3)), TypeError,
                      r"targets: expected an integer dtype"),
    "logits nan": (lambda: seqnn.softmax_cross_entropy(np.full((3, 4), np.nan), np.zeros(3, int)), ValueError,
                   r"logits: expected finite values"),
    "targets too big": (lambda: seqnn.softmax_cross_entropy(np.zeros((2, 3)), np.array([0, 3])), ValueError,
                        r"targets: expected ids in \[0, 3\), got 3"),
    "mask values": (lambda: seqnn.softmax_cross_entropy(np.zeros((2, 3)), np.zeros(2, int), np.array([0.5, 1])),
                    ValueError, r"mask: expected booleans or 0/1"),
    "reduction": (lambda: seqnn.softmax_cross_entropy(np.zeros((2, 3)), np.zeros(2, int), reduction="avg"),
                  ValueError, r"reduction: expected one of"),
    "empty batch, loss": (lambda: seqnn.softmax_cross_entropy(np.zeros((3, 0, 4)), np.zeros((3, 0), int)),
                          ValueError, r"logits: expected at least one token, got an empty batch"),
}

OPTIM = {
    "params is a method": (lambda: seqnn.Adam(model().parameters), TypeError, "call it: model.parameters()"),
    "params is empty": (lambda: seqnn.SGD([]), ValueError, "params: expected at least one Parameter"),
    "params is a string": (lambda: seqnn.SGD("W_hh"), TypeError, "params: expected a list of seqnn Parameters"),
    "params holds arrays": (lambda: seqnn.SGD([np.zeros(3)]), TypeError, "params: expected seqnn Parameters"),
    "lr is a string": (lambda: seqnn.Adam(model(), lr="0.01"), TypeError, "lr: expected a positive number, got str"),
    "lr is nan": (lambda: seqnn.Adam(model(), lr=math.nan), ValueError, "lr: expected a positive number, got nan"),
    "lr is negative": (lambda: seqnn.SGD(model(), lr=-1), ValueError, "lr: expected a positive number, got -1"),
    "lr is inf": (lambda: seqnn.SGD(model(), lr=math.inf), ValueError, "lr: expected a positive number, got inf"),
    "one beta": (lambda: seqnn.Adam(model(), betas=0.9), ValueError, r"betas: expected two numbers \(b1, b2\)"),
    "beta of 1": (lambda: seqnn.Adam(model(), betas=(0.9, 1.0)), ValueError, r"betas\[1\]: expected a number in"),
    "negative eps": (lambda: seqnn.Adam(model(), eps=-1e-8), ValueError, "eps: expected a positive number"),
    "Adagrad eps 0": (lambda: seqnn.Adagrad(model(), eps=0.0), ValueError, "eps: expected a positive number"),
    "RMSProp eps 0": (lambda: seqnn.RMSProp(model(), eps=0), ValueError, "eps: expected a positive number"),
    "rho a string": (lambda: seqnn.RMSProp(model(), rho="0.9"), TypeError, r"rho: expected a number in \[0, 1\)"),
    "momentum 1": (lambda: seqnn.SGD(model(), momentum=1.0), ValueError, r"momentum: expected a number in \[0, 1\)"),
    "schedule not callable": (lambda: seqnn.SGD(model(), lr_schedule=0.1), TypeError, "lr_schedule: expected a"),
    "schedule returns nan": (lambda: seqnn.SGD(model(), lr_schedule=lambda k: math.nan).step(), ValueError,
                             r"lr_schedule \(at step 0\): expected a positive number, got nan"),
    "schedule returns a negative": (lambda: seqnn.Adam(model(), lr_schedule=lambda k: -0.1).step(), ValueError,
                                    r"lr_schedule \(at step 0\): expected a positive number, got -0.1"),
    "step with a nan gradient": (lambda: seqnn.Adam(nan_grad()).step(), FloatingPointError,
                                 r"optimizer step 1: W_hh \(params\[1\], shape \(3, 3\)\) has a gradient of nan"),
    "clip norm a string": (lambda: seqnn.clip_grad_norm(model(), "5"), TypeError, "max_norm: expected a positive"),
    "clip norm 0": (lambda: seqnn.clip_grad_norm(model(), 0), ValueError, "max_norm: expected a positive number"),
    "clip value nan": (lambda: seqnn.clip_grad_value(model(), math.nan), ValueError, "clip_value: expected a positive"),
    "clip value of a nan gradient": (lambda: seqnn.clip_grad_value(nan_grad(), 1.0), ValueError,
                                     r"gradients: W_hh \(params\[1\], shape \(3, 3\)\) has a gradient of nan"),
    "clip norm of a nan gradient": (lambda: seqnn.clip_grad_norm(nan_grad(), 1.0), ValueError,
                                    r"W_hh \(params\[1\], shape \(3, 3\)\) has a gradient of nan"),
    "nesterov a string": (lambda: seqnn.SGD(model(), momentum=0.5, nesterov="yes"), TypeError,
                          "nesterov: expected True or False"),
    "params twice": (lambda: seqnn.SGD(model().parameters() * 2), ValueError,
                     r"params: W_xh \(params\[5\]\) appears more than once"),
    "clip of no params": (lambda: seqnn.clip_grad_norm([], 1.0), ValueError, "params: expected at least one"),
    "clip_value of no params": (lambda: seqnn.clip_grad_value(iter([]), 1.0), ValueError, "params: expected at least"),
    "optimizer state None": (lambda: seqnn.Adam(model()).load_state_dict(None), TypeError,
                             "state: expected a dict from state_dict"),
    "optimizer state without slots": (
        lambda: seqnn.Adam(model()).load_state_dict({k: v for k, v in trained_adam().items() if k != "slots"}),
        ValueError, r"state: missing \['slots'\]"),
    "optimizer state NaN slot": (
        lambda: seqnn.Adam(model()).load_state_dict(adam_slots(**{"m.0": np.full((3, 4), np.nan)})), ValueError,
        r"state: slot 'm.0' \(W_xh\) holds NaN or inf"),
    "optimizer state negative v": (
        lambda: seqnn.Adam(model()).load_state_dict(adam_slots(**{"v.1": -np.ones((3, 3))})), ValueError,
        r"slot 'v.1' \(W_hh\) is a sum of squares, yet holds a negative"),
    "optimizer state unknown slot": (
        lambda: seqnn.Adam(model()).load_state_dict(adam_slots(**{"velocity.0": np.zeros((3, 4))})), ValueError,
        r"slot 'velocity.0': Adam keeps no 'velocity' \(its slots: \['m', 'v'\]\)"),
    "optimizer state lr nan": (lambda: seqnn.Adam(model()).load_state_dict(trained_adam(lr=math.nan)), ValueError,
                               r"state\['lr'\]: expected a positive number, got nan"),
    "optimizer state lr a string": (lambda: seqnn.Adam(model()).load_state_dict(trained_adam(lr="0.1")), TypeError,
                                    r"state\['lr'\]: expected a positive number"),
    "optimizer state b1 of 2": (
        lambda: seqnn.Adam(model()).load_state_dict(trained_adam(hyper={"b1": 2.0, "b2": 0.999, "eps": 1e-8})),
        ValueError, r"state\['hyper'\]\['b1'\]: expected a number in \[0, 1\)"),
    "optimizer state steps -3": (lambda: seqnn.Adam(model()).load_state_dict(trained_adam(steps=-3)), ValueError,
                                 r"state\['steps'\]: expected an int >= 0, got -3"),
    "optimizer state steps 2.5": (lambda: seqnn.Adam(model()).load_state_dict(trained_adam(steps=2.5)), ValueError,
                                  r"state\['steps'\]: expected an int >= 0"),
}

DATA = {
    "one_hot range": (lambda: one_hot(np.array([5]), 4), ValueError, r"ids: expected ids in \[0, 4\), got 5"),
    "unknown token": (lambda: Vocabulary("helo").encode("help"), ValueError,
                      r"seq: unknown token 'p' at position 3"),
    "pad_sequences of floats": (lambda: pad_sequences([np.array([1.0, 2.0])]), TypeError,
                                r"seqs\[0\]: expected integer token ids, got dtype float64"),
    "lengths_to_mask of 0": (lambda: lengths_to_mask(np.array([2, 0]), 3), ValueError,
                             r"lengths: expected values in \[1, T\] = \[1, 3\], got 0"),
    "lengths_to_mask past T": (lambda: lengths_to_mask(np.array([4]), 3), ValueError,
                               r"lengths: expected values in \[1, T\] = \[1, 3\], got 4"),
    "lengths_to_mask of floats": (lambda: lengths_to_mask(np.array([1.5]), 3), TypeError,
                                  "lengths: expected integer lengths, got dtype float64"),
    "specials as a string": (lambda: Vocabulary("abc", specials="<pad>"), TypeError,
                             "specials: expected a list of tokens"),
    "specials twice": (lambda: Vocabulary("abc", specials=["<pad>", "<pad>"]), ValueError,
                       r"specials: each special token once, got \['<pad>'\]"),
    "mixed tokens": (lambda: Vocabulary(["a", 1, "b"]), TypeError,
                     r"tokens: expected tokens of one sortable kind .* \['int', 'str'\]"),
    "minibatches of -1": (lambda: list(seqnn.data.minibatches(-1, 2)), ValueError, "n: expected an int >= 0"),
    "minibatches of 2.5": (lambda: list(seqnn.data.minibatches(2.5, 2)), ValueError, "n: expected an int >= 0"),
    "Vocabulary(None)": (lambda: Vocabulary(None), TypeError, "tokens: expected a string or a list of tokens"),
    "Vocabulary(123)": (lambda: Vocabulary(123), TypeError, "tokens: expected a string or a list of tokens, got int"),
    "encode(None)": (lambda: Vocabulary("abc").encode(None), TypeError, "seq: expected a string or a list"),
    "decode sep None": (lambda: Vocabulary("abc").decode([0, 1], sep=None), TypeError, "sep: expected a string"),
    "vocabulary config without specials": (lambda: Vocabulary.from_config({"tokens": ["a"]}), ValueError,
                                           "vocabulary: expected a dict with 'tokens' and 'specials'"),
    "read_text(123)": (lambda: seqnn.data.read_text(123), TypeError, "paths: expected a path or a list of paths"),
    "pad_id 0.5": (lambda: pad_sequences([np.array([1, 2])], pad_id=0.5), TypeError, "pad_id: expected an int"),
    "pad_sequences negative ids": (lambda: pad_sequences([np.array([1, -2])]), ValueError,
                                   r"seqs\[0\]: expected token ids >= 0, got -2"),
    "pad_sequences of a string": (lambda: pad_sequences("abc"), TypeError, "seqs: expected a list of 1-D id arrays"),
}

GRADIENT_CHECK = {
    "gradcheck eps 0": (lambda: seqnn.gradcheck(seqnn.RNNCell(2, 2, rng=0), (np.ones((1, 2)),), eps=0), ValueError,
                        "eps: expected a positive number, got 0"),
    "gradcheck with active dropout": (
        lambda: seqnn.gradcheck(seqnn.LSTM(2, 3, num_layers=2, dropout=0.5, rng=0), (np.ones((3, 1, 2)),)),
        ValueError, r"fn: dropouts\.0 \(dropout p=0\.5\) is active \(training mode\)"),
    "numerical_gradient of ints": (lambda: seqnn.numerical_gradient(lambda: 0.0, np.ones(2, int)), TypeError,
                                   "x: expected a float numpy array"),
    "numerical_gradient of an array loss": (lambda: seqnn.numerical_gradient(lambda: np.ones(2), np.ones(2)),
                                            ValueError, "f: expected a real number"),
    "numerical_gradient of a NaN loss": (lambda: seqnn.numerical_gradient(lambda: math.nan, np.ones(2)), ValueError,
                                         "f: returned nan with entry 0 of x perturbed"),
    "gradcheck params a string": (
        lambda: seqnn.gradcheck(seqnn.Linear(2, 2, rng=0), (np.ones((1, 2)),), params="W"), TypeError,
        r"params: expected \{name: Parameter\} or a Module, got str"),
    "report tol negative": (lambda: seqnn.GradcheckReport().passed(tol=-1), ValueError, "tol: expected a positive"),
}

RECURRENT = {
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
    "X int": (lambda: rnn.forward(X.astype(np.int64)), TypeError, r"X: expected dtype float64, got int64"),
    "X float32 into float64": (lambda: rnn.forward(X.astype(np.float32)), TypeError,
                               r"X: expected dtype float64, got float32"),
    "X a list": (lambda: rnn.forward(X.tolist()), TypeError, r"X: expected a numpy array, got list"),
    "X nan": (lambda: rnn.forward(nan_X), ValueError, r"X: expected finite values, got nan at index \(2, 1, 0\)"),
    "h0 inf": (lambda: rnn.forward(X, np.full((2, 4), np.inf)), ValueError, r"state0: expected finite values, got inf"),
    "Recurrent reverse 'yes'": (lambda: seqnn.Recurrent(seqnn.RNNCell(2, 3), reverse="yes"), TypeError,
                                "reverse: expected True or False"),
    "Recurrent fast 'no'": (lambda: seqnn.Recurrent(seqnn.RNNCell(2, 3), fast="no"), TypeError,
                            "fast: expected True or False"),
    "backward input_grad 'no'": (
        lambda: after_forward(seqnn.Recurrent(seqnn.RNNCell(2, 3)), np.ones((2, 1, 2)))(dH=np.ones((2, 1, 3)),
                                                                                        input_grad="no"),
        TypeError, "input_grad: expected True or False"),
}

STACK = {
    "layer lengths negative": (lambda: seqnn.LSTM(2, 3).forward(np.ones((3, 2, 2)), None, np.array([3, -1])),
                               ValueError, r"lengths: expected values in \[1, T\] = \[1, 3\], got -1"),
    "layer lengths of floats": (lambda: seqnn.LSTM(2, 3).forward(np.ones((3, 2, 2)), None, np.array([3.0, 1.0])),
                                TypeError, "lengths: expected integer lengths, got dtype float64"),
    "layer lengths, one per sequence": (lambda: seqnn.LSTM(2, 3).forward(np.ones((3, 2, 2)), None, np.array([3])),
                                        ValueError, r"lengths: expected shape \(B,\) = \(2,\)"),
    "stack dropout": (lambda: seqnn.GRU(2, 3, num_layers=2, dropout=-0.1), ValueError, "^dropout: expected a probab"),
    "forget_bias nan": (lambda: seqnn.LSTM(2, 3, forget_bias=math.nan), ValueError, "^forget_bias: expected a finite"),
    "recurrent_init unknown": (lambda: seqnn.RNN(2, 3, recurrent_init="eye"), ValueError, "^recurrent_init: expected"),
    "empty batch, layer": (lambda: seqnn.LSTM(2, 3).forward(np.zeros((3, 0, 2))), ValueError,
                           r"X: expected at least one sequence, got an empty batch \(B = 0\)"),
    "bidirectional a string": (lambda: seqnn.LSTM(2, 3, bidirectional="no"), TypeError,
                               "bidirectional: expected True or False, got str 'no'"),
}

MODELS = {
    "ids float": (lambda: lm.forward(ids.astype(float)), TypeError,
                  r"ids: expected an integer dtype \(token ids\), got float64"),
    "ids too big": (lambda: lm.forward(np.array([[0, 7]])), ValueError, r"ids: expected ids in \[0, 4\), got 7"),
    "ids negative": (lambda: lm.forward(np.array([[-1, 0]])), ValueError, r"ids: expected ids in \[0, 4\), got -1"),
    "cell kind": (lambda: CharLM(4, 5, cell="gru2"), ValueError, r"cell: expected one of"),
    "model dropout": (lambda: CharLM(4, 3, num_layers=2, dropout="0.3"), TypeError, "^dropout: expected a probab"),
    "dlogits of a wrong shape": (lambda: logits_then_backward(np.ones((3, 2, 5))), ValueError,
                                 r"^dlogits: expected shape \(3, 2, 4\)"),
    "empty batch, model": (lambda: model().forward(np.zeros((3, 0), int)), ValueError,
                           r"ids: expected at least one time step and one sequence, got shape \(3, 0\)"),
    "model fast 'no'": (lambda: CharLM(4, 3, fast="no"), TypeError, "fast: expected True or False"),
    "Seq2Seq bos_id 1.5": (lambda: Seq2Seq(4, 4, 3, bos_id=1.5), ValueError, r"bos_id: expected an id in \[0, 4\)"),
    "Seq2Seq bos_id True": (lambda: Seq2Seq(4, 4, 3, bos_id=True), ValueError, "bos_id: expected an id"),
    "Seq2Seq eos_id a string": (lambda: Seq2Seq(4, 4, 3, eos_id="2"), ValueError, "eos_id: expected an id"),
    "classifier backward without forward": (lambda: SequenceClassifier(4, 2, 3).backward(np.zeros((2, 2))),
                                            RuntimeError, "without a forward"),
    "Seq2Seq tgt_in of no steps": (lambda: Seq2Seq(4, 4, 3).forward(ids, np.zeros((0, 2), int)), ValueError,
                                   "tgt_in: expected at least one time step"),
    "teacher forcing of no steps": (lambda: Seq2Seq(4, 4, 3).teacher_forcing_inputs(np.zeros((0, 2), int)),
                                    ValueError, "tgt: expected at least one time step"),
}

TRAIN = {
    "clip_norm negative in train_step": (lambda: step_with(clip_norm=-1), ValueError, "^clip_norm: expected"),
    "clip_norm a string in truncated_bptt": (
        lambda: seqnn.train.truncated_bptt(model(), np.zeros((4, 2), int), np.zeros((4, 2), int), 2, clip_norm="5"),
        TypeError, "^clip_norm: expected a positive number"),
    "StreamTrainer clip_norm a string": (
        lambda: seqnn.train.StreamTrainer(model(), np.zeros((9, 2), int), 3, seqnn.SGD(model()), clip_norm="5"),
        TypeError, "^clip_norm: expected a positive number"),
    "train_step without an optimizer": (lambda: seqnn.train.train_step(model(), (ids,), ids, optimizer=None),
                                        TypeError, "optimizer: expected an optimizer such as seqnn.Adam"),
    "train_step inputs not a tuple": (lambda: step_inputs(ids), TypeError,
                                      r"inputs: expected a tuple of forward's arguments, such as \(ids,\)"),
    "truncated_bptt optimizer a string": (
        lambda: seqnn.train.truncated_bptt(model(), ids, ids, 2, optimizer="adam"), TypeError,
        "optimizer: expected an optimizer"),
    "StreamTrainer without an optimizer": (lambda: StreamTrainer(model(), np.zeros((9, 2), int), 3, None),
                                           TypeError, "optimizer: expected an optimizer"),
    "trainer state without keys": (lambda: trainer().load_state_dict({"data_shape": [9, 2]}), ValueError,
                                   r"state: missing \['epoch', 'chunk', 'steps', 'state', 'optimizer', 'generators'\]"),
    "trainer state chunk past the epoch": (lambda: (lambda t, s: t.load_state_dict(s))(*trainer_state(chunk=99)),
                                           ValueError, r"state\['chunk'\]: expected a chunk in \[0, 2\) .*, got 99"),
    "trainer state of a wrong shape": (
        lambda: (lambda t, s: t.load_state_dict(s))(*trainer_state(state=[np.zeros((5, 5))])),
        ValueError, r"state\['state'\]: the carried state does not fit the model \(state0: expected shape"),
    "trainer state of a foreign generator": (
        lambda: (lambda t, s: t.load_state_dict(s))(*trainer_state(generators=[{"bit_generator": "MT19937"}])),
        ValueError, "random generators saved"),
    "evaluate a tagger": (lambda: seqnn.train.evaluate(SequenceTagger(4, 4, 3), np.zeros(10, int), 2, 2), TypeError,
                          r"model: expected forward\(ids, state\) -> \(logits \(T, B, V\), state\)"),
    "truncated_bptt of a tagger": (
        lambda: seqnn.train.truncated_bptt(SequenceTagger(4, 4, 3), ids, ids, 2), TypeError,
        "SequenceTagger.forward returned something else"),
    "evaluate a layer": (lambda: seqnn.train.evaluate(seqnn.LSTM(2, 3), np.zeros(10, int), 2, 2), TypeError,
                         "model: expected a language model with vocab_size"),
}

SAMPLE = {
    "n negative": (lambda: generate(model(), np.array([1]), -1), ValueError, "n: expected an int >= 0, got -1"),
    "n a float": (lambda: generate(model(), np.array([1]), 2.5), ValueError, "n: expected an int >= 0, got 2.5"),
    "top_k 0": (lambda: generate(model(), np.array([1]), 3, top_k=0), ValueError,
                r"top_k: expected an int in \[1, 4\]"),
    "top_k a float": (lambda: generate(model(), np.array([1]), 3, top_k=2.0), ValueError, "top_k: expected an int"),
    "temperature nan": (lambda: generate(model(), np.array([1]), 3, temperature=math.nan), ValueError,
                        "temperature: expected a positive number"),
    "temperature a string": (lambda: generate(model(), np.array([1]), 3, temperature="1"), TypeError,
                             "temperature: expected a positive number"),
    "text temperature False": (lambda: seqnn.sample.generate_text(model(), Vocabulary("abcd"), np.array([1]), 3,
                                                                  temperature=False), TypeError,
                               "temperature: expected a positive number, got bool"),
    "NaN logits": (lambda: next_token_distribution(np.array([0.0, np.nan])), ValueError,
                   "logits: expected finite values, got NaN or inf"),
    "generate greedy 'yes'": (lambda: generate(model(), np.array([1]), 3, greedy="yes"), TypeError,
                              "greedy: expected True or False"),
    "generate from a tagger": (lambda: generate(SequenceTagger(4, 2, 3, rng=0), np.array([1]), 3), TypeError,
                               r"model: expected forward\(ids, state\) -> \(logits \(T, B, V\), state\)"),
    "generate from a layer": (lambda: generate(seqnn.Linear(2, 3), np.array([1]), 3), TypeError,
                              "model: expected a language model with vocab_size"),
    "distribution of a matrix": (lambda: next_token_distribution(np.zeros((2, 3))), ValueError,
                                 r"logits: expected a non-empty 1-D float array \(V,\), got float64 of shape \(2, 3\)"),
    "distribution of nothing": (lambda: next_token_distribution(np.zeros(0)), ValueError,
                                "logits: expected a non-empty"),
    "distribution of a string": (lambda: next_token_distribution("abc"), ValueError, "logits: expected a non-empty"),
}

TRACE = {
    "trace of a Linear": (lambda: trace_step(seqnn.Linear(2, 3), np.ones(2), file=None), TypeError,
                          "cell: expected a seqnn Cell"),
    "trace of a list": (lambda: trace_step(seqnn.RNNCell(2, 3), [1.0, 2.0], file=None), TypeError,
                        r"x: expected a numpy array of shape \(D,\) or \(B, D\), got list"),
    "trace out of a wrong size": (lambda: trace_step(seqnn.RNNCell(2, 3), np.ones(2), out=seqnn.Linear(4, 2),
                                                     file=None), ValueError, r"out: expected a Linear with in_"),
    "trace labels, one too few": (lambda: trace_step(seqnn.RNNCell(2, 3), np.ones(2), out=seqnn.Linear(3, 2),
                                                     labels=["a"], file=None), ValueError,
                                  r"labels: expected one name per output of out \(2\), got 1"),
    "trace precision -1": (lambda: trace_step(seqnn.RNNCell(2, 3), np.ones(2), precision=-1, file=None), ValueError,
                           "precision: expected an int >= 0"),
    "trace file a path": (lambda: trace_step(seqnn.RNNCell(2, 3), np.ones(2), file="out.txt"), TypeError,
                          "file: expected a stream"),
}

VIZ = {
    "gradient_flow of a string": (lambda: gradient_flow("lstm"), TypeError, "cell: expected a seqnn Cell"),
    "gradient_flow batch 0": (lambda: gradient_flow(seqnn.RNNCell(2, 3), batch_size=0), ValueError,
                              "batch_size: expected a positive int, got 0"),
    "plot_gradient_flow kinds a string": (lambda: seqnn.viz.plot_gradient_flow(kinds="lstm"), ValueError,
                                          "kinds: expected a list of cell kinds"),
}

PLOTS = {
    "plot_training lengths differ": (lambda: plots.plot_training([1, 2], [1.0], [], [], "x.png"), ValueError,
                                     r"train_bpc: expected one value per entry of steps, shape \(2,\), got \(1,\)"),
    "plot_training NaN": (lambda: plots.plot_training([1], [math.nan], [], [], "x.png"), ValueError,
                          "train_bpc: expected finite values"),
    "plot_training into no folder": (lambda: plots.plot_training([1], [1.0], [], [], "/no/such/folder/x.png"),
                                     FileNotFoundError, "path: the folder of /no/such/folder/x.png does not exist"),
}

IO = {
    "save to a folder": (lambda: seqnn.io.save(model(), "/tmp"), IsADirectoryError,
                         "path: /tmp is a folder; expected a file path such as /tmp/model.npz"),
    "save a vocabulary string": (lambda: seqnn.io.save(model(), "m.npz", "abcd"), TypeError,
                                 "vocab: expected a seqnn.data.Vocabulary"),
    "save training of objects": (lambda: seqnn.io.save(model(), "m.npz", training={"a": np.array([object()])}),
                                 TypeError, "training: cannot store an array of Python objects at __training__/a"),
    "save training keys that collide": (
        lambda: seqnn.io.save(model(), "m.npz", training={"a/b": np.zeros(2), "a": {"b": np.ones(2)}}),
        ValueError, "training: two entries are stored as __training__/a/b"),
    "load integer parameters": (lambda: seqnn.io.load(tampered("int.npz", **{"out.W_hy": np.zeros((4, 3), int)})),
                                ValueError, r"is not a valid seqnn model file \(parameter out.W_hy is int64"),
    "load an unknown class": (lambda: seqnn.io.load(tampered("cls.npz", __class__=np.array("Transformer"))),
                              ValueError, r"is not a valid seqnn model file \(unknown model class 'Transformer'"),
    "load a training record of broken JSON": (
        lambda: seqnn.io.load_checkpoint(tampered("json.npz", __training__=np.array("{bad json"))), ValueError,
        r"is not a valid seqnn model file \(Expecting property name"),
    "load a training record pointing at no array": (
        lambda: seqnn.io.load_checkpoint(tampered("arr.npz", __training__=np.array('{"x": {"__array__": "gone"}}'))),
        ValueError, r"is not a valid seqnn model file \('gone"),
}

INTEROP = {
    "torch_module of a string": (lambda: seqnn.interop.torch_module("x"), TypeError,
                                 "obj: cannot build a PyTorch module for a str"),
    "torch_module of a Seq2Seq": (lambda: seqnn.interop.torch_module(Seq2Seq(4, 4, 3)), TypeError,
                                  "obj: cannot build a PyTorch module for a Seq2Seq"),
    "to_torch of a cell": (lambda: seqnn.interop.to_torch(seqnn.LSTMCell(2, 3)), TypeError,
                           r"obj: expected a RecurrentStack \(RNN/LSTM/GRU\)"),
    "nonlinearity for an LSTM": (
        lambda: seqnn.interop.from_torch(seqnn.interop.stack_state_dict(seqnn.LSTM(2, 3)), nonlinearity="relu"),
        ValueError, "nonlinearity: only a vanilla RNN has one; these weights are a 'lstm'"),
}

REFUSALS = {                                             # one table, keyed by module (floor order)
    "module": MODULE, "init": INIT, "cells": CELLS, "layers": LAYERS, "losses": LOSSES, "optim": OPTIM, "data": DATA,
    "gradient_check": GRADIENT_CHECK, "recurrent": RECURRENT, "stack": STACK, "models": MODELS, "train": TRAIN,
    "sample": SAMPLE, "trace": TRACE, "viz": VIZ, "io": IO, "interop": INTEROP, "app.plots": PLOTS
}


@pytest.mark.parametrize("module, case", [(m, case) for m, rows in REFUSALS.items() for case in rows])
def test_bad_input_is_refused_by_name(module, case):
    call, error, message = REFUSALS[module][case]
    with pytest.raises(error, match=message):
        call()


# --- module: the behaviour that goes with a refusal ----------------------------------------------------------------
def test_gradient_replaced_in_place_still_works():
    """``p.grad += g`` goes through the checked setter with the same array: allowed, and cheap."""
    p = model().parameters()[0]
    g = p.grad
    p.grad += 1.0
    p.grad = np.ones_like(p.value)
    assert p.grad is not g and p.grad.sum() == p.value.size


# --- layers: the behaviour that goes with a refusal ----------------------------------------------------------------
def test_changing_h_or_ids_between_forward_and_backward_changes_no_gradient():
    rng = np.random.default_rng(1)
    h, token_ids = rng.standard_normal((3, 4)), rng.integers(0, 5, (3, 2))

    def linear_run(linear, change):
        h_ = h.copy()
        linear.forward(h_)
        change([h_])
        linear.backward(np.ones((3, 2)))

    def embedding_run(embedding, change):
        ids_ = token_ids.copy()
        embedding.forward(ids_)
        change([ids_])
        embedding.backward(np.ones((3, 2, 4)))

    for make, run in ((lambda: seqnn.Linear(4, 2, rng=0), linear_run),
                      (lambda: seqnn.Embedding(8, 4, rng=0), embedding_run)):
        untouched, changed = grads_after(make, run)
        for a, b in zip(untouched, changed):
            np.testing.assert_array_equal(a, b)


# --- optim: the behaviour that goes with a refusal -----------------------------------------------------------------
def test_a_nan_gradient_updates_nothing():
    m = nan_grad()
    before = [p.value.copy() for p in m.parameters()]
    opt = seqnn.Adam(m, lr=0.1)
    with pytest.raises(FloatingPointError):
        opt.step()
    assert all(np.array_equal(b, p.value) for b, p in zip(before, m.parameters())) and opt.steps == 0


def test_the_global_norm_of_huge_finite_float32_gradients_does_not_overflow():
    m = CharLM(4, 3, dtype=np.float32, rng=0)
    for p in m.parameters():
        p.grad[...] = 1e20                                    # squares overflow float32
    n = sum(p.grad.size for p in m.parameters())
    assert seqnn.optim.grad_norm(m) == pytest.approx(1e20 * math.sqrt(n), rel=1e-6)
    norm = seqnn.clip_grad_norm(m, 1.0)
    assert math.isfinite(norm) and seqnn.optim.grad_norm(m) == pytest.approx(1.0, rel=1e-5)


def test_a_refused_optimizer_state_changes_nothing():
    opt = seqnn.Adam(model(), lr=0.01)
    before = opt.state_dict()
    bad = adam_slots(**{"v.4": np.full(4, -1.0)})             # the last slot is bad: the others come first
    with pytest.raises(ValueError, match="sum of squares"):
        opt.load_state_dict(bad)
    after = opt.state_dict()
    assert after["steps"] == before["steps"] == 0 and after["lr"] == 0.01 and after["slots"] == {}


# --- gradient_check: the behaviour that goes with a refusal --------------------------------------------------------
def test_gradcheck_of_a_dropout_model_in_evaluation_mode_passes():
    m = seqnn.LSTM(2, 3, num_layers=2, dropout=0.5, rng=0).eval()
    assert seqnn.gradcheck(m, (np.random.default_rng(0).standard_normal((3, 2, 2)),)).passed()


def test_a_nan_gradient_fails_gradcheck_wherever_its_row_is():
    """relative_error scores NaN as inf: a NaN compares as neither worse nor better than anything,
    so max() over the rows could have hidden it behind a good row."""
    assert seqnn.relative_error(np.array([np.nan, 1.0]), np.array([1.0, 1.0])) == math.inf
    for name in ("W_hy", "b_y"):
        m = seqnn.Linear(2, 2, rng=0)
        m.backward = nan_in(m, name)
        report = seqnn.gradcheck(m, (np.ones((1, 2)),))
        assert not report.passed() and report.worst == name and report.failures() == [name]


# --- recurrent: the behaviour that goes with a refusal -------------------------------------------------------------
def test_validation_does_not_cast_or_copy():
    assert rnn.forward(X)[0].dtype == np.float64


@pytest.mark.parametrize("fast", [True, False])
@pytest.mark.parametrize("kind", ["rnn", "lstm", "gru"])
def test_a_second_backward_after_one_forward_raises(kind, fast):
    """The fast loops overwrite the gate cache during backward: a second backward would be silently wrong."""
    layer = seqnn.Recurrent(seqnn.cells.make_cell(kind, 2, 3, rng=0), fast=fast)
    H, _ = layer.forward(np.ones((4, 2, 2)))
    layer.backward(np.ones_like(H))
    with pytest.raises(RuntimeError, match=r"backward\(\) called without a forward\(\) to match"):
        layer.backward(np.ones_like(H))
    m = CharLM(4, 3, cell=kind, rng=0)
    logits, _ = m.forward(np.zeros((3, 2), dtype=int))
    m.backward(np.ones_like(logits))
    with pytest.raises(RuntimeError, match="without a forward"):
        m.backward(np.ones_like(logits))


def test_backward_belongs_to_the_latest_forward():
    """Two forwards, then one backward: the gradients are those of the second forward (documented)."""
    rng = np.random.default_rng(0)
    X1, X2, dH = rng.standard_normal((3, 2, 2)), rng.standard_normal((3, 2, 2)), rng.standard_normal((3, 2, 3))
    a, b = seqnn.LSTM(2, 3, rng=0), seqnn.LSTM(2, 3, rng=0)
    a.forward(X1)
    a.forward(X2)
    b.forward(X2)
    np.testing.assert_array_equal(a.backward(dH)[0], b.backward(dH)[0])


@pytest.mark.parametrize("fast", [True, False])
@pytest.mark.parametrize("name", CELL_KINDS)
def test_changing_the_inputs_between_forward_and_backward_changes_no_gradient(name, fast):
    """A forward keeps a copy of what its backward reads (X, the initial state, h, ids); it used to keep
    the caller's arrays, so overwriting them before backward silently changed the weight gradients."""
    rng = np.random.default_rng(0)
    X, dH = rng.standard_normal((4, 2, 3)), rng.standard_normal((4, 2, 5))
    states = [rng.standard_normal((2, 5)) for _ in range(2)]
    cell_state = lambda cell, s: tuple(s) if len(cell.state_names) == 2 else s[0]   # noqa: E731

    def layer_run(layer, change):
        X_, s_ = X.copy(), [s.copy() for s in states]
        layer.forward(X_, cell_state(layer.cell, s_))
        change([X_, *s_])
        layer.backward(dH)

    def cell_run(cell, change):
        x_, s_ = X[0].copy(), [s.copy() for s in states]
        cell.forward(x_, cell_state(cell, s_))
        change([x_, *s_])
        cell.backward(*dH[:len(cell.state_names)])

    for make, run in ((lambda: seqnn.Recurrent(make_cell(name, 3, 5, rng=0), fast=fast), layer_run),
                      (lambda: make_cell(name, 3, 5, rng=0), cell_run)):
        untouched, changed = grads_after(make, run)
        for a, b in zip(untouched, changed):
            np.testing.assert_array_equal(a, b)


# --- train: the behaviour that goes with a refusal -----------------------------------------------------------------
def test_truncated_bptt_names_the_chunk_that_diverged_and_keeps_the_history(monkeypatch):
    from seqnn.train import DivergedError, truncated_bptt
    m = CharLM(4, 3, rng=0)
    ids = np.random.default_rng(0).integers(0, 4, (31, 2))
    opt = seqnn.SGD(m, lr=0.1)
    forward, calls = m.forward, []

    def diverging(x, state0=None, check=True):                # the second chunk's logits are NaN
        calls.extend([1] if m.training else [])               # (not the one-token look in evaluation mode)
        logits, state = forward(x, state0, check=check)
        return (logits * np.nan if len(calls) == 2 else logits), state

    monkeypatch.setattr(m, "forward", diverging)
    with pytest.raises(DivergedError, match=r"chunk 2 of 3 \(steps 10\.\.19\): the outputs are not finite") as info:
        truncated_bptt(m, ids[:-1], ids[1:], 10, optimizer=opt)
    assert len(info.value.history.losses) == 1 and info.value.chunk == 1 and isinstance(info.value, FloatingPointError)
    assert opt.steps == 1                                     # chunk 2 updated nothing


def test_an_optimizer_for_another_model_is_refused():
    from seqnn.train import train_step, truncated_bptt
    m, other = CharLM(4, 3, rng=0), CharLM(4, 3, rng=1)
    ids = np.zeros((5, 2), dtype=int)
    with pytest.raises(ValueError, match="optimizer: holds none of the model's parameters"):
        truncated_bptt(m, ids[:-1], ids[1:], 2, optimizer=seqnn.SGD(other))
    with pytest.raises(ValueError, match="optimizer: holds none of the model's parameters"):
        train_step(m, (ids[:-1],), ids[1:], optimizer=seqnn.Adam(other))


def test_train_step_names_the_step_of_a_non_finite_loss():
    from seqnn.train import DivergedError, train_step
    m = seqnn.Linear(2, 1, dtype=np.float32, rng=0)
    opt = seqnn.SGD(m, lr=0.1)
    x, y = np.full((3, 2), 1e20, np.float32), np.zeros((3, 1), np.float32)   # (1e20)^2 overflows float32
    with pytest.raises(DivergedError, match=r"step 1: the loss is inf .* nothing was updated"):
        train_step(m, (x,), y, optimizer=opt, loss=seqnn.mean_squared_error)


def test_a_refused_trainer_state_changes_nothing():
    t, good = trainer_state()
    t.step()
    saved = t.state_dict()
    generator_state = [g.bit_generator.state for g in t.model.generators()]
    bad = {**good, "state": [np.zeros((5, 5))], "chunk": 1}
    with pytest.raises(ValueError, match="does not fit"):
        t.load_state_dict(bad)
    now = t.state_dict()
    assert (now["chunk"], now["steps"], now["optimizer"]["steps"]) == (saved["chunk"], saved["steps"], 1)
    np.testing.assert_array_equal(now["state"][0], saved["state"][0])
    assert [g.bit_generator.state for g in t.model.generators()] == generator_state


def test_train_step_stops_at_non_finite_outputs_before_the_loss(monkeypatch):
    from seqnn.train import DivergedError, train_step
    m = model()
    opt = seqnn.SGD(m, lr=0.1)
    before = [p.value.copy() for p in m.parameters()]
    forward = m.forward
    monkeypatch.setattr(m, "forward", lambda x, state0=None, check=True: (forward(x, state0)[0] * np.inf, None))
    with pytest.raises(DivergedError, match=r"step 1: the outputs are not finite .* nothing was updated"):
        train_step(m, (ids,), ids, optimizer=opt)
    assert all(np.array_equal(b, p.value) for b, p in zip(before, m.parameters())) and opt.steps == 0


# --- the argument sweep: every argument of the public callables, replaced in turn by each of these values (the
# others kept valid); the call either accepts it (None is often a default, 0 a valid seed) or raises a TypeError
# or ValueError (FileNotFoundError for a path) whose message names that argument. A raw AttributeError, a numpy
# error, or a message naming another argument is a failure.
BAD_VALUES = {"None": None, "a string": "x", "-1": -1, "0": 0, "1.5": 1.5, "nan": math.nan, "inf": math.inf,
              "a list": [], "a dict": {}, "True": True, "a matrix": np.zeros((2, 2)), "an object": object()}


def argument_table(folder):
    """name -> (callable, valid keyword arguments)."""
    return {
        "RNNCell": (seqnn.RNNCell, dict(input_size=2, hidden_size=3, bias=True, nonlinearity="tanh",
                                        dtype=np.float64, rng=0)),
        "LSTMCell": (seqnn.LSTMCell, dict(input_size=2, hidden_size=3, forget_bias=1.0, rng=0)),
        "GRUCell": (seqnn.GRUCell, dict(input_size=2, hidden_size=3, rng=0)),
        "LSTM": (seqnn.LSTM, dict(input_size=2, hidden_size=3, num_layers=2, bidirectional=False, dropout=0.1,
                                  rng=0)),
        "Linear": (seqnn.Linear, dict(in_features=2, out_features=3, bias=True, rng=0)),
        "Embedding": (seqnn.Embedding, dict(num_embeddings=4, embedding_dim=3, rng=0)),
        "OneHot": (seqnn.OneHot, dict(num_classes=4)),
        "Dropout": (seqnn.Dropout, dict(p=0.5, rng=0)),
        "CharLM": (CharLM, dict(vocab_size=4, hidden_size=3, cell="lstm", num_layers=1, dropout=0.0,
                                embedding_dim=None, rng=0)),
        "SequenceClassifier": (SequenceClassifier, dict(vocab_size=4, num_classes=2, hidden_size=3, cell="gru", rng=0)),
        "SequenceTagger": (SequenceTagger, dict(vocab_size=4, num_tags=2, hidden_size=3, bidirectional=True, rng=0)),
        "Seq2Seq": (Seq2Seq, dict(src_vocab_size=4, tgt_vocab_size=4, hidden_size=3, embedding_dim=2, bos_id=1,
                                  eos_id=2, rng=0)),
        "SGD": (seqnn.SGD, dict(params=model(), lr=0.1, momentum=0.5, nesterov=True)),
        "Adagrad": (seqnn.Adagrad, dict(params=model(), lr=0.1, eps=1e-8)),
        "RMSProp": (seqnn.RMSProp, dict(params=model(), lr=0.1, rho=0.9, eps=1e-8)),
        "Adam": (seqnn.Adam, dict(params=model(), lr=0.1, betas=(0.9, 0.99), eps=1e-8)),
        "clip_grad_norm": (seqnn.clip_grad_norm, dict(params=model(), max_norm=1.0, norm=None)),
        "clip_grad_value": (seqnn.clip_grad_value, dict(params=model(), clip_value=1.0)),
        "Vocabulary": (Vocabulary, dict(tokens="abc", specials=("<pad>",))),
        "batchify": (seqnn.data.batchify, dict(ids=np.arange(10), batch_size=2)),
        "pad_sequences": (pad_sequences, dict(seqs=[np.array([1, 2])], pad_id=0)),
        "lengths_to_mask": (lengths_to_mask, dict(lengths=np.array([1, 2]), T=3)),
        "adding_problem": (seqnn.data.adding_problem, dict(T=4, batch_size=2, rng=0, dtype=np.float64)),
        "one_hot": (one_hot, dict(ids=np.array([1]), num_classes=3)),
        "softmax_cross_entropy": (seqnn.softmax_cross_entropy, dict(logits=np.zeros((3, 2, 4)), targets=ids,
                                                                    mask=None, reduction="mean")),
        "mean_squared_error": (seqnn.mean_squared_error, dict(pred=np.zeros((2, 1)), target=np.zeros((2, 1)))),
        "generate": (generate, dict(model=model(), prefix=np.array([1]), n=3, greedy=False, temperature=1.0,
                                    top_k=2, rng=0)),
        "next_token_distribution": (next_token_distribution, dict(logits=np.zeros(3), temperature=1.0, top_k=2)),
        "truncated_bptt": (seqnn.train.truncated_bptt, dict(model=model(), inputs=ids, targets=ids, k=2,
                                                            clip_norm=1.0)),
        "evaluate": (seqnn.train.evaluate, dict(model=model(), ids=np.zeros(10, int), k=2, batch_size=2)),
        "minibatches": (lambda **kw: list(seqnn.data.minibatches(**kw)), dict(n=5, batch_size=2, rng=0)),
        "init.uniform": (seqnn.init.uniform, dict(shape=(2, 2), bound=1.0, rng=0, dtype=np.float64)),
        "init.orthogonal": (seqnn.init.orthogonal, dict(shape=(2, 3), rng=0, gain=1.0, dtype=np.float64)),
        "init.identity": (seqnn.init.identity, dict(shape=(2, 2), gain=1.0, dtype=np.float64)),
        "init.xavier_uniform": (seqnn.init.xavier_uniform, dict(shape=(2, 3), rng=0)),
        "gradient_flow": (gradient_flow, dict(cell=seqnn.RNNCell(2, 3, rng=0), T=5, batch_size=2, rng=0)),
        "numerical_gradient": (seqnn.numerical_gradient, dict(f=lambda: 0.0, x=np.ones(2), eps=1e-3, order=4)),
        "relative_error": (seqnn.relative_error, dict(analytic=np.ones(2), numeric=np.ones(2))),
        "trace_step": (trace_step, dict(cell=seqnn.RNNCell(2, 3, rng=0), x=np.ones(2), state=None, precision=3,
                                        file=None)),
        "io.save": (seqnn.io.save, dict(model=model(), path=folder / "saved.npz", vocab=None, training=None)),
        "io.load": (seqnn.io.load, dict(path=folder / "model.npz", into=None)),
        # methods (a backward runs after a forward of valid input)
        "Recurrent.forward": (seqnn.Recurrent(seqnn.LSTMCell(2, 3, rng=0)).forward,
                              dict(X=np.ones((3, 2, 2)), state0=None, lengths=None)),
        "Recurrent.backward": (after_forward(seqnn.Recurrent(seqnn.LSTMCell(2, 3, rng=0)), np.ones((3, 2, 2))),
                               dict(dH=np.ones((3, 2, 3)), dstate_T=None, input_grad=True)),
        "LSTMCell.forward": (seqnn.LSTMCell(2, 3, rng=0).forward, dict(x=np.ones((2, 2)), state=None)),
        "GRU.forward": (seqnn.GRU(2, 3, bidirectional=True, rng=0).forward,
                        dict(X=np.ones((3, 2, 2)), state0=None, lengths=np.array([3, 2]))),
        "GRU.backward": (after_forward(seqnn.GRU(2, 3, num_layers=2, rng=0), np.ones((3, 2, 2))),
                         dict(doutput=np.ones((3, 2, 3)), dstate_T=None, input_grad=True)),
        "Linear.forward": (seqnn.Linear(2, 3, rng=0).forward, dict(h=np.ones((2, 2)))),
        "Linear.backward": (after_forward(seqnn.Linear(2, 3, rng=0), np.ones((2, 2))), dict(dy=np.ones((2, 3)))),
        "Embedding.forward": (seqnn.Embedding(4, 3, rng=0).forward, dict(ids=ids)),
        "CharLM.forward": (model().forward, dict(ids=ids, state0=None)),
        "CharLM.backward": (after_forward(model(), ids), dict(dlogits=np.ones((3, 2, 4)), dstate_T=None)),
        "SequenceClassifier.forward": (SequenceClassifier(4, 2, 3, rng=0).forward, dict(ids=ids, lengths=None)),
        "SequenceTagger.predict": (SequenceTagger(4, 2, 3, rng=0).predict, dict(ids=ids, lengths=np.array([3, 1]))),
        "Seq2Seq.forward": (Seq2Seq(4, 4, 3, rng=0).forward, dict(src=ids, tgt_in=ids, src_lengths=None)),
        "Seq2Seq.greedy_decode": (Seq2Seq(4, 4, 3, rng=0).greedy_decode, dict(src=ids, max_len=3, src_lengths=None)),
        "Module.load_state_dict": (model().load_state_dict, dict(state=model().state_dict())),
        "Module.train": (model().train, dict(mode=False)),
        "Optimizer.load_state_dict": (seqnn.Adam(model()).load_state_dict, dict(state=trained_adam())),
        "StreamTrainer": (StreamTrainer, trainer_arguments()),
        "train_step": (seqnn.train.train_step, train_step_arguments()),
        "gradcheck": (seqnn.gradcheck, dict(fn=seqnn.Linear(2, 2, rng=0), inputs=(np.ones((1, 2)),), backward=None,
                                            params=None, eps=1e-3, order=4, rng=0)),
        "Vocabulary.encode": (Vocabulary("abc").encode, dict(seq="cab")),
        "Vocabulary.decode": (Vocabulary("abc").decode, dict(ids=np.array([0, 1]), sep="")),
        "plot_training": (plots.plot_training, dict(steps=[1, 2], train_bpc=[2.0, 1.9], val_steps=[2],
                                                        val_bpc=[1.8], path=folder / "loss.png")),
        "plot_gradient_flow": (seqnn.viz.plot_gradient_flow, dict(kinds=("rnn",), T=3, input_size=2, hidden_size=3,
                                                                  rng=0)),
        "from_torch": (seqnn.interop.from_torch, dict(source=seqnn.interop.stack_state_dict(seqnn.GRU(2, 3, rng=0)),
                                                      kind="gru", nonlinearity=None, dtype=None)),
        "load_checkpoint": (seqnn.io.load_checkpoint, dict(path=folder / "model.npz", into=None)),
    }


@pytest.mark.parametrize("target", list(argument_table(Path())))
def test_every_argument_refuses_bad_values_by_name(target, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)                              # io.save(path="x") is a valid save: not here
    seqnn.io.save(model(), tmp_path / "model.npz")
    call, valid = argument_table(tmp_path)[target]
    unnamed = []
    for argument in valid:
        for what, bad in BAD_VALUES.items():
            kwargs = {**copy.deepcopy(valid), argument: bad}     # fresh models: a call may have changed them
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    call(**kwargs)
            except (TypeError, ValueError, FileNotFoundError) as err:
                if re.search(rf"\b{re.escape(argument)}\b", str(err)):
                    continue
                unnamed.append(f"{argument}={what}: {type(err).__name__}: {err}")
            except Exception as err:                         # noqa: BLE001  (any other kind is a raw error)
                unnamed.append(f"{argument}={what}: {type(err).__name__}: {err}")
    assert not unnamed, "\n".join(unnamed)
