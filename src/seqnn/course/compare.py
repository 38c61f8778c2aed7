"""How the grader compares a student's answer with the right one, and says in one line how they differ.

``differs`` names what is off: the shape, the dtype, NaN, which gate's rows (``dW_hh[f]``), or the time step (the
first that differs, for a forward; the last, for a backward, where the error enters and flows back to every step
before it); ``report`` adds the named mistake that gives exactly the student's numbers, if one does, or else a
hint for the first wrong value in computation order; ``gradient_check`` holds a backward against finite
differences of the student's own forward; ``against_both`` says which of the two is wrong.

The tolerances go by the dtype of the student's answer (``TOLERANCE``): float64 answers are held to
``rtol 1e-6``, float32 answers to ``rtol 1e-4``; a gradient against finite differences to ``rtol 1e-5``.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

TOLERANCE = {np.dtype(np.float64): (1e-6, 1e-9), np.dtype(np.float32): (1e-4, 1e-6)}     # (rtol, atol)
NUMERIC = (1e-5, 1e-7)                  # a gradient against central differences (eps 1e-5) in float64
MISTAKEN = (1e-5, 1e-8)                 # a named mistake's numbers (with or without an eps such as 1e-6 in them)


class Wrong(Exception):
    """A part's answer is wrong: the message says what, in one line (``named``: as a known mistake)."""

    def __init__(self, message: str, named: bool = False, wrong: tuple = ()):
        super().__init__(message)
        self.named, self.wrong = named, wrong          # ``wrong``: the names of the values found wrong


def returned(value, function: str, names: tuple) -> tuple:
    """``value``, which the student's ``function`` returned, as the tuple of ``names`` it should be."""
    if not isinstance(value, tuple) or len(value) != len(names):
        count = f"{len(value)} values" if isinstance(value, tuple) else f"a {type(value).__name__}"
        raise Wrong(f"{function} returned {count}, expected {len(names)}: {', '.join(names)}")
    return value


# --- comparing arrays, and saying how they differ -----------------------------------------------------------------
def tolerance(got) -> tuple:
    """(rtol, atol) for an answer of ``got``'s dtype (float64's for anything but float32)."""
    return TOLERANCE.get(getattr(got, "dtype", None), TOLERANCE[np.dtype(np.float64)])


def close(got, want, tol=None, nan_ok: bool = False) -> bool:
    """Is ``got`` ``want`` within ``tol`` = (rtol, atol) (by default, the tolerance of ``got``'s dtype)? Each
    entry within ``atol + rtol * (|its want| + the largest |want|)``: an error is judged against the array's
    scale too, so that an entry near 0 is not held to 1e-9. ``nan_ok``: NaN matches NaN (a mistake's NaN is the
    student's NaN)."""
    try:
        rtol, atol = tol or tolerance(np.asarray(got))
        got, want = np.asarray(got, dtype=np.float64), np.asarray(want, dtype=np.float64)
    except (TypeError, ValueError):
        return False
    if got.shape != want.shape:
        return False
    finite = np.abs(want[np.isfinite(want)])
    scale = float(finite.max()) if finite.size else 0.0
    return bool(np.allclose(got, want, rtol=rtol, atol=atol + rtol * scale, equal_nan=nan_ok))


def relative_error(got, want) -> float:
    got, want = np.asarray(got, dtype=np.float64), np.asarray(want, dtype=np.float64)
    return float(np.abs(got - want).max() / max(np.abs(got).max(), np.abs(want).max(), 1e-12))


def differs(name: str, got, want, gates: tuple = (), time: str = "", tol=None) -> str | None:
    """None if ``got`` is ``want``; else a phrase naming what differs: the shape, the dtype, NaN, the gates (rows
    in blocks of ``gates``), the time step (axis 0; ``time`` is "first" for a forward, "last" for a backward)."""
    try:
        dtype = np.asarray(got).dtype
        got = np.asarray(got, dtype=np.float64)
    except (TypeError, ValueError):
        return f"{name} is not an array of numbers (got {type(got).__name__})"
    want = np.asarray(want)
    if got.shape != want.shape:
        if time and got.ndim == want.ndim and abs(got.shape[0] - want.shape[0]) == 1:
            return f"{name} has {got.shape[0]} time steps, expected {want.shape[0]}: an off-by-one in the time loop"
        if got.ndim == 2 and got.shape == want.shape[::-1] and close(got.T, want):
            return f"{name} is transposed: shape {got.shape}, expected {want.shape} (the values are right)"
        return f"{name} has shape {got.shape}, expected {want.shape}"
    if dtype.kind == "f" and dtype.itemsize < 4:
        return f"{name} is {dtype}, expected float64 like the inputs: {dtype} keeps only 3 digits"
    label = name if dtype == np.float64 or dtype.kind != "f" else f"{name} ({dtype})"
    if not np.isfinite(got).all():
        return f"{label} holds NaN or inf"
    tol = tol or tolerance(np.empty(0, dtype))
    if close(got, want, tol):
        return None
    where = ""
    if gates:
        H = want.shape[0] // len(gates)
        bad = [g for k, g in enumerate(gates) if not close(got[k * H:(k + 1) * H], want[k * H:(k + 1) * H], tol)]
        where = f"[{','.join(bad)}]" if bad and len(bad) < len(gates) else ""
    if time == "first":
        first = next(t for t in range(len(want)) if not close(got[t], want[t], tol))
        where += f" (first at time step t = {first} of {len(want)})"
    elif time == "last":
        last = max(t for t in range(len(want)) if not close(got[t], want[t], tol))
        where += (f" (at time steps t <= {last}: the error enters at t = {last}, the last wrong step, and flows "
                  "back from there)" if last else " (at t = 0 only)")
    off = f"relative error {relative_error(got, want):.2g}"
    if dtype != np.float64 and dtype.kind == "f":
        off += f"; {dtype} answers are held to rtol {tol[0]:g}"
    return f"{label}{where} is wrong ({off})"


def report(names, got: tuple, want: tuple, bugs: dict, gates=None, time=None, hints=None) -> None:
    """Raise ``Wrong`` naming every output of ``got`` that is not ``want`` (``names`` in the order they are
    computed) and the mistake that gives ``got`` (to ``MISTAKEN``), if one does; else the hint (``hints``: name
    -> where to look) for the first wrong output. ``bugs``: a mistake's words -> its outputs (None for one it
    does not determine), or a list of such tuples (the ways of making that mistake)."""
    if not isinstance(got, tuple) or len(got) != len(want):
        raise Wrong(f"expected {len(want)} values ({', '.join(names)}), got "
                    f"{len(got) if isinstance(got, tuple) else type(got).__name__}")
    wrong = [(n, d) for n, d in ((n, differs(n, g, w, (gates or {}).get(n, ()), (time or {}).get(n, "")))
                                 for n, g, w in zip(names, got, want)) if d]
    if not wrong:
        return
    said = "; ".join(d for _, d in wrong)
    for bug, outputs in bugs.items():                 # None: the mistake says nothing of that value
        for each in outputs if isinstance(outputs, list) else [outputs]:      # a list: the ways to make it
            if all(w is None or close(g, w, MISTAKEN, nan_ok=True) for g, w in zip(got, each)):
                raise Wrong(f"{said}: {bug}", named=True)
    first = wrong[0][0]
    raise Wrong(f"{said}: look at {hints[first]}" if hints and first in hints else said,
                wrong=tuple(n for n, _ in wrong))


def gradient_check(numeric: dict | None, backward_out: dict, gates: dict) -> None:
    """The student's gradients (``backward_out``: name -> array) against ``numeric``, the central differences
    of the student's own forward (None: that forward is not float64, and differences would drown in
    round-off)."""
    if numeric is None:
        return
    off = [(name, d) for name, d in ((name, differs(name, backward_out[name], want, gates.get(name, ()),
                                                     tol=NUMERIC)) for name, want in numeric.items()) if d]
    if off:
        raise Wrong(f"against finite differences of your own forward: {'; '.join(d for _, d in off)}",
                    wrong=tuple(n for n, _ in off))


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
            if set(mismatch.wrong) == set(err.wrong):       # the same arrays: no need to list them again
                raise Wrong(f"{err} (nor is it the gradient of your own forward: the backward is what is wrong)",
                            wrong=err.wrong) from None
            raise Wrong(f"{err} ({mismatch})") from None
        except Exception:                                     # noqa: BLE001  (shapes too wrong to check: err says)
            raise err from None
        raise Wrong(f"{err}; but it is the exact gradient of your forward, so fix the forward first") from None
    try:
        own()
    except Wrong as mismatch:
        raise Wrong(f"right for the cell, yet not the gradient of your own forward ({mismatch}), so your forward "
                    "is wrong: fix it first") from None
