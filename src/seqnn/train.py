"""Training: the one training step, truncated backpropagation through time over a stream, evaluation.

``train_step`` is the body of every training loop in seqnn (the examples, the
experiments, ``StreamTrainer`` and so ``seqnn train``): zero the gradients,
forward, loss, backward, clip, update, and stop before the update if anything
is not finite.

Truncated BPTT (the min-char-rnn / PyTorch ``repackage_hidden`` kind): cut the
stream into chunks of ``k`` steps; run each chunk from the final state of the
previous one (its *value*), and backpropagate only inside the chunk: the
gradient that would flow from chunk c+1 into chunk c is dropped. Full BPTT is
the case ``k = T``. Memory and time per update are O(k), whatever the stream's length.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from dataclasses import dataclass, field

import numpy as np

from ._checks import check_count, check_int_array, check_positive_int, check_state_dict, check_training
from .cells import public_state, state_parts
from .data import batchify
from .losses import softmax_cross_entropy
from .models import check_carried_state, check_language_model, check_stream, evaluating
from .optim import clip_grad_norm, grad_norm


class DivergedError(FloatingPointError):
    """Training met a non-finite output, loss or gradient and stopped before updating anything.

    ``history`` holds what was gathered before (for ``truncated_bptt``: the
    losses and gradient norms of the chunks that did train); ``chunk`` or
    ``step`` says where it stopped.
    """

    def __init__(self, message: str, history=None, chunk: int | None = None, step: int | None = None):
        super().__init__(message)
        self.history, self.chunk, self.step = history, chunk, step


class Step(NamedTuple):
    """What one training step returns."""

    loss: float
    """The loss of the step's batch (for the default loss: mean nats per token)."""
    grad_norm: float
    """The global gradient norm before clipping (log it: it shows exploding gradients)."""
    state: Any
    """The model's final state, for a model whose forward returns ``(outputs, state)`` (else None)."""


# --- the training step: the body of every training loop in seqnn -----------------------------------------------
def train_step(model, inputs: tuple, targets: np.ndarray, *, optimizer, clip_norm: float | None = None,
               loss=softmax_cross_entropy, mask=None) -> Step:
    """One step of training: zero_grad -> forward -> loss -> backward -> clip -> update.

    Args:
        model: a seqnn model: ``forward(*inputs, check=...)`` returns outputs (..., C),
            or ``(outputs, state)`` for a model that carries a state (``CharLM``:
            ``inputs = (x, state0)``); ``backward(doutputs, check=...)``; ``parameters()``.
        inputs: a tuple of ``forward``'s arguments, such as ``(ids,)``, ``(ids, lengths)``
            or ``(src, tgt_in)``.
        targets: what ``loss`` compares the outputs with: (...) ints for the default
            ``softmax_cross_entropy``, floats of the outputs' shape for
            ``mean_squared_error`` (any ``loss(outputs, targets[, mask]) -> (value, doutputs)``).
        optimizer: updates the parameters (``seqnn.Adam(model.parameters())``).
        clip_norm: global-norm clipping threshold (None: no clipping).
        mask: (...) for padding, passed on to ``loss``.

    Returns ``Step(loss, grad_norm, state)``. Raises ``DivergedError`` (a
    ``FloatingPointError``) naming the step, before anything is updated, if the
    outputs, the loss or the gradient are not finite. What you pass is checked
    where it goes in: ``inputs`` by the model's forward, ``targets`` and ``mask`` by
    ``loss``, the loss's gradient by the model's backward.
    """
    check_training(model, optimizer, clip_norm)
    if not isinstance(inputs, (tuple, list)) or not inputs:
        raise TypeError(f"inputs: expected a tuple of forward's arguments, such as (ids,) or (src, tgt_in), "
                        f"got {inputs!r:.40}")
    return _step(model, inputs, targets, optimizer, clip_norm, loss, mask, where=f"step {optimizer.steps + 1}",
                 check=True)


def _step(model, inputs, targets, optimizer, clip_norm, loss, mask, where: str, check: bool) -> Step:
    """The step itself, as min-char-rnn writes its loop body.

    ``loss(outputs, targets[, mask]) -> (value, doutputs)``. ``optimizer`` None: nothing
    is zeroed or updated, the gradient is added into ``.grad`` (``truncated_bptt``
    sums chunks this way). ``where`` names the step in a ``DivergedError``;
    ``check`` False: the caller has checked ``inputs`` (and the model's own state).
    What the step makes itself is not checked again: the outputs are guarded once,
    and a finite gradient norm proves every gradient finite for the update.
    """
    if optimizer is not None:
        model.zero_grad()
    outputs = model.forward(*inputs, check=check)
    outputs, state = outputs if isinstance(outputs, tuple) else (outputs, None)
    _guard(outputs, "the outputs are not finite", where)
    value, doutputs = loss(outputs, targets) if mask is None else loss(outputs, targets, mask)
    _guard(value, f"the loss is {value}", where)
    model.backward(doutputs, check=check)     # a carried state's gradient stops here: no dstate_T comes in (the cut)
    params = model.parameters()
    norm = grad_norm(params)
    _guard(norm, f"the gradient norm is {norm}", where)
    if clip_norm is not None:
        clip_grad_norm(params, clip_norm, norm=norm)      # the norm just computed, not a second time
    if optimizer is not None:
        optimizer.step(check=False)                       # finite: the norm is
    return Step(value, norm, state)


def _guard(value, what: str, where: str) -> None:
    """A diverged run never writes NaN or inf into the weights: stop before the update."""
    if not np.isfinite(value).all():
        raise DivergedError(f"{where}: {what} (the run has diverged); nothing was updated")


def _stream_loss(logits: np.ndarray, targets: np.ndarray):
    """The loss of a stream's chunk: cross-entropy, unchecked (the step has found the logits finite; the
    targets were checked where the stream came in)."""
    return softmax_cross_entropy(logits, targets, check=False)


# --- truncated BPTT over a long stream ----------------------------------------------------------------------------
@dataclass
class History:
    """What a training run saw, chunk by chunk: losses and pre-clip gradient norms."""

    losses: list[float] = field(default_factory=list)
    grad_norms: list[float] = field(default_factory=list)
    state: object = None
    """The final state after the last chunk (carry it into the next epoch, or drop it)."""


def truncated_bptt(model, inputs: np.ndarray, targets: np.ndarray, k: int, *, optimizer=None,
                   clip_norm: float | None = None, state=None) -> History:
    """One pass of truncated BPTT over a stream: the training step on each chunk of ``k`` steps.

    Args:
        model: a language model, ``forward(inputs_chunk, state0) -> (logits (k, B, V), state)``
            and ``backward(dlogits)`` (e.g. ``CharLM``, whose backward returns
            ``(None, dstate0)``; the cut drops dstate0).
        inputs: (N, B) ids; targets: (N, B) ids (usually the inputs shifted by one).
        k: chunk length (the truncation); the last chunk may be shorter.
        optimizer: if given, every chunk does zero_grad -> backward -> clip -> step.
            If None, nothing is updated and the gradients of all chunks are summed
            into ``.grad``: the truncated gradient of the summed chunk losses.
        clip_norm: global-norm clipping threshold (None: no clipping).
        state: the initial state (zeros if None).

    Returns a ``History`` with each chunk's mean loss and pre-clip gradient norm,
    and the final state. Raises ``DivergedError`` (a ``FloatingPointError``) at
    the first chunk whose logits, loss or gradient are not finite, before that
    chunk updates anything; its message names the chunk and its ``history``
    keeps the losses and norms of the chunks before it.
    """
    check_stream(model, inputs, "inputs")
    check_int_array("targets", targets, inputs.shape, model.vocab_size)
    k = check_positive_int("k", k)
    check_training(model, optimizer, clip_norm, optimizer_required=False)
    check_carried_state(model, state, inputs.shape[1], "state")
    history = History()
    N = inputs.shape[0]
    for c, start in enumerate(range(0, N, k)):
        x, y = inputs[start:start + k], targets[start:start + k]
        try:
            # The state's value is carried in from the previous chunk; its gradient is cut (the step's backward).
            loss, norm, state = _step(model, (x, state), y, optimizer, clip_norm, _stream_loss, None,
                                      where=f"chunk {c + 1} of {-(-N // k)} (steps {start}..{start + len(x) - 1})",
                                      check=False)
        except DivergedError as err:
            err.history, err.chunk, history.state = history, c, state
            raise
        history.losses.append(loss)
        history.grad_norms.append(norm)
    history.state = state
    return history


def evaluate(model, ids: np.ndarray, k: int, batch_size: int) -> float:
    """Mean cross-entropy of ``model`` predicting each token of a stream from the ones before it.

    ``ids`` (N,) is cut into ``B = min(batch_size, (N - 1) // k)`` (at least 1)
    contiguous columns (``batchify``), each read in chunks of ``k`` with the state
    carried, so every prediction but a column's first has its whole column as
    context. Runs in evaluation mode (dropout off) and restores the mode after.

    Returns nats per predicted token (a Python float); divide by ``ln 2`` for bits
    per character, ``exp`` of it is the perplexity. Raises ValueError if the
    model's outputs are not finite (a diverged model has no loss).
    """
    check_language_model(model)
    k = check_positive_int("k", k)
    check_int_array("ids", ids, (None,), model.vocab_size)
    if len(ids) < 2:
        raise ValueError(f"ids: expected at least 2 tokens to predict one from another, got {len(ids)}")
    data = batchify(ids, max(1, min(check_positive_int("batch_size", batch_size), (len(ids) - 1) // k)))
    total, state = 0.0, None
    with evaluating(model):
        for start in range(0, len(data) - 1, k):
            stop = min(start + k, len(data) - 1)         # the last row is only a target
            logits, state = model.forward(data[start:stop], state, check=False)
            total += softmax_cross_entropy(logits, data[start + 1:stop + 1], reduction="sum", check=False)[0]
    if not np.isfinite(total):
        raise ValueError(f"model: its predictions are not finite on these ids (the loss is {total}); "
                         "has it diverged?")
    return total / ((len(data) - 1) * data.shape[1])


class StreamTrainer:
    """Truncated BPTT over one long stream, one chunk per ``step()``, resumable to the bit.

    Args:
        model: a ``CharLM`` (or another language model with its forward/backward).
        data: (L, B) ids, B parallel streams (``batchify``). An epoch reads rows
            0 .. L-2 in chunks of ``k`` (targets: the next row), every chunk full:
            the last ``(L - 1) % k`` rows, too few for a chunk, are left out, so
            every step trains on ``k * B`` tokens. The state is carried from chunk
            to chunk and starts from zeros at every epoch.
        k: the truncation length; optimizer; clip_norm (None: no clipping).

    ``step() -> (loss, grad_norm, tokens)``; ``epoch`` and ``chunk`` say what
    the next step reads. ``state_dict()`` holds everything the next step depends
    on besides the model's parameters: the position, the carried state, the
    optimizer's state and every random generator of the model (dropout).

    Everything is checked here, once; each step then runs unchecked.
    """

    def __init__(self, model, data: np.ndarray, k: int, optimizer, clip_norm: float | None = None):
        check_stream(model, data, "data")
        self.k = check_positive_int("k", k)
        check_training(model, optimizer, clip_norm)
        if len(data) < self.k + 1:
            raise ValueError(f"data: expected at least k + 1 = {self.k + 1} rows (a chunk and its targets), "
                             f"got {len(data)}")
        self.data, self.model, self.optimizer, self.clip_norm = data, model, optimizer, clip_norm
        self.epoch, self.chunk, self.steps = 0, 0, 0
        self.state: Any = None

    @property
    def chunks_per_epoch(self) -> int:
        return (len(self.data) - 1) // self.k

    def step(self):
        """Train on the next chunk: ``(loss, grad_norm, tokens)``; the chunk's final state is carried."""
        start = self.chunk * self.k
        x, y = self.data[start:start + self.k], self.data[start + 1:start + self.k + 1]
        # The carried state's value goes in; its gradient is cut at the chunk's end (inside the step).
        loss, norm, state = _step(self.model, (x, self.state), y, self.optimizer, self.clip_norm, _stream_loss, None,
                                  where=f"step {self.steps + 1} (epoch {self.epoch}, chunk {self.chunk})",
                                  check=False)
        self.steps += 1
        self.chunk += 1
        if self.chunk == self.chunks_per_epoch:          # the stream is done: next epoch, fresh state
            self.epoch, self.chunk, self.state = self.epoch + 1, 0, None
        else:
            self.state = state
        return loss, norm, x.size

    def state_dict(self) -> dict:
        """Position, carried state (a list of arrays, copies), optimizer state, generator states."""
        parts = [] if self.state is None else state_parts(self.state)
        return {"epoch": self.epoch, "chunk": self.chunk, "steps": self.steps, "data_shape": list(self.data.shape),
                "state": [p.copy() for p in parts], "optimizer": self.optimizer.state_dict(),
                "generators": [g.bit_generator.state for g in self.model.generators()]}

    def load_state_dict(self, state: dict) -> None:
        """Restore what ``state_dict()`` returned; everything is checked before anything changes."""
        check_state_dict("state", state, ("epoch", "chunk", "steps", "data_shape", "state", "optimizer", "generators"))
        epoch, chunk, steps = (check_count(f"state['{key}']", state[key]) for key in ("epoch", "chunk", "steps"))
        if chunk >= self.chunks_per_epoch:
            raise ValueError(f"state['chunk']: expected a chunk in [0, {self.chunks_per_epoch}) (the chunks of "
                             f"an epoch), got {chunk}")
        if list(state["data_shape"]) != list(self.data.shape):
            raise ValueError(f"state: saved for data of shape {tuple(state['data_shape'])}, not {self.data.shape}")
        generators = self.model.generators()
        if len(state["generators"]) != len(generators):
            raise ValueError(f"state: {len(state['generators'])} random generators saved, "
                             f"the model has {len(generators)}")
        parts = [np.array(p) for p in state["state"]]
        carried = public_state(tuple(parts)) if parts else None
        check_carried_state(self.model, carried, self.data.shape[1], "state['state']")
        for k, (g, saved) in enumerate(zip(generators, state["generators"])):
            try:
                type(g.bit_generator)().state = saved            # tried on a spare generator first
            except (TypeError, ValueError, KeyError) as err:
                raise ValueError(f"state['generators'][{k}]: not a state of this generator ({err})") from None
        self.optimizer.load_state_dict(state["optimizer"])
        for g, saved in zip(generators, state["generators"]):
            g.bit_generator.state = saved
        self.state = carried
        self.epoch, self.chunk, self.steps = epoch, chunk, steps
