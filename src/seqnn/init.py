"""Weight initializers. Each returns a new array of the requested shape and dtype.

Every random initializer takes ``rng`` (an int seed or a ``np.random.Generator``).

- ``uniform``: U(-bound, bound); PyTorch's default for recurrent layers uses
  ``bound = 1/sqrt(H)`` for every weight and bias (see ``pytorch_default_bound``).
- ``xavier_uniform``: Glorot's U(-a, a), ``a = sqrt(6 / (fan_in + fan_out))``.
- ``orthogonal``: rows (or columns) orthonormal, from the QR of a Gaussian matrix.
- ``identity``: the IRNN trick (Le, Jaitly & Hinton 2015): ``W_hh = I`` so that
  a ReLU RNN starts by copying its state forward, and gradients neither vanish
  nor explode at the start of training.
"""

from __future__ import annotations

import math

import numpy as np

from ._checks import as_rng, check_dtype_arg, check_positive_int, check_real


def _shape(shape, ndim: int | None = None) -> tuple[int, ...]:
    """``shape`` as a tuple of positive ints (``ndim`` of them if given), or a ValueError naming it."""
    if not isinstance(shape, (tuple, list)) or (ndim is not None and len(shape) != ndim) or not all(
            isinstance(n, (int, np.integer)) and not isinstance(n, bool) and n > 0 for n in shape):
        what = "a matrix shape (rows, cols)" if ndim == 2 else "a shape, a tuple"
        raise ValueError(f"shape: expected {what} of positive ints, got {shape!r:.60}")
    return tuple(int(n) for n in shape)


def pytorch_default_bound(hidden_size: int) -> float:
    """PyTorch's ``1/sqrt(hidden_size)`` bound for every RNN/LSTM/GRU parameter."""
    return 1.0 / math.sqrt(check_positive_int("hidden_size", hidden_size))


BLOCK = 1 << 20         # numbers drawn at a time: a big weight never exists twice, in float64 and in its dtype


def uniform(shape, bound: float, rng=None, dtype=np.float64) -> np.ndarray:
    """Samples of U(-bound, bound) with the given ``shape`` (bound >= 0), in ``dtype``.

    They are drawn a block at a time, in float64, straight into the result: the
    same numbers as one draw of the whole shape (the generator's draws follow
    one another), without a float64 copy of a large weight.
    """
    if check_real("bound", bound) < 0:
        raise ValueError(f"bound: expected a number >= 0, got {bound!r}")
    rng, out = as_rng(rng), np.empty(_shape(shape), check_dtype_arg(dtype))
    flat = out.reshape(-1)
    for start in range(0, flat.size, BLOCK):
        flat[start:start + BLOCK] = rng.uniform(-bound, bound, size=min(BLOCK, flat.size - start))
    return out


def xavier_uniform(shape, rng=None, dtype=np.float64) -> np.ndarray:
    """Glorot/Xavier uniform for a matrix of shape ``(fan_out, fan_in)``."""
    fan_out, fan_in = _shape(shape, 2)
    a = math.sqrt(6.0 / (fan_in + fan_out))
    return uniform(shape, a, rng, dtype)


def orthogonal(shape, rng=None, gain: float = 1.0, dtype=np.float64) -> np.ndarray:
    """A ``(rows, cols)`` matrix with orthonormal rows (rows <= cols) or columns.

    QR of a Gaussian matrix, with the signs of R's diagonal folded into Q so
    that the result is uniformly distributed (Saxe et al. 2013; Keras, PyTorch).
    """
    rows, cols = _shape(shape, 2)
    check_real("gain", gain)
    a = as_rng(rng).standard_normal((max(rows, cols), min(rows, cols)))
    q, r = np.linalg.qr(a)
    q *= np.sign(np.diag(r))
    if rows < cols:
        q = q.T
    return (gain * q).astype(check_dtype_arg(dtype))


def identity(shape, gain: float = 1.0, dtype=np.float64) -> np.ndarray:
    """``gain * I`` for a square ``(H, H)`` recurrent matrix (IRNN initialisation)."""
    rows, cols = _shape(shape, 2)
    if rows != cols:
        raise ValueError(f"shape: identity needs a square shape (H, H), got {tuple(shape)}")
    return check_real("gain", gain) * np.eye(rows, dtype=check_dtype_arg(dtype))


def from_name(how, shape, rng=None, name: str = "init") -> np.ndarray:
    """An array of ``shape`` from an initializer's name or a callable ``how(shape, rng)``.

    Names: "identity" (IRNN), "orthogonal", "xavier" (or "glorot"). ``name`` is the
    argument the user passed ``how`` as, for the error message (``recurrent_init``, ...).
    """
    if callable(how):
        value = np.asarray(how(shape, rng))
        if value.shape != tuple(shape) or value.dtype.kind not in "iuf":
            raise ValueError(f"{name}: the callable returned {value.dtype} of shape {value.shape}; expected real "
                             f"numbers of shape {tuple(shape)} (it is called as {name}(shape, rng))")
        if not np.isfinite(value).all():
            raise ValueError(f"{name}: the callable returned NaN or inf")
        return value
    if how == "identity":
        return identity(shape)
    if how == "orthogonal":
        return orthogonal(shape, rng)
    if how in ("xavier", "glorot"):
        return xavier_uniform(shape, rng)
    raise ValueError(f"{name}: expected 'identity', 'orthogonal', 'xavier', a callable or None, got {how!r}")
