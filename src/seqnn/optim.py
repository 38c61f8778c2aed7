"""Gradient clipping, optimizers and learning-rate schedules.

The order of a training step is always::

    model.zero_grad(); loss = ...; model.backward(...)   # gradients
    clip_grad_norm(model.parameters(), 5.0)              # clip: its own step
    opt.step()                                           # update

Clipping never hides inside a backward pass: that would break gradient checks.
Every optimizer takes a list of ``Parameter`` (or a ``Module``) and updates
``p.value`` in place from ``p.grad``.
"""

from __future__ import annotations

import math

import numpy as np

from ._checks import (check_bool, check_choice, check_count, check_fraction, check_function, check_positive_int,
                      check_positive_number, check_real, check_state_dict)
from .module import Parameter, parameter_list


UNCLIPPABLE = "gradients: {}; a NaN or inf gradient cannot be clipped"


def _finite_grads(params, error: type, message: str) -> None:
    """Refuse a NaN or inf gradient: ``error(message)``, its ``{}`` naming the first parameter that holds one."""
    for k, p in enumerate(params):
        if not np.isfinite(p.grad).all():
            bad = p.grad[~np.isfinite(p.grad)].flat[0]
            raise error(message.format(f"{p.name} (params[{k}], shape {p.value.shape}) has a gradient of {bad}"))


def grad_norm(params) -> float:
    """The global L2 norm of all gradients: ``sqrt(sum over every parameter of sum(grad**2))``.

    Computed without overflow for any finite gradients (a float32 gradient of 1e20
    squares to inf: then the sum is taken again, scaled by the largest entry).
    """
    params = parameter_list(params, allow_empty=True)
    total = sum(float(np.vdot(p.grad, p.grad)) for p in params)
    if math.isfinite(total) or not all(np.isfinite(p.grad).all() for p in params):
        return math.sqrt(total)
    top = max(float(np.abs(p.grad).max()) for p in params if p.grad.size)
    return top * math.sqrt(sum(float(np.vdot(p.grad / top, p.grad / top)) for p in params))


def clip_grad_norm(params, max_norm: float, *, norm: float | None = None) -> float:
    """Rescale all gradients together so that their global L2 norm is at most ``max_norm``.

    ``norm = sqrt(sum over every parameter of sum(grad**2))``; if it exceeds
    ``max_norm`` every gradient is multiplied by ``max_norm / (norm + 1e-6)``
    (PyTorch's rule). One common factor keeps the gradient's direction.
    ``norm``: that norm, if the caller has computed it already (``grad_norm``).

    Returns the norm *before* clipping (log it: it shows exploding gradients).
    Raises ValueError if the norm is not finite (a NaN or inf gradient).
    """
    params = parameter_list(params)
    check_positive_number("max_norm", max_norm)
    norm = grad_norm(params) if norm is None else check_real("norm", norm)
    if not math.isfinite(norm):
        _finite_grads(params, ValueError, UNCLIPPABLE)
    if norm > max_norm:
        scale = max_norm / (norm + 1e-6)
        for p in params:
            p.grad *= scale
    return norm


def clip_grad_value(params, clip_value: float) -> None:
    """Clamp every gradient entry to ``[-clip_value, clip_value]`` in place.

    Unlike ``clip_grad_norm`` this changes the gradient's direction
    (min-char-rnn's ``np.clip(dparam, -5, 5)``). Raises ValueError, as
    ``clip_grad_norm`` does, if a gradient holds a NaN or an inf.
    """
    params = parameter_list(params)
    check_positive_number("clip_value", clip_value)
    _finite_grads(params, ValueError, UNCLIPPABLE)   # np.clip would pass a NaN on, make an inf the limit
    for p in params:
        np.clip(p.grad, -clip_value, clip_value, out=p.grad)


class Optimizer:
    """Base class: keeps the parameter list, the step count and the learning rate.

    ``lr_schedule``, if given, is a function ``step_number -> learning rate``
    called before every step (step numbers start at 0), e.g.
    ``lambda k: 0.1 * 0.5 ** (k // 1000)``.

    ``state_dict()`` / ``load_state_dict()`` save and restore everything a step
    reads besides the parameters and their gradients (step count, learning rate,
    hyper-parameters, every per-parameter slot), so that a stopped run resumes
    to the bit.
    """

    hyper: dict = {}                 # the hyper-parameters a subclass keeps as attributes: name -> check
    slots: dict[str, str] = {}       # its per-parameter arrays: name -> "any" or ">= 0"

    def __init__(self, params, lr: float, lr_schedule=None):
        self.params = parameter_list(params)
        self.lr = check_positive_number("lr", lr)
        self.lr_schedule = check_function("lr_schedule", lr_schedule, "a function step -> learning rate")
        self.steps = 0
        self.state: dict[tuple[str, int], np.ndarray] = {}

    def step(self, *, check: bool = True) -> None:
        """Update every parameter from its gradient.

        Raises ``FloatingPointError`` before anything is updated if a gradient
        holds a NaN or an inf (the message names the parameter), and ValueError
        if the learning-rate schedule returns anything but a positive number:
        a step never writes NaN into the weights. ``check=False``: the caller has
        proven every gradient finite (``train_step`` has: their global norm is).
        """
        if check:
            _finite_grads(self.params, FloatingPointError, f"optimizer step {self.steps + 1}: {{}}; nothing was "
                          "updated")
        if self.lr_schedule is not None:
            self.lr = check_positive_number(f"lr_schedule (at step {self.steps})", self.lr_schedule(self.steps))
        for k, p in enumerate(self.params):
            self.update(k, p)
        self.steps += 1

    def zero_grad(self) -> None:
        for p in self.params:
            p.grad.fill(0.0)

    def update(self, k: int, p: Parameter) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def state_dict(self) -> dict:
        """A copy of the optimizer's state::

            {"type": "Adam", "steps": 12, "lr": 0.001,
             "hyper": {"b1": 0.9, "b2": 0.999, "eps": 1e-08},
             "slots": {"m.0": array, "v.0": array, ...}}    # slot name . parameter index

        ``slots`` holds every per-parameter array (velocity, squared-gradient
        sums, Adam's moments), copied, in the parameter's shape and dtype. A
        learning-rate schedule is code and is not saved: pass the same one again.
        """
        return {"type": type(self).__name__, "steps": self.steps, "lr": self.lr,
                "hyper": {name: getattr(self, name) for name in self.hyper},
                "slots": {f"{name}.{k}": value.copy() for (name, k), value in sorted(self.state.items())}}

    def load_state_dict(self, state: dict) -> None:
        """Restore what ``state_dict()`` returned (as PyTorch does, hyper-parameters included).

        Everything is checked before anything is changed, as the constructor
        checks it: ``ValueError`` (``TypeError`` for a value of the wrong kind)
        for another optimizer type, a missing entry, a step count that is not an
        int >= 0, a learning rate or hyper-parameter out of range, a slot this
        optimizer does not keep or for a parameter it does not hold, a slot whose
        shape or dtype differs from its parameter's, and a slot holding NaN or
        inf (or a negative value where a sum of squares belongs).
        """
        check_state_dict("state", state, ("steps", "lr", "hyper", "slots"), type(self).__name__)
        steps = check_count("state['steps']", state["steps"])
        lr = check_positive_number("state['lr']", state["lr"])
        if set(state["hyper"]) != set(self.hyper):
            raise ValueError(f"state: expected the hyper-parameters {list(self.hyper)}, got {list(state['hyper'])}")
        hyper = {name: check(f"state['hyper']['{name}']", state["hyper"][name]) for name, check in self.hyper.items()}
        self.state = self._checked_slots(state["slots"])
        self.steps, self.lr = steps, lr
        for name, value in hyper.items():
            setattr(self, name, value)

    def _checked_slots(self, saved: dict) -> dict:
        slots = {}
        for key, value in saved.items():
            name, _, k = key.rpartition(".")
            if name not in self.slots:
                raise ValueError(f"state: slot {key!r}: {type(self).__name__} keeps no {name!r} "
                                 f"(its slots: {list(self.slots)})")
            if not k.isdigit() or int(k) >= len(self.params):
                raise ValueError(f"state: slot {key!r} names no parameter of this optimizer "
                                 f"(it holds {len(self.params)})")
            p, value = self.params[int(k)], np.asarray(value)
            if value.shape != p.value.shape or value.dtype != p.value.dtype:
                raise ValueError(f"state: slot {key!r} is {value.dtype} {value.shape}, "
                                 f"its parameter {p.value.dtype} {p.value.shape}")
            if not np.isfinite(value).all():
                raise ValueError(f"state: slot {key!r} ({p.name}) holds NaN or inf")
            if self.slots[name] == ">= 0" and (value < 0).any():
                raise ValueError(f"state: slot {key!r} ({p.name}) is a sum of squares, yet holds a negative value")
            slots[name, int(k)] = value.copy()
        return slots

    def _slot(self, name: str, k: int, p: Parameter) -> np.ndarray:
        """Per-parameter optimizer memory (velocity, squared-gradient sums), created as zeros."""
        if (name, k) not in self.state:
            self.state[name, k] = np.zeros_like(p.value)
        return self.state[name, k]


class SGD(Optimizer):
    """Stochastic gradient descent, with optional (Nesterov) momentum.

    Plain: ``w -= lr * g``. Momentum ``mu`` (PyTorch's form):
    ``v = mu * v + g; w -= lr * v``; Nesterov: ``w -= lr * (g + mu * v)``.
    """

    hyper = {"momentum": check_fraction, "nesterov": check_bool}
    slots = {"velocity": "any"}

    def __init__(self, params, lr: float = 0.1, momentum: float = 0.0, nesterov: bool = False,
                 lr_schedule=None):
        super().__init__(params, lr, lr_schedule)
        momentum = check_fraction("momentum", momentum)
        if check_bool("nesterov", nesterov) and momentum == 0.0:
            raise ValueError("nesterov: needs momentum > 0")
        self.momentum, self.nesterov = float(momentum), bool(nesterov)

    def update(self, k, p):
        if self.momentum == 0.0:
            p.value -= self.lr * p.grad
            return
        v = self._slot("velocity", k, p)
        v *= self.momentum
        v += p.grad
        p.value -= self.lr * (p.grad + self.momentum * v if self.nesterov else v)


class Adagrad(Optimizer):
    """Adagrad (min-char-rnn's choice): ``G += g**2; w -= lr * g / (sqrt(G) + eps)``."""

    hyper = {"eps": check_positive_number}
    slots = {"sum_sq": ">= 0"}

    def __init__(self, params, lr: float = 0.1, eps: float = 1e-8, lr_schedule=None):
        super().__init__(params, lr, lr_schedule)
        self.eps = check_positive_number("eps", eps)     # > 0: a gradient that has been 0 so far would give 0 / 0

    def update(self, k, p):
        G = self._slot("sum_sq", k, p)
        G += p.grad * p.grad
        p.value -= self.lr * p.grad / (np.sqrt(G) + self.eps)


class RMSProp(Optimizer):
    """RMSProp: ``s = rho * s + (1 - rho) * g**2; w -= lr * g / (sqrt(s) + eps)``."""

    hyper = {"rho": check_fraction, "eps": check_positive_number}
    slots = {"mean_sq": ">= 0"}

    def __init__(self, params, lr: float = 0.01, rho: float = 0.99, eps: float = 1e-8, lr_schedule=None):
        super().__init__(params, lr, lr_schedule)
        self.rho, self.eps = check_fraction("rho", rho), check_positive_number("eps", eps)

    def update(self, k, p):
        s = self._slot("mean_sq", k, p)
        s *= self.rho
        s += (1.0 - self.rho) * p.grad * p.grad
        p.value -= self.lr * p.grad / (np.sqrt(s) + self.eps)


class Adam(Optimizer):
    """Adam (Kingma & Ba 2015) with bias correction::

        m = b1 m + (1 - b1) g;   v = b2 v + (1 - b2) g**2
        w -= lr * (m / (1 - b1**t)) / (sqrt(v / (1 - b2**t)) + eps)
    """

    hyper = {"b1": check_fraction, "b2": check_fraction, "eps": check_positive_number}
    slots = {"m": "any", "v": ">= 0"}

    def __init__(self, params, lr: float = 1e-3, betas=(0.9, 0.999), eps: float = 1e-8, lr_schedule=None):
        super().__init__(params, lr, lr_schedule)
        if not isinstance(betas, (tuple, list)) or len(betas) != 2:
            raise ValueError(f"betas: expected two numbers (b1, b2) in [0, 1), got {betas!r}")
        self.b1, self.b2 = check_fraction("betas[0]", betas[0]), check_fraction("betas[1]", betas[1])
        self.eps = check_positive_number("eps", eps)

    def update(self, k, p):
        m, v = self._slot("m", k, p), self._slot("v", k, p)
        m *= self.b1
        m += (1.0 - self.b1) * p.grad
        v *= self.b2
        v += (1.0 - self.b2) * p.grad * p.grad
        t = self.steps + 1
        m_hat = m / (1.0 - self.b1 ** t)
        v_hat = v / (1.0 - self.b2 ** t)
        p.value -= self.lr * m_hat / (np.sqrt(v_hat) + self.eps)


# --- learning-rate schedules: the rate of each step as a function of the step --------------------------------
class LRSchedule:
    """The learning rate of update ``step`` (0 for the first), a pure function of the step (so a run resumed at
    any step continues the same curve, to the bit).

    Args:
        lr: the base rate.
        kind: "constant"; "cosine" (nanoGPT): from ``lr`` down a half cosine to a floor of ``lr / 10`` at
            ``total`` steps, then the floor; "step" (char-rnn): ``lr`` times ``decay`` after each epoch of
            ``steps_per_epoch`` steps, from the end of epoch ``decay_after`` on.
        warmup: the first ``warmup`` steps rise linearly, ``lr * (step + 1) / (warmup + 1)`` (nanoGPT's
            formula), before the schedule starts; 0 for none.
        total: the steps of the whole run (cosine only); steps_per_epoch, decay in (0, 1], decay_after >= 1
            (step only: the epochs are counted from 1, so decay_after 1 decays from the end of the first).

    >>> s = LRSchedule(0.01, "cosine", warmup=2, total=12)
    >>> [round(s(t), 5) for t in (0, 1, 2, 7, 12, 20)]
    [0.00333, 0.00667, 0.01, 0.0055, 0.001, 0.001]
    """

    KINDS = ("constant", "cosine", "step")
    FLOOR = 0.1                                # cosine ends at lr / 10 (nanoGPT's min_lr "~= learning_rate/10")

    def __init__(self, lr: float, kind: str = "constant", *, warmup: int = 0, total: int | None = None,
                 steps_per_epoch: int | None = None, decay: float = 0.97, decay_after: int = 10):
        self.lr, self.kind = check_positive_number("lr", lr), check_choice("kind", kind, self.KINDS)
        self.warmup = check_count("warmup", warmup)
        if kind == "cosine":
            self.total = check_positive_int("total", total)
        if kind == "step":
            self.steps_per_epoch = check_positive_int("steps_per_epoch", steps_per_epoch)
            if not 0 < check_real("decay", decay, "a factor in (0, 1]") <= 1:
                raise ValueError(f"decay: expected a factor in (0, 1], got {decay!r}")
            self.decay, self.decay_after = float(decay), check_positive_int("decay_after", decay_after)

    def describe(self) -> str:
        """The schedule in words, for a run's header."""
        what = {"constant": "constant",
                "cosine": f"cosine to {self.FLOOR * self.lr:g} at step {getattr(self, 'total', 0)}",
                "step": f"x{getattr(self, 'decay', 1):g} after each epoch from epoch {getattr(self, 'decay_after', 0)}"}
        return f"warmup {self.warmup} steps, then {what[self.kind]}" if self.warmup else what[self.kind]

    def __call__(self, step: int) -> float:
        if step < self.warmup:
            return self.lr * (step + 1) / (self.warmup + 1)
        if self.kind == "cosine":
            done = min(1.0, (step - self.warmup) / max(1, self.total - self.warmup))    # 0 -> 1 over the run
            floor = self.FLOOR * self.lr
            return floor + 0.5 * (1.0 + math.cos(math.pi * done)) * (self.lr - floor)
        if self.kind == "step":
            epochs_done = step // self.steps_per_epoch
            return self.lr * self.decay ** max(0, epochs_done - self.decay_after + 1)
        return self.lr
