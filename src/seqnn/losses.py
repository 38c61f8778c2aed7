"""Softmax cross-entropy over logits of any leading shape, with an optional mask; mean squared error.

Reduction (stated here because it sets the meaning of learning rates and clip
thresholds): ``"mean"`` (the default) divides the summed loss by the number of
unmasked tokens, so the loss of a batch does not grow with T or B; ``"sum"``
adds them up. Perplexity is ``exp`` of the mean.
"""

from __future__ import annotations

import numpy as np

from ._checks import check_choice, check_float_array, check_int_array
from .functional import log_softmax

REDUCTIONS = ("mean", "sum")


def softmax_cross_entropy(logits: np.ndarray, targets: np.ndarray, mask: np.ndarray | None = None,
                          reduction: str = "mean"):
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
    logits of +-1000 give finite values and no warnings.
    """
    if not isinstance(logits, np.ndarray) or logits.ndim < 1:
        raise TypeError("logits: expected a numpy float array of shape (..., V)")
    if logits.dtype not in (np.float32, np.float64):
        raise TypeError(f"logits: expected dtype float32 or float64, got {logits.dtype}")
    check_float_array("logits", logits, (None,) * logits.ndim, logits.dtype)
    lead, V = logits.shape[:-1], logits.shape[-1]
    check_int_array("targets", targets, (None,) * np.ndim(targets), V)
    if targets.shape != lead:
        raise ValueError(f"targets: expected shape {lead}, got {targets.shape} (one target per row of logits, "
                         f"whose shape is {logits.shape})")
    check_choice("reduction", reduction, REDUCTIONS)
    weight = _mask_weights(mask, lead, logits.dtype)

    logp = log_softmax(logits)                                            # (..., V)
    logp_target = np.take_along_axis(logp, targets[..., None], axis=-1)[..., 0]
    if weight is None:
        count = targets.size
        total = -logp_target.sum()
    else:
        count = weight.sum()
        total = -(logp_target * weight).sum()
    if count == 0:
        if weight is None:
            raise ValueError(f"logits: expected at least one token, got an empty batch of shape {logits.shape}")
        raise ValueError("mask: selects no tokens, so the mean loss is undefined")
    scale = 1.0 / count if reduction == "mean" else 1.0

    dlogits = np.exp(logp)                                                # softmax
    np.put_along_axis(dlogits, targets[..., None],
                      np.take_along_axis(dlogits, targets[..., None], axis=-1) - 1.0, axis=-1)
    if weight is not None:
        dlogits *= weight[..., None]
    dlogits *= scale
    return float(total * scale), dlogits


def _mask_weights(mask, shape, dtype):
    """Validate ``mask`` (bool or 0/1, of ``shape``) and return it as float weights (or None)."""
    if mask is None:
        return None
    if not isinstance(mask, np.ndarray):
        raise TypeError(f"mask: expected a numpy bool array, got {type(mask).__name__}")
    if mask.shape != shape:
        raise ValueError(f"mask: expected shape {shape} (the logits' leading axes), got {mask.shape}")
    if mask.dtype != bool:
        if not (np.issubdtype(mask.dtype, np.number) and np.isin(mask, (0, 1)).all()):
            raise ValueError(f"mask: expected booleans or 0/1 values, got dtype {mask.dtype} with other values")
    return mask.astype(dtype)


def mean_squared_error(pred: np.ndarray, target: np.ndarray):
    """Loss and gradient of a regression: the mean of ``(pred - target)**2`` over every entry.

    Args:
        pred: (...) float, e.g. (B, 1) from a linear readout of the last hidden state.
        target: (...) float of the same shape and dtype.

    Returns:
        loss: a Python float, ``sum((pred - target)**2) / N`` with N = ``pred.size``.
        dpred: (...), the gradient ``2 (pred - target) / N``.
    """
    if not isinstance(pred, np.ndarray) or pred.dtype not in (np.float32, np.float64):
        raise TypeError(f"pred: expected a numpy float32 or float64 array, got "
                        f"{getattr(pred, 'dtype', type(pred).__name__)}")
    check_float_array("pred", pred, (None,) * pred.ndim, pred.dtype)
    check_float_array("target", target, (None,) * np.ndim(target), pred.dtype)
    if target.shape != pred.shape:
        raise ValueError(f"target: expected shape {pred.shape}, got {target.shape} (one target per entry of pred)")
    if pred.size == 0:
        raise ValueError("pred: expected at least one value, got an empty array")
    diff = pred - target
    with np.errstate(over="ignore"):            # an overflow gives inf, which train_step reports as divergence
        loss = float((diff * diff).sum() / pred.size)
    return loss, diff * (2.0 / pred.size)
