"""What a trained character model learned: its activations, gate saturation, units that track the text, and
how strongly each prediction depends on each earlier character (``seqnn inspect`` shows them: ``seqnn.app.inspect``).

After Karpathy, Johnson and Fei-Fei (2015), "Visualizing and Understanding
Recurrent Networks": a gate is *left-saturated* at a step when its activation is
below 0.1 and *right-saturated* above 0.9; a unit *tracks* a feature of the
text (``seqnn.features``: inside a quotation, the bracket depth, ...) when its
value follows that feature through the text. After Madsen (2019, Distill,
"Visualizing memorization in RNNs"): the *connectivity* of a prediction is the
gradient of its loss with respect to each earlier input. Every claim is made
beside a control, the same network untrained: what the control shows too is not
something training found. Everything comes from the model's own code: the
activations from ``Recurrent.record`` (the engine's readable loop,
``cell.step``), the gradients from the model's own backward pass.

    acts = activations(model, ids)                  # one forward pass, every value named
    saturation(acts)                                # {(layer, gate): (left (H,), right (H,))}
    feature_units(acts, text)                       # [Tracker(feature, layer, part, unit, r), ...]
    unit_claims(acts, control_acts, text)           # [Claim(...)]: chosen on one half, measured on the other
    conn = connectivity(model, ids, acts, lags=50)  # (T - 1, 51): ||dE_t / dx_(t-k)||
    reach(conn)                                     # its quartiles over positions, relative to k = 0
    top_predictions(acts, vocab, k=5)               # the 5 likeliest next characters at each position
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ._checks import check_int_array, check_positive_int
from .cells import public_state
from .features import FEATURES
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
class Tracker(NamedTuple):
    """A unit whose value follows a feature: ``r`` is their correlation over the text."""

    feature: str
    layer: int
    part: str                 # "h" or "c"
    unit: int
    r: float


def feature_units(acts: Activations, text: str, features: dict | None = None, top: int = 1) -> list:
    """For each feature (``FEATURES`` by default), the ``top`` units (h, and c for the LSTM, of every layer)
    whose values correlate most with it over ``text`` (Pearson's r, by absolute value), best first.

    A feature that is constant over the text (no brackets in it) has no
    correlation: its units come with r = 0. Returns a list of ``Tracker``. The
    best of a thousand units correlates with almost anything a little: compare
    with ``unit_claims``, which measures on text the choice did not see, beside
    an untrained control.
    """
    features = FEATURES if features is None else features
    top = check_positive_int("top", top)
    _check_text(acts, text)
    names, R = _correlations(acts, _feature_values(features, text), slice(None))
    found = []
    for f, name in enumerate(features):
        for k in np.argsort(-np.abs(R[:, f]), kind="stable")[:top]:
            layer, part, unit = names[k]
            found.append(Tracker(name, layer, part, unit, float(R[k, f])))
    return found


class Claim(NamedTuple):
    """Does a unit track a feature? ``unit`` was chosen on the text's first half (the best |r| of all units);
    ``r`` is its correlation on the second half. ``control_r``: the same, for the untrained control;
    ``shuffled_r``: the trained network's, against the feature with the text's blocks shuffled (the largest of
    a few shuffles, as |r|). The unit is a ``detector`` only when |r| is above ``threshold``, the larger of the
    two; a feature constant on either half is not ``measurable``."""

    feature: str
    layer: int
    part: str
    unit: int
    r: float
    control_r: float
    shuffled_r: float
    threshold: float
    detector: bool
    measurable: bool


def unit_claims(acts: Activations, control: Activations, text: str, features: dict | None = None,
                shuffles: int = 3, block: int = 100, rng=0) -> list:
    """One ``Claim`` for each feature (``FEATURES`` by default): the trained network's best unit, chosen on the
    first half of ``text`` and measured on the second, beside the untrained ``control`` (the same
    shape, its ``Activations`` on the same text) and beside ``shuffles`` shufflings of the feature in blocks of
    ``block`` characters (``rng``: a seed or ``np.random.Generator``). ``text`` should be held out from training.
    """
    features = FEATURES if features is None else features
    _check_text(acts, text)
    _check_text(control, text)
    shuffles, block = check_positive_int("shuffles", shuffles), check_positive_int("block", block)
    if len(text) < 4:
        raise ValueError(f"text: expected at least 4 characters (two halves to choose and measure on), "
                         f"got {len(text)}")
    rng = np.random.default_rng(rng)
    F = _feature_values(features, text)                            # (T, n): n features
    n, half = F.shape[1], len(text) // 2
    A, B = slice(0, half), slice(half, None)
    halves = [(F[A], F[B])] + [(_block_shuffled(F[A], block, rng), _block_shuffled(F[B], block, rng))
                               for _ in range(shuffles)]          # the feature, then its shufflings

    def chosen_then_measured(a: Activations, halves: list):
        """For each column of the halves, side by side: the unit chosen on the first, its r on the second."""
        names, RA = _correlations(a, np.hstack([h[0] for h in halves]), A)     # each unit standardised once
        _, RB = _correlations(a, np.hstack([h[1] for h in halves]), B)
        best = np.argmax(np.abs(RA), axis=0)
        return [names[k] for k in best], RB[best, np.arange(RB.shape[1])]

    units, rs = chosen_then_measured(acts, halves)
    r, shuffled = rs[:n], np.abs(rs[n:]).reshape(shuffles, n).max(axis=0)
    control_r = chosen_then_measured(control, halves[:1])[1]
    claims = []
    for f, name in enumerate(features):
        measurable = bool(F[A, f].std() > 0 and F[B, f].std() > 0)
        threshold = max(abs(control_r[f]), shuffled[f])
        layer, part, unit = units[f]
        claims.append(Claim(name, layer, part, unit, float(r[f]), float(control_r[f]), float(shuffled[f]),
                            float(threshold), measurable and abs(r[f]) > threshold, measurable))
    return claims


def _check_text(acts: Activations, text: str) -> None:
    if len(text) != len(acts.probs):
        raise ValueError(f"text: expected the {len(acts.probs)} characters the activations were computed on, "
                         f"got {len(text)}")


def _feature_values(features: dict, text: str) -> np.ndarray:
    """(T, features): each feature's values over the text."""
    return np.stack([np.asarray(feature(text), dtype=np.float64) for feature in features.values()], axis=1)


def _correlations(acts: Activations, F: np.ndarray, rows: slice):
    """Pearson's r of every unit (h, and c for the LSTM, of every layer), over ``rows`` of the text, with each
    column of ``F``: (names [(layer, part, unit)], R (units, features)). One (layer, part) at a time, in float64."""
    Zf = _standardised(F)
    names, blocks = [], []
    for l, values in enumerate(acts.layers):
        for part in ("h", "c"):
            if part in values:
                Z = _standardised(values[part][rows].astype(np.float64))
                blocks.append(Z.T @ Zf / len(Zf))
                names += [(l, part, k) for k in range(Z.shape[1])]
    return names, np.concatenate(blocks)


def _block_shuffled(F: np.ndarray, block: int, rng: np.random.Generator) -> np.ndarray:
    """The rows of F in blocks of ``block``, the blocks in a random order: the feature keeps its own runs but no
    longer lines up with the text the units read."""
    blocks = [F[s:s + block] for s in range(0, len(F), block)]
    return np.concatenate([blocks[j] for j in rng.permutation(len(blocks))])


def _standardised(A: np.ndarray) -> np.ndarray:
    """Columns of A with mean 0 and standard deviation 1 (a constant column: all zeros)."""
    sd = A.std(axis=0)
    return np.where(sd > 0, (A - A.mean(axis=0)) / np.where(sd > 0, sd, 1.0), 0.0)


# --- connectivity: how strongly each prediction depends on each earlier character --------------------------------
OBJECTIVES = ("loss", "logit")
CHUNK_BYTES = 48 * 2 ** 20             # the backward pass's working memory, per chunk of positions


def input_gradients(model: CharLM, ids: np.ndarray, acts: Activations, positions, lags: int,
                    of: str = "loss") -> np.ndarray:
    """dE_t / dx_(t-k) for each chosen position t and k = 0 .. lags: (lags + 1, P, D), row k is the lag k.

    E_t is, with ``of="loss"``, -log p(ids[t + 1] | ids[.. t]), the loss of the
    prediction made at position t; with ``of="logit"``, that target's logit. x_s
    is the model's input vector at s (one-hot, or the embedding). Each position
    runs the window ids[s .. s + lags], s = max(0, t - lags), from the state the
    whole text left before s (from ``acts``, the activations of ``ids``), and
    backpropagates E_t alone through time: the model's own backward pass. Rows
    with t - k < 0 (before the text) are 0. ``positions`` (P,) in 0 ..
    len(ids) - 2; ``ids`` (T,) at least lags + 2 tokens.
    """
    ids, lags, of = _checked(model, ids, acts, lags, of)
    return _input_gradients(model, ids, acts, check_int_array("positions", np.asarray(positions), (None,),
                                                              len(ids) - 1), lags, of)


def _checked(model, ids, acts: Activations, lags, of: str):
    """The door of ``input_gradients`` and ``connectivity``: (ids, lags, of), checked."""
    _check_model(model)
    ids = check_int_array("ids", ids, (None,), model.vocab_size)
    lags = check_positive_int("lags", lags)
    if of not in OBJECTIVES:
        raise ValueError(f"of: expected one of {', '.join(OBJECTIVES)}, got {of!r}")
    if len(ids) < lags + 2:
        raise ValueError(f"ids: expected at least lags + 2 = {lags + 2} tokens (a window and a target), "
                         f"got {len(ids)}")
    if len(acts.probs) != len(ids):
        raise ValueError(f"acts: expected the activations of these {len(ids)} tokens, got {len(acts.probs)}")
    return ids, lags, of


def _input_gradients(model: CharLM, ids: np.ndarray, acts: Activations, positions: np.ndarray, lags: int,
                     of: str) -> np.ndarray:
    """``input_gradients``, its arguments trusted."""
    K, P = lags, len(positions)
    starts = np.maximum(positions - K, 0)                             # window s .. s + K, K + 1 steps
    at = positions - starts                                           # where in its window each prediction is
    window = ids[starts[None, :] + np.arange(K + 1)[:, None]]         # (K + 1, P)
    model.zero_grad()
    try:
        with evaluating(model):
            X = model.embed.forward(window, check=False)                       # (K + 1, P, D)
            Hout, _ = model.rnn.forward(X, _state_before(acts, starts, model.dtype), check=False)
            logits = model.out.forward(Hout, check=False)
            rows, targets = np.arange(P), ids[positions + 1]
            dlogits = np.zeros_like(logits)
            if of == "loss":                                          # d(-log p_target)/dlogits = p - onehot
                dlogits[at, rows] = softmax(logits[at, rows].astype(np.float64))
                dlogits[at, rows, targets] -= 1.0
            else:                                                     # d logit_target / dlogits = onehot
                dlogits[at, rows, targets] = 1.0
            dX, _ = model.rnn.backward(model.out.backward(dlogits, check=False), input_grad=True, check=False)
    finally:
        model.zero_grad()
    steps = at[None, :] - np.arange(K + 1)[:, None]                   # (K + 1, P): the window step of lag k
    out = np.asarray(dX)[np.maximum(steps, 0), rows]
    out[steps < 0] = 0.0
    return out


def _state_before(acts: Activations, starts: np.ndarray, dtype):
    """The model's state just before each window's first step (zeros before the text), as CharLM takes it."""
    def at(values, s):
        return np.where((s > 0)[:, None], values[np.maximum(s - 1, 0)], 0.0).astype(dtype)
    return public_state(tuple(np.stack([at(layer[part], starts) for layer in acts.layers])
                              for part in ("h", "c") if part in acts.layers[0]))


def connectivity(model: CharLM, ids: np.ndarray, acts: Activations, lags: int = 50, of: str = "loss",
                 positions=None) -> np.ndarray:
    """||dE_t / dx_(t-k)||, the norm over the input vector (the embedding, or the one-hot), for each position t
    and k = 0 .. ``lags``: (P, lags + 1), NaN where t - k is before the text.

    ``positions``: the t to take (default: every position with a next
    character, 0 .. len(ids) - 2); ``of``: "loss" (E_t the prediction's loss)
    or "logit" (the target's logit); see ``input_gradients``. Computed in
    chunks of positions, each a batched backward pass of lags + 1 steps.
    """
    ids, lags, of = _checked(model, ids, acts, lags, of)
    where = np.arange(len(ids) - 1) if positions is None else check_int_array("positions", np.asarray(positions),
                                                                                (None,), len(ids) - 1)
    chunk = max(1, CHUNK_BYTES // connectivity_bytes_per_position(model, lags))
    out = np.empty((len(where), lags + 1))
    for c in range(0, len(where), chunk):
        dX = _input_gradients(model, ids, acts, where[c:c + chunk], lags, of)
        out[c:c + chunk] = np.linalg.norm(dX.astype(np.float64), axis=-1).T
    out[where[:, None] < np.arange(lags + 1)[None, :]] = np.nan
    return out


def connectivity_bytes_per_position(model: CharLM, lags: int) -> int:
    """About what one position's backward pass keeps (its window's forward caches and gradients), in bytes."""
    H, L, V = model.rnn.hidden_size, model.rnn.num_layers, model.vocab_size
    per_step = L * {"lstm": 8, "gru": 7, "rnn": 3}[model.rnn.kind] * H + 4 * V + 3 * model.rnn.input_size   # measured
    return (lags + 1) * per_step * np.dtype(model.dtype).itemsize


class Reach(NamedTuple):
    """The connectivity relative to lag 0, over positions: ``q25``, ``median``, ``q75`` (lags + 1,) each, over
    the ``positions`` positions whose whole window lies in the text."""

    q25: np.ndarray
    median: np.ndarray
    q75: np.ndarray
    positions: int

    def at(self, k: int) -> tuple:
        """(q25, median, q75) at lag k."""
        return float(self.q25[k]), float(self.median[k]), float(self.q75[k])


def reach(conn: np.ndarray) -> Reach:
    """How far back predictions look: the quartiles over positions of ``conn[t, k] / conn[t, 0]`` (``conn`` from
    ``connectivity``, (P, lags + 1)), for the positions with every lag inside the text."""
    conn = np.asarray(conn, dtype=np.float64)
    full = conn[~np.isnan(conn).any(axis=1) & (conn[:, 0] > 0)]
    if len(full) == 0:
        raise ValueError("conn: no position has all its lags inside the text (and a nonzero gradient at lag 0)")
    q25, median, q75 = np.percentile(full / full[:, :1], [25, 50, 75], axis=0)
    return Reach(q25, median, q75, len(full))


# --- what it predicts -------------------------------------------------------------------------------------------
def top_predictions(acts: Activations, vocab, k: int = 5) -> list:
    """The ``k`` likeliest next tokens after each position: a list (T) of lists of (token, probability)."""
    k = min(check_positive_int("k", k), acts.probs.shape[1])
    best = np.argsort(-acts.probs, axis=1, kind="stable")[:, :k]
    return [[(vocab.tokens[j], float(acts.probs[t, j])) for j in row] for t, row in enumerate(best)]
