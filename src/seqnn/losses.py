"""Softmax cross-entropy over logits of any leading shape, with an optional mask; mean squared error.

Reduction (stated here because it sets the meaning of learning rates and clip
thresholds): ``"mean"`` (the default) divides the summed loss by the number of
unmasked tokens, so the loss of a batch does not grow with T or B; ``"sum"``
adds them up. Perplexity is ``exp`` of the mean.
"""

from __future__ import annotations

import numpy as np

from ._checks import check_choice, check_float_array, check_int_array, check_mask, check_nonempty
from .functional import log_softmax

REDUCTIONS = ("mean", "sum")


def softmax_cross_entropy(logits: np.ndarray, targets: np.ndarray, mask: np.ndarray | None = None,
                          reduction: str = "mean", *, check: bool = True):
    """Loss and its gradient for integer targets.

    Args:
        logits: (..., V) float, e.g. (T, B, V) for a sequence or (B, V) for a classifier.
        targets: (...) integer class ids in [0, V), the leading shape of ``logits``.
        mask: optional (...) boolean (or 0/1) array; False/0 tokens add nothing
            to the loss or the gradient (padding).
        reduction: "mean" over unmasked tokens (default) or "sum".

    Returns:
        loss: a Python float, ``-sum_t m_t log softmax(logits_t)[y_t]`` (/ number of unmasked tokens).
        dlogits: (..., V), the gradient ``(softmax(logits) - onehot(y)) * m`` (/ count).

    Stable for any finite logits: computed from ``log_softmax`` (max-shifted), so
    logits of +-1000 give finite values and no warnings. ``check=False``: the
    caller has checked the arguments (a training loop: its own targets, logits it
    has found finite).
    """
    if check:
        check_nonempty("logits", check_float_array("logits", logits, (..., None), None), "token")
        check_int_array("targets", targets, logits.shape[:-1], logits.shape[-1],
                        f" (one target per row of logits, whose shape is {logits.shape})")
        check_choice("reduction", reduction, REDUCTIONS)
        if mask is not None:
            check_mask("mask", mask, logits.shape[:-1])
    V = logits.shape[-1]
    m = None if mask is None else mask.reshape(-1).astype(logits.dtype)

    N, y = targets.size, targets.reshape(-1)                       # every row of logits is one prediction
    rows = np.arange(N)
    logp = log_softmax(logits.reshape(N, V))                       # (N, V)
    scale = 1.0 / (N if m is None else m.sum()) if reduction == "mean" else 1.0
    losses = -logp[rows, y]                                        # -log p(y_t) of every token
    loss = losses.sum() if m is None else (losses * m).sum()

    dlogits = np.exp(logp)                                         # the softmax p ...
    dlogits[rows, y] -= 1.0                                        # ... minus the one-hot target: p - y
    if m is not None:
        dlogits *= m[:, None]
    dlogits *= scale
    return float(loss * scale), dlogits.reshape(logits.shape)


def mean_squared_error(pred: np.ndarray, target: np.ndarray):
    """Loss and gradient of a regression: the mean of ``(pred - target)**2`` over every entry.

    Args:
        pred: (...) float, e.g. (B, 1) from a linear readout of the last hidden state.
        target: (...) float of the same shape and dtype.

    Returns:
        loss: a Python float, ``sum((pred - target)**2) / N`` with N = ``pred.size``.
        dpred: (...), the gradient ``2 (pred - target) / N``.
    """
    check_nonempty("pred", check_float_array("pred", pred, (...,), None), "value")
    check_float_array("target", target, pred.shape, pred.dtype, why=" (one target per entry of pred)")
    diff = pred - target
    with np.errstate(over="ignore"):            # an overflow gives inf, which train_step reports as divergence
        loss = float((diff * diff).sum() / pred.size)
    return loss, diff * (2.0 / pred.size)
