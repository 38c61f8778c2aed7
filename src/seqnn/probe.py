"""What a trained character model learned: its activations, gate saturation, units that track the text, and
how far back its gradient reaches (``seqnn inspect`` draws them: ``seqnn.app.inspect``).

After Karpathy, Johnson and Fei-Fei (2015), "Visualizing and Understanding
Recurrent Networks": a gate is *left-saturated* at a step when its activation is
below 0.1 and *right-saturated* above 0.9; a unit *tracks* a feature of the
text (inside a quotation, the position in the line) when its value follows
that feature through the text. Everything here comes from the model's own
code: the activations from ``Recurrent.record`` (the engine's readable loop,
``cell.step``), the gradients from the model's own backward pass.

    acts = activations(model, ids)                  # one forward pass, every value named
    saturation(acts)                                # {(layer, gate): (left (H,), right (H,))}
    feature_units(acts, text)                       # [Tracker(feature, layer, part, unit, r), ...]
    gradient_reach(model, ids, acts, lags=100)      # (mean |dE_t/dx_(t-k)| for k = 0..K, reach)
    top_predictions(acts, vocab, k=5)               # the 5 likeliest next characters at each position
"""

from __future__ import annotations

from typing import Callable, NamedTuple

import re

import numpy as np

from ._checks import check_int_array, check_positive_int
from .cells import public_state
from .functional import softmax
from .models import CharLM, evaluating

LOW, HIGH = 0.1, 0.9                                  # the paper's thresholds for a saturated gate
SIGMOID_GATES = {"lstm": ("i", "f", "o"), "gru": ("r", "z"), "rnn": ()}     # the gates that open and close


# --- one forward pass, every value named ----------------------------------------------------------------------
class Activations(NamedTuple):
    """What one forward pass over a text computed.

    ``layers[l]`` maps each name of layer l's cell (``"h"``, ``"c"``, the gates)
    to its values (T, H); ``probs`` (T, V) are the next-token probabilities after
    each position; ``cell`` is the cell's kind.
    """

    layers: list
    probs: np.ndarray
    cell: str


def activations(model: CharLM, ids: np.ndarray, state0=None) -> Activations:
    """One forward pass of ``model`` (a ``CharLM``) over ``ids`` (T,), in evaluation mode, every value kept.

    ``state0`` as ``CharLM.forward`` takes it (None: zeros). Memory: about
    (T * H * 6 * layers + T * V) numbers (an LSTM keeps h, c and four gates).
    """
    _check_model(model)
    ids = check_int_array("ids", ids, (None,), model.vocab_size)
    if len(ids) == 0:
        raise ValueError("ids: expected at least one token, got none")
    model.rnn.check_state("state0", state0, 1)
    with evaluating(model):
        X = model.embed.forward(ids[:, None], check=False)   # (T, 1, D): one stream
        layers = []
        for layer, state in zip(model.rnn.layers, model.rnn.split_state(state0)):
            values = layer.record(X, state, check=False)
            layers.append({name: v[:, 0] for name, v in values.items()})
            X = values["h"]                                  # the next layer reads this one's h (no dropout)
        probs = softmax(model.out.forward(X, check=False)[:, 0].astype(np.float64))
    return Activations(layers, probs, model.rnn.kind)


def _check_model(model) -> None:
    if not isinstance(model, CharLM):
        raise TypeError(f"model: expected a seqnn CharLM (a model from seqnn train), got {type(model).__name__}")


# --- gate saturation -------------------------------------------------------------------------------------------
def saturation(acts: Activations, low: float = LOW, high: float = HIGH) -> dict:
    """{(layer, gate): (left, right)}: for each sigmoid gate of each layer, the fraction of steps each unit spends
    below ``low`` (left-saturated, closed) and above ``high`` (right-saturated, open), two (H,) arrays.

    A vanilla RNN has no gates: an empty dict.
    """
    return {(l, gate): ((values[gate] < low).mean(axis=0), (values[gate] > high).mean(axis=0))
            for l, values in enumerate(acts.layers) for gate in SIGMOID_GATES[acts.cell]}


# --- features of the text, and the units that track them -------------------------------------------------------
def in_quotation(text: str) -> np.ndarray:
    """1 inside a quotation: opened by ``"``, a backquote or a left quotation mark, closed by ``"``, a right
    quotation mark, or an apostrophe that no letter follows (Alice's `...' style; "don't" does not close)."""
    out, inside = np.zeros(len(text)), False
    for t, ch in enumerate(text):
        nxt = text[t + 1] if t + 1 < len(text) else " "
        if ch == '"':
            inside = not inside
        elif ch in "`\u201c\u2018" and not inside:
            inside = True
        elif inside and (ch in "\u201d" or (ch in "'\u2019" and not nxt.isalpha())):
            inside = False
        out[t] = inside
    return out


def column(text: str) -> np.ndarray:
    """The characters since the start of the line (0 at a newline)."""
    out, n = np.zeros(len(text)), 0
    for t, ch in enumerate(text):
        n = 0 if ch == "\n" else n + 1
        out[t] = n
    return out


def in_parentheses(text: str) -> np.ndarray:
    """1 inside parentheses (any depth), the closing one included."""
    out, depth = np.zeros(len(text)), 0
    for t, ch in enumerate(text):
        depth += ch == "("
        out[t] = depth > 0
        depth = max(0, depth - (ch == ")"))
    return out


def position_in_word(text: str) -> np.ndarray:
    """1, 2, 3 ... along a word's letters, 0 elsewhere."""
    out, n = np.zeros(len(text)), 0
    for t, ch in enumerate(text):
        n = n + 1 if ch.isalpha() else 0
        out[t] = n
    return out


def after_sentence(text: str) -> np.ndarray:
    """1 from a sentence's closing . ! or ? up to the next letter (the model now expects a capital)."""
    out = np.zeros(len(text))
    for m in re.finditer(r"[.!?][^A-Za-z]*", text):
        out[m.start():m.end()] = 1
    return out


FEATURES: dict[str, Callable[[str], np.ndarray]] = {
    "inside a quotation": in_quotation,
    "characters since the line began": column,
    "inside parentheses": in_parentheses,
    "position in the word": position_in_word,
    "just after a sentence's end": after_sentence,
}
"""Named features of a text: a function text -> (len(text),) values. Add one to look for units that track it."""


class Tracker(NamedTuple):
    """A unit whose value follows a feature: ``r`` is their correlation over the text."""

    feature: str
    layer: int
    part: str                 # "h" or "c"
    unit: int
    r: float


def feature_units(acts: Activations, text: str, features: dict | None = None, top: int = 1) -> list:
    """For each feature (``FEATURES`` by default), the ``top`` units (h, and c for the LSTM, of every layer)
    whose values correlate most with it (Pearson's r, by absolute value), best first.

    A feature that is constant over the text (no parentheses in it) has no
    correlation: its units come with r = 0. Returns a list of ``Tracker``.
    """
    features = FEATURES if features is None else features
    top = check_positive_int("top", top)
    if len(text) != len(acts.probs):
        raise ValueError(f"text: expected the {len(acts.probs)} characters the activations were computed on, "
                         f"got {len(text)}")
    names = [(l, part) for l, values in enumerate(acts.layers) for part in ("h", "c") if part in values]
    U = np.concatenate([acts.layers[l][part] for l, part in names], axis=1).astype(np.float64)   # (T, units)
    H = acts.layers[0]["h"].shape[1]
    Z = _standardised(U)
    found = []
    for name, feature in features.items():
        z = _standardised(np.asarray(feature(text), dtype=np.float64)[:, None])[:, 0]
        r = Z.T @ z / len(z)                                  # Pearson's r of every unit with the feature
        for k in np.argsort(-np.abs(r), kind="stable")[:top]:
            l, part = names[k // H]
            found.append(Tracker(name, l, part, int(k % H), float(r[k])))
    return found


def _standardised(A: np.ndarray) -> np.ndarray:
    """Columns of A with mean 0 and standard deviation 1 (a constant column: all zeros)."""
    sd = A.std(axis=0)
    return np.where(sd > 0, (A - A.mean(axis=0)) / np.where(sd > 0, sd, 1.0), 0.0)


# --- how far back the gradient reaches --------------------------------------------------------------------------
def input_gradients(model: CharLM, ids: np.ndarray, acts: Activations, positions, lags: int) -> np.ndarray:
    """dE_t / dx_(t-k) for each chosen position t and k = 0 .. lags: (lags + 1, P, D), row k is the lag k.

    E_t = -log p(ids[t + 1] | ids[.. t]) is the loss of the prediction made at
    position t; x_s is the model's input vector at s (one-hot, or the
    embedding). Each position runs the window ids[t - lags .. t] from the state
    the whole text left at t - lags (from ``acts``), and backpropagates through
    time from E_t alone: the model's own backward pass.
    """
    positions = np.asarray(positions)
    K = lags
    starts = positions - K                                         # window s .. t, K + 1 steps
    window = ids[starts[None, :] + np.arange(K + 1)[:, None]]      # (K + 1, P)
    state0 = _state_before(acts, starts, model.dtype)
    model.zero_grad()
    try:
        with evaluating(model):
            X = model.embed.forward(window, check=False)                       # (K + 1, P, D)
            Hout, _ = model.rnn.forward(X, state0, check=False)
            logits = model.out.forward(Hout, check=False)
            dlogits = np.zeros_like(logits)
            p = softmax(logits[-1].astype(np.float64))
            p[np.arange(len(positions)), ids[positions + 1]] -= 1.0   # d(-log p_target)/dlogits, the last step only
            dlogits[-1] = p
            dX, _ = model.rnn.backward(model.out.backward(dlogits, check=False), input_grad=True, check=False)
    finally:
        model.zero_grad()
    return np.asarray(dX)[::-1]                                    # row k: the input k steps before t


def _state_before(acts: Activations, starts: np.ndarray, dtype):
    """The model's state just before each window's first step (zeros before the text), as CharLM takes it."""
    def at(values, s):
        return np.where((s > 0)[:, None], values[np.maximum(s - 1, 0)], 0.0).astype(dtype)
    return public_state(tuple(np.stack([at(layer[part], starts) for layer in acts.layers])
                              for part in ("h", "c") if part in acts.layers[0]))


def gradient_reach(model: CharLM, ids: np.ndarray, acts: Activations, lags: int = 100, positions: int = 64,
                   threshold: float = 0.01):
    """How far back the trained network looks: ``(curve, reach)``.

    ``curve`` (lags + 1,): the mean over ``positions`` positions (evenly spread
    over the text) of ``||dE_t / dx_(t-k)||`` for k = 0 .. lags; ``reach``: the
    first lag at which the curve falls below ``threshold`` (1 %) of its value at
    k = 0, or None if it never does within ``lags``.
    """
    _check_model(model)
    ids = check_int_array("ids", ids, (None,), model.vocab_size)
    lags, positions = check_positive_int("lags", lags), check_positive_int("positions", positions)
    if len(ids) < lags + 2:
        raise ValueError(f"ids: expected at least lags + 2 = {lags + 2} tokens (a window and a target), "
                         f"got {len(ids)}")
    where = np.unique(np.linspace(lags, len(ids) - 2, positions).round().astype(int))
    dX = input_gradients(model, ids, acts, where, lags)
    curve = np.linalg.norm(dX.astype(np.float64), axis=-1).mean(axis=1)
    below = np.flatnonzero(curve < threshold * curve[0])
    return curve, (int(below[0]) if len(below) else None)


# --- what it predicts -------------------------------------------------------------------------------------------
def top_predictions(acts: Activations, vocab, k: int = 5) -> list:
    """The ``k`` likeliest next tokens after each position: a list (T) of lists of (token, probability)."""
    k = min(check_positive_int("k", k), acts.probs.shape[1])
    best = np.argsort(-acts.probs, axis=1, kind="stable")[:, :k]
    return [[(vocab.tokens[j], float(acts.probs[t, j])) for j in row] for t, row in enumerate(best)]
