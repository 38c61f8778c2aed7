"""The student's functions called in this process (a notebook's cells), the way ``remote.Remote`` calls them in a
child: ``seqnn.course.check`` grades with the same parts, so the feedback is the same as ``seqnn grade``'s.

Each call gets fresh copies of the arrays it is given (so a function that changes its arguments in place is
caught and named, as in a child); what it returns is copied too. What is not data (a numpy Generator, a function)
is passed as it is. There is no time limit and no wall here: the code is the student's own, in their own
notebook (interrupt the kernel to stop an endless loop).
"""

from __future__ import annotations

import os

import numpy as np

from .remote import Raised, Student
from .runner import FUNCTIONS, parameter_names

SEQNN = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def copied(value):
    """A fresh copy of every array, number, tuple, list and dict in ``value``; anything else as it is."""
    if isinstance(value, np.ndarray):
        return value.copy()
    if isinstance(value, (tuple, list)):
        return type(value)(copied(v) for v in value)
    if isinstance(value, dict):
        return {k: copied(v) for k, v in value.items()}
    return value


def same(a, b) -> bool:
    """Do ``a`` and its copy ``b`` still hold the same numbers (what is not data counts as the same)?"""
    if isinstance(a, np.ndarray):
        return isinstance(b, np.ndarray) and a.shape == b.shape and bool(np.array_equal(a, b, equal_nan=True))
    if isinstance(a, (tuple, list)):
        return isinstance(b, (tuple, list)) and len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    return True


def line_of(err: BaseException) -> int | None:
    """The line of the student's code (not seqnn's) the exception came from, the last such line."""
    tb, line = err.__traceback__, None
    while tb is not None:
        if not os.path.abspath(tb.tb_frame.f_code.co_filename).startswith(SEQNN + os.sep):
            line = tb.tb_lineno
        tb = tb.tb_next
    return line


class Local(Student):
    """The functions ``functions`` (name -> function) as the student's file: the calls of ``remote.Remote``."""

    def __init__(self, functions: dict):
        super().__init__()
        self.functions = functions

    def call(self, function: str, args: tuple, pick=None, vary=None, repeat: int = 1) -> list:
        """As ``Remote.call``: ``function(*args)`` once, ``repeat`` times or once per variation ``(argument,
        flat index, delta)``, each call on fresh copies; the list of what each returned."""
        fn = self.functions.get(function)
        if fn is None:
            raise Raised("NameError", f"{function} was not given: define it (run its cell) and pass it to check",
                         None)
        values, changed = [], set()
        for variation in vary or [None] * repeat:
            given = [copied(a) for a in args]
            if variation:
                given[variation[0]].reshape(-1)[variation[1]] += variation[2]
            kept = None if variation else [copied(a) for a in given]     # to find what a plain call changes
            try:
                out = fn(*given)
            except Exception as err:                      # noqa: BLE001  (whatever it is, the grader says it)
                raise Raised(type(err).__name__, str(err)[:500], line_of(err)) from None
            if kept is not None:                          # a plain call: did it change what it was given?
                names = parameter_names(fn, len(args))
                changed |= {names[j] for j, (a, b) in enumerate(zip(given, kept))
                            if not any(args[j] is t for t in self._theirs) and not same(a, b)}
            if pick is not None and isinstance(out, tuple) and len(out) > max(pick):
                out = tuple(out[j] for j in pick)
            values.append(copied(out))
        if changed:
            self.changed.append((function, sorted(changed)))
        for value in values:
            self._theirs += [value, *(value if isinstance(value, (tuple, list)) else ())]
        return values

    def rng(self, seed: int):
        """A ``numpy.random.Generator`` seeded ``seed``."""
        return np.random.default_rng(seed)

    def function(self, name: str):
        """The function ``runner.FUNCTIONS[name]``."""
        return FUNCTIONS[name]
