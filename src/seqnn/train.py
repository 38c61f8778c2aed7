"""Training over a long stream with truncated backpropagation through time.

Truncated BPTT (the min-char-rnn / PyTorch ``repackage_hidden`` kind): cut the
stream into chunks of ``k`` steps; run each chunk from the final state of the
previous one (its *value*), and backpropagate only inside the chunk: the
gradient that would flow from chunk c+1 into chunk c is dropped. Full BPTT is
the case ``k = T``. Memory and time per update are O(k), whatever the stream's length.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ._checks import as_rng, check_int_array, check_positive_int
from .losses import softmax_cross_entropy
from .optim import clip_grad_norm


@dataclass
class History:
    """What a training run saw, chunk by chunk: losses and pre-clip gradient norms."""

    losses: list[float] = field(default_factory=list)
    grad_norms: list[float] = field(default_factory=list)
    state: object = None
    """The final state after the last chunk (carry it into the next epoch, or drop it)."""


def truncated_bptt(model, inputs: np.ndarray, targets: np.ndarray, k: int, *, optimizer=None,
                   clip_norm: float | None = None, state=None) -> History:
    """One pass of truncated BPTT over a stream.

    Args:
        model: has ``forward(inputs_chunk, state0) -> (logits (k, B, V), state)``
            and ``backward(dlogits) -> dstate0`` (e.g. ``CharLM``).
        inputs: (N, B) ids; targets: (N, B) ids (usually the inputs shifted by one).
        k: chunk length (the truncation); the last chunk may be shorter.
        optimizer: if given, every chunk does zero_grad -> backward -> clip -> step.
            If None, nothing is updated and the gradients of all chunks are summed
            into ``.grad``: the truncated gradient of the summed chunk losses.
        clip_norm: global-norm clipping threshold (None: no clipping).
        state: the initial state (zeros if None).

    Returns a ``History`` with each chunk's mean loss and pre-clip gradient norm,
    and the final state.
    """
    check_int_array("inputs", inputs, (None, None), np.iinfo(np.int64).max)
    check_int_array("targets", targets, inputs.shape, np.iinfo(np.int64).max)
    k = check_positive_int("k", k)
    history = History()
    params = model.parameters()
    for start in range(0, inputs.shape[0], k):
        x, y = inputs[start:start + k], targets[start:start + k]
        logits, next_state = model.forward(x, state)
        loss, dlogits = softmax_cross_entropy(logits, y)
        if optimizer is not None:
            model.zero_grad()
        model.backward(dlogits)        # dstate_T = 0: no gradient arrives from the next chunk (the cut)
        if clip_norm is not None:
            history.grad_norms.append(clip_grad_norm(params, clip_norm))
        else:
            history.grad_norms.append(float(np.sqrt(sum(np.vdot(p.grad, p.grad) for p in params))))
        if optimizer is not None:
            optimizer.step()
        history.losses.append(loss)
        state = next_state             # carry the value forward; its gradient path ends here
    history.state = state
    return history


def train_step(model, inputs: tuple, targets: np.ndarray, *, mask=None, optimizer, clip_norm: float | None = None):
    """One step of the loop every example runs: zero_grad -> forward -> loss -> backward -> clip -> update.

    ``model.forward(*inputs)`` must return logits (..., C) (or ``(logits, state)``);
    ``targets`` (...) ints; ``mask`` (...) for padding. Returns ``(loss, pre-clip norm or None)``.
    """
    model.zero_grad()
    logits = model.forward(*inputs)
    if isinstance(logits, tuple):
        logits = logits[0]
    loss, dlogits = softmax_cross_entropy(logits, targets, mask)
    model.backward(dlogits)
    norm = clip_grad_norm(model.parameters(), clip_norm) if clip_norm is not None else None
    optimizer.step()
    return loss, norm


def minibatches(n: int, batch_size: int, rng=None):
    """Yield index arrays that cover range(n) in shuffled batches of ``batch_size`` (last may be smaller)."""
    order = as_rng(rng).permutation(n)
    for start in range(0, n, check_positive_int("batch_size", batch_size)):
        yield order[start:start + batch_size]
