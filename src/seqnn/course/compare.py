"""How the grader compares a student's answer with the right one, and says in one line how they differ.

``differs`` names what is off: the shape, NaN, which gate's rows (``dW_hh[f]``)
or the first time step; ``report`` adds the classic mistake that gives exactly
the student's numbers, if one does; ``gradient_check`` holds a backward against
finite differences of the student's own forward; ``against_both`` says which of
the two is wrong.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from ..gradient_check import numerical_gradient


class Wrong(Exception):
    """A part's answer is wrong: the message says what, in one line (``named``: as a known mistake)."""

    def __init__(self, message: str, named: bool = False):
        super().__init__(message)
        self.named = named


# --- comparing arrays, and saying how they differ -----------------------------------------------------------------
def close(got, want, rtol: float = 1e-7) -> bool:
    got = np.asarray(got, dtype=np.float64)
    return got.shape == np.shape(want) and bool(np.allclose(got, want, rtol=rtol, atol=1e-10))


def relative_error(got, want) -> float:
    got, want = np.asarray(got, dtype=np.float64), np.asarray(want, dtype=np.float64)
    return float(np.abs(got - want).max() / max(np.abs(got).max(), np.abs(want).max(), 1e-12))


def differs(name: str, got, want, gates: tuple = (), time: bool = False) -> str | None:
    """None if ``got`` is ``want``; else a phrase naming what differs: the shape, NaN, the gates (rows in
    blocks of ``gates``), the first time step (axis 0 when ``time``)."""
    try:
        got = np.asarray(got, dtype=np.float64)
    except (TypeError, ValueError):
        return f"{name} is not an array of numbers (got {type(got).__name__})"
    if got.shape != np.shape(want):
        if time and got.ndim == len(np.shape(want)) and abs(got.shape[0] - np.shape(want)[0]) == 1:
            return (f"{name} has {got.shape[0]} time steps, expected {np.shape(want)[0]}: an off-by-one in the "
                    "time loop")
        return f"{name} has shape {got.shape}, expected {np.shape(want)}"
    if not np.isfinite(got).all():
        return f"{name} holds NaN or inf"
    if close(got, want):
        return None
    where = ""
    if gates:
        H = np.shape(want)[0] // len(gates)
        bad = [g for k, g in enumerate(gates) if not close(got[k * H:(k + 1) * H], want[k * H:(k + 1) * H])]
        where = f"[{','.join(bad)}]" if bad and len(bad) < len(gates) else ""
    if time:
        first = next(t for t in range(len(want)) if not close(got[t], want[t]))
        where += f" (first at time step t = {first} of {len(want)})"
    return f"{name}{where} is wrong (relative error {relative_error(got, want):.2g})"


def report(names, got: tuple, want: tuple, bugs: dict, gates=None, time=()) -> None:
    """Raise ``Wrong`` naming every output of ``got`` that is not ``want`` and the bug (name -> its outputs) that
    gives exactly ``got``, if one does."""
    if not isinstance(got, tuple) or len(got) != len(want):
        raise Wrong(f"expected {len(want)} values ({', '.join(names)}), got "
                    f"{len(got) if isinstance(got, tuple) else type(got).__name__}")
    wrong = [d for d in (differs(n, g, w, (gates or {}).get(n, ()), n in time) for n, g, w in zip(names, got, want))
             if d]
    if not wrong:
        return
    for bug, outputs in bugs.items():
        if all(close(g, w) for g, w in zip(got, outputs)):
            raise Wrong(f"{'; '.join(wrong)}: {bug}", named=True)
    raise Wrong("; ".join(wrong))


def gradient_check(forward: Callable, inputs: dict, backward_out: dict, gates: dict) -> None:
    """The student's gradients (``backward_out``: name -> array) against central differences of the student's
    own scalar ``forward(**inputs)``."""
    off = []
    for name, x in inputs.items():
        want = numerical_gradient(lambda: forward(**inputs), x)
        got = backward_out["d" + name]
        d = differs("d" + name, got, want, gates.get("d" + name, ()))
        if d:
            off.append(d)
    if off:
        raise Wrong(f"against finite differences of your own forward: {'; '.join(off)}")


def against_both(reference: Callable, own: Callable) -> None:
    """A backward checked against the reference and against finite differences of the student's own forward:
    where only the first fails, the backward is right for a forward that is wrong, and the report says so."""
    try:
        reference()
    except Wrong as err:
        if err.named:
            raise
        try:
            own()
        except Wrong as mismatch:
            raise Wrong(f"{err} ({mismatch})") from None
        except Exception:                                     # noqa: BLE001  (shapes too wrong to check: err says)
            raise err from None
        raise Wrong(f"{err}; but it is the exact gradient of your forward, so fix the forward first") from None
    try:
        own()
    except Wrong as mismatch:
        raise Wrong(f"right for the cell, yet not the gradient of your own forward ({mismatch}), so your forward "
                    "is wrong: fix it first") from None
