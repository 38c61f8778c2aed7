"""Layers applied at every time step.

Each ``forward`` and ``backward`` checks its arguments at the door; a model that
has checked them once calls its layers with ``check=False`` (keyword).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from . import init
from ._checks import (NO_FORWARD, as_rng, check_bool, check_dtype_arg, check_float_array, check_fraction,
                      check_int_array, check_nonempty, check_positive_int, kept, read_only)
from .functional import one_hot
from .module import Module


class Linear(Module):
    """The output layer ``y_t = h_t W_hy^T + b_y``, applied at every time step at once.

    Args: in_features H, out_features V, bias, dtype, rng. Initialised like
    PyTorch's ``nn.Linear``: U(-1/sqrt(H), 1/sqrt(H)).

    Parameters: W_hy (V, H), b_y (V,).

    ``forward(h) -> y``: h (..., H) with any leading axes, e.g. (T, B, H) or (B, H);
    y (..., V). ``backward(dy) -> dh``: dy (..., V) -> dh (..., H).
    """

    def __init__(self, in_features: int, out_features: int, *, bias: bool = True,
                 dtype=np.float64, rng=None):
        super().__init__()
        self.in_features = check_positive_int("in_features", in_features)
        self.out_features = check_positive_int("out_features", out_features)
        self.dtype = check_dtype_arg(dtype)
        self.bias = check_bool("bias", bias)
        rng = as_rng(rng)
        bound = init.pytorch_default_bound(in_features)
        self.add_parameter("W_hy", init.uniform((out_features, in_features), bound, rng, self.dtype))
        if self.bias:
            self.add_parameter("b_y", init.uniform((out_features,), bound, rng, self.dtype))
        self._cache: Any = None

    def extra_repr(self):
        return f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias}, dtype={self.dtype}"

    def forward(self, h: np.ndarray, *, check: bool = True) -> np.ndarray:
        if check:
            check_nonempty("h", check_float_array("h", h, (..., self.in_features), self.dtype), "vector")
        self._cache = h = kept(h)
        y = h.reshape(-1, self.in_features) @ self.W_hy.T   # one product over every step and example
        if self.bias:                                        # (a 3-D matmul would run one per time step)
            y += self.b_y
        return y.reshape(h.shape[:-1] + (self.out_features,))

    def check_gradient(self, name: str, dy) -> None:
        """At a door: ``dy`` is a gradient of the latest forward's output (its shape and dtype, finite), called
        ``name`` in a message (a model's door says "dlogits")."""
        if self._cache is None:
            raise RuntimeError(NO_FORWARD)
        check_float_array(name, dy, self._cache.shape[:-1] + (self.out_features,), self.dtype)

    def backward(self, dy: np.ndarray, *, check: bool = True) -> np.ndarray:
        if check:
            self.check_gradient("dy", dy)
        if self._cache is None:
            raise RuntimeError(NO_FORWARD)
        h = self._cache
        self._cache = None                                   # consumed: one backward per forward
        h2 = h.reshape(-1, self.in_features)
        dy2 = dy.reshape(-1, self.out_features)
        self.params["W_hy"].grad += dy2.T @ h2        # sum over every time step and example
        if self.bias:
            self.params["b_y"].grad += dy2.sum(axis=0)
        return (dy2 @ self.W_hy).reshape(h.shape)


class Dropout(Module):
    """Inverted dropout: in training mode zero each entry with probability ``p`` and
    scale the rest by ``1 / (1 - p)``; in evaluation mode (``eval()``) pass through.

    A fresh mask is drawn from ``rng`` at every forward call (every element and
    time step its own). ``forward(x) -> y`` and ``backward(dy) -> dx``: any shape,
    float32 or float64, dy of x's shape. One backward per forward, as everywhere.
    """

    _NOT_RUN = "no forward"

    def __init__(self, p: float, rng=None):
        super().__init__()
        self.p = check_fraction("p", p, "a probability")
        self.rng = as_rng(rng)
        self._scale: Any = self._NOT_RUN       # None after a forward that passed x through

    def extra_repr(self):
        return f"p={self.p}"

    def forward(self, x: np.ndarray, *, check: bool = True) -> np.ndarray:
        if check:
            check_float_array("x", x, (...,), None)
        self._shape = x.shape
        if not self.training or self.p == 0.0:
            self._scale = None
            return x
        keep = self.rng.random(x.shape) >= self.p
        self._scale = keep.astype(x.dtype) / (1.0 - self.p)   # 0 or 1/(1-p), one per entry
        return read_only(x * self._scale)

    def backward(self, dy: np.ndarray, *, check: bool = True) -> np.ndarray:
        if self._scale is self._NOT_RUN:
            raise RuntimeError(NO_FORWARD)
        if check:
            check_float_array("dy", dy, self._shape, None, why=" (the shape of the forward's x)")
        scale, self._scale = self._scale, self._NOT_RUN     # consumed: one backward per forward
        return dy if scale is None else dy * scale


class Embedding(Module):
    """Token ids -> learned vectors: ``x_t = W_embed[id_t]``.

    Args: num_embeddings V, embedding_dim E, dtype, rng. Initialised N(0, 1) like
    PyTorch's ``nn.Embedding``.

    Parameters: W_embed (V, E).

    ``forward(ids) -> x``: ids (...) ints in [0, V) -> x (..., E).
    ``backward(dx) -> None`` (ids have no gradient); row v of the gradient is
    the sum of dx over every position where id v occurs (``np.add.at``, so a
    repeated id accumulates instead of overwriting).
    """

    def __init__(self, num_embeddings: int, embedding_dim: int, *, dtype=np.float64, rng=None):
        super().__init__()
        self.num_embeddings = check_positive_int("num_embeddings", num_embeddings)
        self.embedding_dim = check_positive_int("embedding_dim", embedding_dim)
        self.dtype = check_dtype_arg(dtype)
        self.add_parameter("W_embed", as_rng(rng).standard_normal((num_embeddings, embedding_dim)))
        self.output_size = self.embedding_dim               # what the next layer reads per token
        self._ids: np.ndarray | None = None

    def extra_repr(self):
        return f"num_embeddings={self.num_embeddings}, embedding_dim={self.embedding_dim}, dtype={self.dtype}"

    def forward(self, ids: np.ndarray, *, check: bool = True) -> np.ndarray:
        if check:
            check_int_array("ids", ids, (None,) * np.ndim(ids), self.num_embeddings)
        self._ids = kept(ids)
        return read_only(self.W_embed[ids])

    def backward(self, dx: np.ndarray, *, check: bool = True):
        if self._ids is None:
            raise RuntimeError(NO_FORWARD)
        if check:
            check_float_array("dx", dx, self._ids.shape + (self.embedding_dim,), self.dtype)
        np.add.at(self.params["W_embed"].grad, self._ids, dx)   # repeated ids accumulate
        self._ids = None                                     # consumed: one backward per forward
        return None


class OneHot(Module):
    """Token ids -> one-hot vectors (no parameters): the lecture's input encoding.

    ``forward(ids) -> x``: ids (...) -> x (..., V). ``backward(dx) -> None``.
    Multiplying a one-hot x_t by W_xh^T selects one column of W_xh, so one-hot
    input followed by a cell is an embedding of size H folded into W_xh.
    """

    def __init__(self, num_classes: int, *, dtype=np.float64):
        super().__init__()
        self.num_classes = self.output_size = check_positive_int("num_classes", num_classes)
        self.dtype = check_dtype_arg(dtype)

    def extra_repr(self):
        return f"num_classes={self.num_classes}"

    def forward(self, ids: np.ndarray, *, check: bool = True) -> np.ndarray:
        return read_only(one_hot(ids, self.num_classes, self.dtype, check=check))

    def backward(self, dx, *, check: bool = True):
        return None
