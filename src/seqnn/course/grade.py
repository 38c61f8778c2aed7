"""``seqnn grade``: each exercise file run in a child process of its own, checked part by part from outside it.

The student's functions run in a child process (``remote.py``, ``runner.py``): a fresh temporary folder, limits
on CPU time, memory and file size, its process group killed at the end, an audit hook that refuses writes
outside its folder, other processes, signals, the network and importing seqnn. The child returns only what the
functions return; every comparison and the score are computed here, so nothing the student's code prints or
does can forge a grade. Every part (``parts.PARTS``) is checked

- against seqnn's own code (the reference), on seeded float64 inputs, and for the RNN step on the lecture's
  "hello" numbers (docs/trace.md);
- a backward against finite differences of the student's own forward, taken before the backward runs;
- against the named mistakes (``mistakes.MISTAKES``): a mistake that gives exactly the student's numbers is
  named.

A file that cannot be imported, crashes or runs out of time scores 0 for each of its parts; the number of parts
never moves. An argument the student's function changes in place makes the part wrong, and is named.
"""

from __future__ import annotations

import os
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

from .compare import Wrong
from .exercises import EXERCISES
from .parts import PARTS, POINTS, part_names
from .local import Local
from .remote import SHOWN, Raised, Remote, Stop

TIME_LIMIT = 60.0                    # seconds per file, by default (seqnn grade --time-limit S)
SHOWN_LINES = 20                     # lines of a student's output shown in the report


@dataclass
class FileGrade:
    """One exercise file's grade: ``parts`` is a list of (part, ok, message); ``output`` what the student's code
    printed (its first characters), ``printed`` how many bytes in all."""

    file: str
    parts: list
    output: str = ""
    printed: int = 0

    @property
    def score(self) -> int:
        return sum(POINTS for _, ok, _ in self.parts if ok)

    @property
    def ok(self) -> bool:
        return all(ok for _, ok, _ in self.parts)

    def __repr__(self) -> str:
        return f"<{self.file}: {self.score}/{POINTS * len(self.parts)} parts right>"


# --- one file ----------------------------------------------------------------------------------------------------
def grade_file(path: str, time_limit: float = TIME_LIMIT, hidden: tuple = (), live: list | None = None) -> FileGrade:
    """Grade the exercise file at ``path`` (its name is one of ``EXERCISES``), part by part; its code may not
    read the folders ``hidden``. ``live`` (if given) gets the file's ``Remote``, to interrupt it."""
    name = os.path.basename(path)
    m = Remote(path, time_limit, hidden)
    if live is not None:
        live.append(m)
    try:
        results = parts_of(name, m)
    finally:
        m.close()
    return FileGrade(name, results, m.output(), m.printed)


def check(exercise: str, *functions) -> FileGrade:
    """Grade an exercise written in this process (a notebook's cell): ``exercise`` is its name (``"lstm_step"``
    or ``"lstm_step.py"``, one of ``EXERCISES``), ``functions`` the functions it asks for (found by their names,
    e.g. ``check("lstm_step", lstm_step_forward, lstm_step_backward)``). Prints the same report as ``seqnn
    grade`` and returns the FileGrade (``ok`` is True when every part is right)."""
    name = exercise if not isinstance(exercise, str) or exercise.endswith(".py") else f"{exercise}.py"
    if not isinstance(name, str) or name not in EXERCISES:
        raise ValueError(f"exercise: expected one of {', '.join(n[:-3] for n in EXERCISES)}, got {exercise!r}")
    odd = [f for f in functions if not callable(f) or not hasattr(f, "__name__")]
    if odd:
        raise TypeError(f"functions: expected the exercise's functions, got {type(odd[0]).__name__} {odd[0]!r}")
    g = FileGrade(name, parts_of(name, Local({f.__name__: f for f in functions})))
    print("\n".join(report_lines([g])))
    return g


def parts_of(name: str, m) -> list:
    """Each part of exercise ``name`` checked on ``m`` (a ``Remote`` or a ``Local``): (part, ok, message)."""
    results = []
    for part, checked in PARTS[name](m).items():
        m.new_part()
        problem = _check(m, checked, name)
        results.append((part, problem is None, problem or ""))
    return results


def _check(m, part, name: str) -> str | None:
    """Run one part's check (``part()``): None if it is right, else the one line that says why not."""
    see = f"; see {EXERCISES[name]}"
    try:
        with np.errstate(all="ignore"):
            part()
        problem = None
    except Wrong as err:
        problem = f"{err}{see}"
    except Raised as err:
        problem = f"{err.message} (fill in its # TODO)" if err.kind == "NotImplementedError" else f"{err}{see}"
    except Stop as err:
        problem = str(err)
    except Exception as err:                                  # noqa: BLE001  (what it returned could not be read)
        problem = f"could not be checked ({type(err).__name__}: {err}): is each value what the docstring says?"
    if m.changed:
        function, names = m.changed[0]
        told = (f"your {function} changed {' and '.join(names)} in place: the caller's array is overwritten "
                f"(x -= ..., x *= ..., x[...] = ...); compute a new array instead")
        problem = f"{told}{see}" if problem is None else f"{told}; {problem}"
    return problem


def missing(name: str, where: str) -> FileGrade:
    """The grade of an exercise a student did not hand in: 0 for each part."""
    return FileGrade(name, [(part, False, f"missing: no {name} in {where}") for part in part_names(name)])


# --- a folder (one student's) ------------------------------------------------------------------------------------
def exercise_files(target: str) -> list:
    """The exercise files at ``target`` (a folder, or one file), in the lecture's order; ValueError if none."""
    if os.path.isdir(target):
        files = [os.path.join(target, n) for n in EXERCISES if os.path.isfile(os.path.join(target, n))]
        if not files:
            raise ValueError(f"{target}: holds none of the exercises ({', '.join(EXERCISES)}); write them with "
                             f"seqnn exercises {target}")
        return files
    if os.path.basename(target) in EXERCISES and os.path.isfile(target):
        return [target]
    raise ValueError(f"{target}: expected a folder of exercises or one of {', '.join(EXERCISES)}")


def grade_files(paths: list, time_limit: float = TIME_LIMIT, jobs: int = 1, hidden: tuple = ()) -> list:
    """The FileGrade of each path (``jobs`` files at a time), in order. On Ctrl-C, every child is killed at once
    and the KeyboardInterrupt goes on."""
    live: list = []
    pool = ThreadPoolExecutor(max(1, jobs))
    try:
        return list(pool.map(lambda p: grade_file(p, time_limit, hidden, live), paths))
    except BaseException:
        for m in list(live):
            m.interrupt()
        raise
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def all_right(grades: list) -> bool:
    """Is every part of every file right?"""
    return all(g.ok for g in grades)


def report_lines(grades: list) -> list:
    """One line per part, the student's output under each file's parts, and the score."""
    lines, right, total = [], 0, 0
    for g in grades:
        for part, ok, message in g.parts:
            lines.append(f"{'ok   ' if ok else 'WRONG'} {g.file}: {part}" + ("" if ok else f": {message}"))
        right, total = right + g.score, total + POINTS * len(g.parts)
        if g.printed:
            cut = g.printed > SHOWN                           # then its last line shown may be cut short too
            shown = g.output.splitlines()[:-1 if cut else None]
            lines.append(f"  {g.file} printed {g.printed:,} bytes{' (the first of them)' if cut else ''}:")
            lines += [f"  | {s}" for s in squeezed(shown)[:SHOWN_LINES]]
    lines.append(f"score: {right}/{total} parts right" + (" (all of them)" if right == total else ""))
    return lines


def squeezed(lines: list) -> list:
    """``lines`` with each run of the same line written once, and how many times it came."""
    out: list = []
    for line in lines:
        if out and out[-1][0] == line:
            out[-1][1] += 1
        else:
            out.append([line, 1])
    return [line if n == 1 else f"{line}   [{n} times]" for line, n in out]


def record(grades: list) -> dict:
    """The grades as data (for ``--json``): each file's parts with their points and message, and the score."""
    return {"score": sum(g.score for g in grades), "out_of": sum(POINTS * len(g.parts) for g in grades),
            "files": {g.file: {"parts": [{"part": p, "points": POINTS if ok else 0, "out_of": POINTS,
                                          "message": message} for p, ok, message in g.parts],
                               "output": g.output, "printed": g.printed} for g in grades}}


def grade(target: str, time_limit: float = TIME_LIMIT, jobs: int = 1) -> tuple:
    """Grade the exercises in folder ``target`` (or the one file): (report lines, every part right?)."""
    grades = grade_files(exercise_files(target), time_limit, jobs)
    return report_lines(grades), all_right(grades)


def main(argv=None) -> int:
    """``python -m seqnn.course.grade FILE_OR_FOLDER`` (and ``python exercise.py``): print the report, exit 0 if
    every part is right."""
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        lines, ok = grade(argv[0] if argv else ".", jobs=os.cpu_count() or 1)
    except ValueError as err:
        print(f"seqnn grade: error: {err}", file=sys.stderr)
        return 1
    print("\n".join(lines))
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
