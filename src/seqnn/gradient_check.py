"""Finite-difference gradient checking: the proof that a backward pass is right.

For a layer or function with outputs ``y`` we pick random upstream gradients
``dy`` (so that every path is exercised, not only ``sum(y)``) and compare

* the analytic gradient of ``L = sum(y * dy)``: what ``backward(dy)`` returns
  for the inputs and adds to each parameter's ``.grad``, with
* a central difference of ``L`` for every entry ``w`` of every parameter and
  every float input (initial states too): by default the five-point stencil
  ``(-L(w+2e) + 8 L(w+e) - 8 L(w-e) + L(w-2e)) / 12e``, or the textbook
  ``(L(w+e) - L(w-e)) / 2e`` with ``order=2``.

The score of one array is the worst relative error over its entries,
``|a - n| / max(1e-8, |a| + |n|)``. In float64 a correct backward scores
about 1e-10 to 1e-8; a wrong one about 1e-2 to 1. In float32 the differences
drown in round-off, so ``gradcheck`` insists on float64.

Example::

    cell = seqnn.RNNCell(3, 4, rng=0)
    report = seqnn.gradcheck(cell, (x, h0))     # x (B, 3), h0 (B, 4), float64
    print(report)                                # one line per array, worst last
    assert report.max_error < 1e-6
"""

from __future__ import annotations

import inspect
import math
from dataclasses import dataclass, field

import numpy as np

from ._checks import as_rng, check_choice, check_methods, check_positive_number
from .module import Module, Parameter


def _numbers(name: str, x) -> np.ndarray:
    try:
        return np.asarray(x, np.float64)
    except (TypeError, ValueError):
        raise TypeError(f"{name}: expected an array of numbers, got {type(x).__name__}") from None


def relative_error(analytic, numeric) -> float:
    """Worst entry of ``|a - n| / max(1e-8, |a| + |n|)`` (0.0 for empty arrays).

    A NaN or inf in either gradient scores ``inf``: it fails every tolerance
    (a NaN would compare as neither worse nor better than anything).
    """
    a, n = _numbers("analytic", analytic), _numbers("numeric", numeric)
    if a.shape != n.shape:
        raise ValueError(f"numeric: expected shape {a.shape} (the analytic gradient's), got {n.shape}")
    if a.size == 0:
        return 0.0
    if not (np.isfinite(a).all() and np.isfinite(n).all()):
        return math.inf
    return float(np.max(np.abs(a - n) / np.maximum(1e-8, np.abs(a) + np.abs(n))))


# Central-difference stencils: {j: w_j}, gradient = sum_j w_j (f(x + j e) - f(x - j e)) / e.
# Pairing the differences first makes a gradient of exactly zero come out exactly zero.
STENCILS = {
    2: {1: 1 / 2},               # (f(x+e) - f(x-e)) / 2e, error O(e^2)
    4: {1: 8 / 12, 2: -1 / 12},  # five-point stencil, error O(e^4)
}


def numerical_gradient(f, x: np.ndarray, eps: float = 1e-3, order: int = 4) -> np.ndarray:
    """Central-difference gradient of the scalar function ``f()`` with respect to array ``x``.

    ``order=2`` is the textbook ``(f(x+eps) - f(x-eps)) / (2 eps)`` (use eps ~ 1e-6);
    ``order=4`` (the default) is the five-point central difference
    ``(-f(x+2e) + 8 f(x+e) - 8 f(x-e) + f(x-2e)) / (12 e)``: its truncation error
    is O(eps^4), so a much larger eps (1e-3) can be used, and round-off, which
    grows like 1/eps, stays about 1000x smaller (~1e-13 absolute). That lets
    gradient entries as small as 1e-7 be checked to a relative error of 1e-6.
    (A larger eps is likelier to straddle a ReLU's kink; pass eps=1e-4 if a
    ReLU network fails where the analytic gradient looks right.)

    ``x`` is perturbed in place, one entry at a time, and restored exactly;
    ``f`` takes no arguments and must read ``x`` (and not keep a copy of it).
    Returns an array of ``x``'s shape. Raises ``ValueError`` if ``f`` returns
    anything but a finite real number.
    """
    check_positive_number("eps", eps)
    check_methods("f", f, ("__call__",), "a function () -> loss that reads x")
    if not isinstance(x, np.ndarray) or x.dtype.kind != "f":
        raise TypeError(f"x: expected a float numpy array (it is perturbed by eps), got "
                        f"{getattr(x, 'dtype', type(x).__name__)}")
    check_choice("order", order, sorted(STENCILS))
    grad = np.zeros(x.shape, np.float64)
    flat_x, flat_g = x.reshape(-1), grad.reshape(-1)   # views (x must be contiguous)
    if not np.shares_memory(flat_x, x):
        raise ValueError("x: expected a contiguous array (it is perturbed in place)")
    for k in range(flat_x.size):
        old = flat_x[k]
        total = 0.0
        for j, weight in STENCILS[order].items():
            flat_x[k] = old + j * eps
            f_plus = _scalar(f(), k)
            flat_x[k] = old - j * eps
            f_minus = _scalar(f(), k)
            total += weight * (f_plus - f_minus)
        flat_x[k] = old
        flat_g[k] = total / eps
    return grad


def _scalar(value, k: int) -> float:
    """The value of ``f()`` as a float: a finite real scalar, else a ValueError naming the entry."""
    if np.ndim(value) != 0 or not isinstance(value, (int, float, np.integer, np.floating)) or \
            isinstance(value, (bool, np.bool_)):
        raise ValueError(f"f: expected a real number (the loss), got {type(value).__name__} "
                         f"of shape {np.shape(value)}")
    if not math.isfinite(value):
        raise ValueError(f"f: returned {value} with entry {k} of x perturbed; expected a finite loss")
    return float(value)


@dataclass
class GradcheckReport:
    """Result of ``gradcheck``: the worst relative error of every checked array.

    ``errors`` maps a name (an input such as ``"X"`` or ``"state0.c"``, or a
    parameter such as ``"W_hh"``) to its score; ``analytic`` and ``numeric`` keep
    both gradients for inspection (plot them, diff them). A gated cell's stacked
    parameters also get a row per gate, ``"W_hh[f]"`` (rows H:2H of an LSTM's
    ``W_hh``), so that a wrong forget-gate derivative is named as such: ``worst``
    names the gate's row rather than the whole array when both score the same.
    """

    errors: dict[str, float] = field(default_factory=dict)
    analytic: dict[str, np.ndarray] = field(default_factory=dict)
    numeric: dict[str, np.ndarray] = field(default_factory=dict)

    @property
    def max_error(self) -> float:
        return max(self.errors.values(), default=0.0)

    @property
    def worst(self) -> str:
        """Name of the array with the largest error."""
        return max(self.errors, key=lambda name: self.errors[name])

    def passed(self, tol: float = 1e-6) -> bool:
        return self.max_error <= check_positive_number("tol", tol)

    def failures(self, tol: float = 1e-6) -> list[str]:
        """The names whose error exceeds ``tol``, worst first (a gate's row before its whole array)."""
        check_positive_number("tol", tol)
        bad = [name for name, err in self.errors.items() if err > tol]
        return sorted(bad, key=lambda name: (-self.errors[name], "[" not in name))

    def __str__(self):
        width = max((len(k) for k in self.errors), default=4)
        rows = [f"{k:<{width}}  {v:.2e}" for k, v in sorted(self.errors.items(), key=lambda kv: kv[1])]
        return "\n".join(rows + [f"worst: {self.worst} {self.max_error:.2e}" if self.errors else "nothing checked"])


def gradcheck(fn, inputs, *, backward=None, params=None, eps: float = 1e-3, order: int = 4, rng=0) -> GradcheckReport:
    """Check ``backward`` against central differences for every parameter and float input.

    Args:
        fn: a ``seqnn.Module`` (its ``forward``, ``backward`` and parameters are
            used) or a plain function ``fn(*inputs) -> output(s)``.
        inputs: tuple of arguments for ``fn`` (a single array may stand
            alone). Float arrays (also inside tuples, like an LSTM's
            ``(h0, c0)``) are checked; None, integer arrays and other values
            are passed through unchecked.
        backward: ``backward(*douts) -> grads``, one upstream gradient per output
            of ``fn`` in, one gradient per input out, in order (None for inputs
            such as token ids; extra trailing entries are ignored; a single
            array may stand alone). A Module's ``backward`` is used by default.
        params: ``{name: Parameter}`` to check as well (a Module's own by default).
        eps, order: the central-difference step and stencil (see
            ``numerical_gradient``): order 4 with eps 1e-3 by default; order 2
            wants eps ~ 1e-6.
        rng: seed or Generator for the random upstream gradients.

    Returns a ``GradcheckReport``; ``report.max_error <= 1e-6`` is a pass.
    Refuses (ValueError) a module in training mode with active dropout, whose
    every forward draws new masks: call ``eval()`` first.
    """
    if isinstance(inputs, np.ndarray):
        inputs = (inputs,)
    if not isinstance(inputs, tuple):
        raise TypeError(f"inputs: expected a tuple of fn's arguments (or one array), got {type(inputs).__name__}")
    dropout = _active_dropout(fn)
    if dropout is not None:
        raise ValueError(f"fn: {dropout} is active (training mode): every forward draws new masks, so the "
                         "finite differences would compare different functions; call fn.eval() first, or check "
                         "a function that redraws the same masks at every call")
    forward = fn.forward if isinstance(fn, Module) else fn
    if backward is None:
        if not isinstance(fn, Module):
            raise TypeError("backward: required when fn is a plain function")
        backward = fn.backward
    if not callable(backward):
        raise TypeError(f"backward: expected a function douts -> grads, got {type(backward).__name__}")
    if params is None:
        params = dict(fn.named_parameters()) if isinstance(fn, Module) else {}
    layout = _gate_layout(params if isinstance(params, Module) else fn)
    if isinstance(params, Module):
        params = dict(params.named_parameters())
    if not isinstance(params, dict) or not all(isinstance(p, Parameter) for p in params.values()):
        raise TypeError(f"params: expected {{name: Parameter}} or a Module, got {type(params).__name__}")
    names = _argument_names(forward, len(inputs))
    parts = _state_names(fn)
    leaves = {name: x for name, x in _float_leaves(names, inputs, parts=parts)}
    for name, x in list(leaves.items()) + [(n, p.value) for n, p in params.items()]:
        if x.dtype != np.float64:
            raise TypeError(f"{name}: gradcheck needs float64 (got {x.dtype}); "
                            "float32 round-off swamps the differences")

    # Analytic gradients from one forward and one backward with random upstream gradients.
    for p in params.values():
        p.grad.fill(0.0)
    out = forward(*inputs)
    rng = as_rng(rng)
    douts = _map(lambda y: _random_like(y, rng), out)
    grads = backward(*douts) if isinstance(out, tuple) else backward(douts)
    if not isinstance(grads, tuple):
        grads = (grads,)
    report = GradcheckReport()
    analytic = dict(_float_leaves(names, grads[:len(inputs)], keep_none=True, parts=parts))
    analytic.update({name: p.grad.copy() for name, p in params.items()})

    def loss():
        return sum(float(np.sum(np.asarray(y) * dy)) for y, dy in zip(_leaves(forward(*inputs)), _leaves(douts)))

    for name, x in list(leaves.items()) + [(n, p.value) for n, p in params.items()]:
        a = analytic.get(name)
        if a is None:
            raise ValueError(f"{name}: backward returned no gradient for this input")
        n = numerical_gradient(loss, x, eps, order)
        report.analytic[name], report.numeric[name] = np.asarray(a), n
        gates, H = layout.get(name, ((), 0))
        for k, gate in enumerate(gates):                 # first, so that `worst` names the gate
            report.errors[f"{name}[{gate}]"] = relative_error(np.asarray(a)[k * H:(k + 1) * H], n[k * H:(k + 1) * H])
        report.errors[name] = relative_error(a, n)
    return report


def _active_dropout(module, prefix: str = "") -> str | None:
    """The name of a sub-module that draws random masks in training mode (dropout with p > 0), or None."""
    if not isinstance(module, Module):
        return None
    if module.training and getattr(module, "p", 0) > 0 and hasattr(module, "rng"):
        return f"{prefix.rstrip('.') or type(module).__name__} (dropout p={module.p})"
    for key, child in module.children():
        found = _active_dropout(child, f"{prefix}{key}.")
        if found is not None:
            return found
    return None


def _argument_names(f, count: int) -> list[str]:
    try:
        names = [p.name for p in inspect.signature(f).parameters.values()
                 if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    except (TypeError, ValueError):
        names = []
    names = names[:count]
    return names + [f"input{k}" for k in range(len(names), count)]


def _float_leaves(names, values, keep_none=False, parts=None):
    """Yield (name, array) for float arrays in ``values``, descending into tuples/lists.

    A tuple with as many items as ``parts`` (the state's names, ``("h", "c")``) names
    them ``state0.h``, ``state0.c``; other tuples are numbered (``args.0``).
    """
    for name, v in zip(names, values):
        if isinstance(v, (tuple, list)):
            sub = parts if parts is not None and len(parts) == len(v) else range(len(v))
            yield from _float_leaves([f"{name}.{k}" for k in sub], v, keep_none)
        elif isinstance(v, np.ndarray) and np.issubdtype(v.dtype, np.floating):
            yield name, v
        elif keep_none and v is None:
            yield name, None


def _state_names(fn):
    """The names of the parts of ``fn``'s state when it has several (an LSTM's ``("h", "c")``), else None."""
    for obj in (fn, getattr(fn, "cell", None), getattr(fn, "rnn", None), getattr(fn, "encoder", None)):
        names = getattr(obj, "state_names", None)
        if names is not None and len(names) > 1:
            return tuple(names)
    return None


def _gate_layout(module, prefix: str = "") -> dict:
    """{parameter name: (gate names, H)} for the stacked parameters of every gated cell in ``module``."""
    if not isinstance(module, Module):
        return {}
    layout = {}
    gates = getattr(module, "gate_names", ())
    if gates:
        for name in ("W_xh", "W_hh", "b_h"):
            if name in module.params:
                layout[prefix + name] = (tuple(gates), module.hidden_size)
    for key, child in module.children():
        layout.update(_gate_layout(child, f"{prefix}{key}."))
    return layout


def _leaves(obj):
    if isinstance(obj, (tuple, list)):
        for item in obj:
            yield from _leaves(item)
    elif obj is not None:
        yield obj


def _map(f, obj):
    if isinstance(obj, (tuple, list)):
        return tuple(_map(f, item) for item in obj)
    return None if obj is None else f(obj)


def _random_like(y, rng):
    y = np.asarray(y)
    if y.ndim == 0:
        return float(rng.standard_normal())
    return rng.standard_normal(y.shape).astype(y.dtype)


__all__ = ["gradcheck", "numerical_gradient", "relative_error", "GradcheckReport"]
