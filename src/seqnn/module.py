"""``Parameter`` (a value and its gradient) and ``Module`` (a thing that owns parameters).

A module's parameters are read and written by their lecture names::

    cell.W_hh            # the (H, H) array itself (not a copy)
    cell.W_hh = M        # copies M into it, after checking shape and dtype
    cell.params["W_hh"].grad   # its gradient, accumulated by backward()

Gradients accumulate (``+=``) across backward calls, as in PyTorch: call
``zero_grad()`` before each backward unless you mean to add them up. A forward
keeps what its backward needs (a copy of any writeable array it was given) and
the backward consumes it: one backward per forward (a second raises), and a
backward belongs to the latest forward.
"""

from __future__ import annotations

import numpy as np

from ._checks import check_bool


class Parameter:
    """A trainable array ``value`` and its gradient ``grad`` (same shape and dtype).

    Write into them (``p.grad[...] = g``, ``p.value -= lr * p.grad``); replacing
    ``grad`` with an array of another shape or dtype raises ``ValueError``.
    """

    __slots__ = ("value", "_grad", "name")

    def __init__(self, value: np.ndarray, name: str = "parameter"):
        self.value = value
        self._grad = np.zeros_like(value)
        self.name = name                    # the lecture's name in its module ("W_hh"), for messages

    @property
    def grad(self) -> np.ndarray:
        return self._grad

    @grad.setter
    def grad(self, g: np.ndarray) -> None:  # `p.grad += x` lands here too, with the same array
        if g is not self._grad and (not isinstance(g, np.ndarray) or g.shape != self.value.shape
                                    or g.dtype != self.value.dtype):
            raise ValueError(f"{self.name}.grad: expected a {self.value.dtype} array of shape {self.value.shape} "
                             f"(the parameter's), got {getattr(g, 'dtype', type(g).__name__)} "
                             f"{getattr(g, 'shape', '')}")
        self._grad = g

    @property
    def shape(self):
        return self.value.shape

    def __repr__(self):
        return f"Parameter({self.name}, shape={self.value.shape}, dtype={self.value.dtype})"


def copy_into(name: str, target: np.ndarray, value) -> None:
    """Copy ``value`` into the parameter array ``target`` (or a view of one), in place, so views stay valid:
    ``cell.W_hh = M``, ``cell.W_xf = M`` and ``load_state_dict`` write this way (PyTorch's ``copy_``)."""
    value = np.asarray(value)
    if value.shape != target.shape:
        raise ValueError(f"{name}: expected shape {target.shape}, got {value.shape}")
    if not np.issubdtype(value.dtype, np.floating) and not np.issubdtype(value.dtype, np.integer):
        raise TypeError(f"{name}: expected a real-valued array, got dtype {value.dtype}")
    if not np.isfinite(value).all():
        raise ValueError(f"{name}: expected finite values, got non-finite entries")
    target[...] = value


class Module:
    """Base class: named parameters, sub-modules, ``parameters()``, ``zero_grad()``, state dicts.

    Sub-classes call ``self.add_parameter(name, array)`` in ``__init__``; sub-modules
    are found automatically among the attributes (also inside lists and tuples).
    """

    dtype = np.dtype(np.float64)
    training = True    # dropout is active only in training mode: see train() / eval()

    def __init__(self):
        object.__setattr__(self, "params", {})

    # --- parameters by name -------------------------------------------------
    def add_parameter(self, name: str, value: np.ndarray) -> None:
        self.params[name] = Parameter(np.ascontiguousarray(value, dtype=self.dtype), name)

    def __getattr__(self, name):
        # Only called when normal lookup fails: parameters are looked up here.
        params = self.__dict__.get("params", {})
        if name in params:
            return params[name].value
        raise AttributeError(f"{type(self).__name__} has no attribute {name!r}")

    def __setattr__(self, name, value):
        params = self.__dict__.get("params", {})
        if name in params:
            copy_into(name, params[name].value, value)
        else:
            object.__setattr__(self, name, value)

    # --- walking the tree ---------------------------------------------------
    def children(self):
        """Yield ``(name, module)`` for every direct sub-module, in definition order."""
        for key, value in self.__dict__.items():
            if isinstance(value, Module):
                yield key, value
            elif isinstance(value, (list, tuple)):
                for i, item in enumerate(value):
                    if isinstance(item, Module):
                        yield f"{key}.{i}", item

    def named_parameters(self, prefix: str = ""):
        """Yield ``(dotted_name, Parameter)`` for this module and all sub-modules."""
        for name, p in self.params.items():
            yield prefix + name, p
        for key, child in self.children():
            yield from child.named_parameters(prefix + key + ".")

    def parameters(self) -> list[Parameter]:
        """All parameters (this module's and its sub-modules'), in a fixed order."""
        return [p for _, p in self.named_parameters()]

    def zero_grad(self) -> None:
        """Set every parameter's gradient to zero."""
        for p in self.parameters():
            p.grad.fill(0.0)

    def train(self, mode: bool = True):
        """Set training mode (dropout on) for this module and every sub-module; returns self."""
        self.training = check_bool("mode", mode)      # train("no") would switch training on
        for _, child in self.children():
            child.train(mode)
        return self

    def eval(self):
        """Set evaluation mode (dropout off); returns self."""
        return self.train(False)

    def generators(self) -> list[np.random.Generator]:
        """Every distinct ``np.random.Generator`` this module and its sub-modules draw from
        (the dropout masks), in a fixed order. Saving their ``bit_generator.state``
        and restoring it later lets a stopped training run continue exactly."""
        found = [v for v in self.__dict__.values() if isinstance(v, np.random.Generator)]
        for _, child in self.children():
            found += child.generators()
        unique = {id(g): g for g in found}          # one Generator is often shared by many layers
        return list(unique.values())

    def num_parameters(self) -> int:
        return sum(p.value.size for p in self.parameters())

    # --- state dicts --------------------------------------------------------
    def state_dict(self) -> dict[str, np.ndarray]:
        """``{dotted_name: copy of the value}`` for every parameter."""
        return {name: p.value.copy() for name, p in self.named_parameters()}

    def load_state_dict(self, state: dict) -> None:
        """Copy values in by name. Missing or unexpected names and wrong shapes raise ``ValueError``."""
        if not isinstance(state, dict):
            raise TypeError(f"state: expected a dict {{name: array}} such as state_dict() returns, "
                            f"got {type(state).__name__}")
        mine = dict(self.named_parameters())
        missing = sorted(set(mine) - set(state))
        unexpected = sorted(set(state) - set(mine))
        if missing or unexpected:
            raise ValueError(f"state: missing parameters {missing}, unexpected parameters {unexpected}")
        for name, p in mine.items():
            copy_into(name, p.value, state[name])

    def __repr__(self):
        return f"{type(self).__name__}({self.extra_repr()})"

    def extra_repr(self) -> str:
        """What ``repr`` shows between the parentheses: a model's ``config`` (the arguments that rebuild it)."""
        return ", ".join(f"{k}={v!r}" for k, v in getattr(self, "config", {}).items())


def parameter_list(params, allow_empty: bool = False) -> list[Parameter]:
    """``params`` (a list of Parameters, or a Module for all of its own) as a list, each Parameter once.

    What optimizers and clipping take. A method (``model.parameters`` uncalled),
    anything else than Parameters, the same Parameter twice (it would be updated
    twice per step) and, unless ``allow_empty``, no Parameter at all (a generator
    already used up) are refused, naming ``params``.
    """
    if isinstance(params, Module):
        return params.parameters()
    if callable(params):
        raise TypeError("params: got a method, not a list of parameters; call it: model.parameters()")
    if isinstance(params, (str, bytes, Parameter, np.ndarray)) or not hasattr(params, "__iter__"):
        raise TypeError(f"params: expected a list of seqnn Parameters (or a Module), got {type(params).__name__}")
    params = list(params)
    for k, p in enumerate(params):
        if not isinstance(p, Parameter):
            raise TypeError(f"params: expected seqnn Parameters (or a Module), got {type(p).__name__}")
        if any(q is p for q in params[:k]):
            raise ValueError(f"params: {p.name} (params[{k}]) appears more than once")
    if not params and not allow_empty:
        raise ValueError("params: expected at least one Parameter, got none")
    return params
