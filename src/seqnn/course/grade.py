"""``seqnn grade``: each exercise file checked in a process of its own, part by part, with a score.

Each file runs in a process of its own, with a time limit, so that an endless
loop, a crash, a syntax error or a failed import is one line of the report.
Inside it, every part (``parts.PARTS``) is checked three ways:

- against seqnn's own code (the reference), on seeded float64 inputs, and for the
  RNN step on the lecture's "hello" numbers (docs/trace.md);
- the student's backward against finite differences of the student's own forward;
- where the answer is wrong, against the classic mistakes: a mistake that gives
  exactly the student's numbers is named, with its hint.

It says which array is wrong, which gate's rows (``dW_hh[f]``), which time step
differs first, and when the shape is wrong; one line per part, a score, and exit
status 0 only when every part is right.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys

import numpy as np

from .compare import Wrong
from .exercises import EXERCISES
from .parts import PARTS

TIME_LIMIT = 60                      # seconds per file


# --- grading one file, in its own process ---------------------------------------------------------------------------
def check_file(path: str) -> list:
    """(part, ok, message) for each part of the exercise at ``path`` (run inside the child process)."""
    name = os.path.basename(path)
    try:
        spec = importlib.util.spec_from_file_location(f"exercise_{name[:-3]}", path)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    except SyntaxError as err:
        return [("file", False, f"syntax error at line {err.lineno}: {err.msg}")]
    except Exception as err:                                      # noqa: BLE001  (one line, whatever it is)
        return [("file", False, f"cannot be imported: {type(err).__name__}: {err}{_where(err, path)}")]
    results = []
    for part, check in PARTS[name](module).items():
        try:
            with np.errstate(all="ignore"):
                check()
            results.append((part, True, ""))
        except Wrong as err:
            results.append((part, False, f"{err}; see {EXERCISES[name]}"))
        except NotImplementedError as err:
            results.append((part, False, f"{err} (fill in its # TODO)"))
        except Exception as err:                                  # noqa: BLE001
            results.append((part, False, f"raised {type(err).__name__}: {err}{_where(err, path)}; see "
                                         f"{EXERCISES[name]}"))
    return results


def _where(err: BaseException, path: str) -> str:
    """`` at line N`` of the student's file where ``err`` was raised, if it was raised there."""
    tb, line = err.__traceback__, None
    while tb is not None:
        if os.path.abspath(tb.tb_frame.f_code.co_filename) == os.path.abspath(path):
            line = tb.tb_lineno
        tb = tb.tb_next
    return f" (line {line})" if line else ""


def grade(target: str, time_limit: float = TIME_LIMIT) -> tuple:
    """Grade the exercises in folder ``target`` (or the one file): (report lines, every part right?)."""
    if os.path.isdir(target):
        files = [os.path.join(target, n) for n in EXERCISES if os.path.exists(os.path.join(target, n))]
        if not files:
            raise ValueError(f"{target}: holds none of the exercises ({', '.join(EXERCISES)}); write them with "
                             f"seqnn exercises {target}")
    elif os.path.basename(target) in EXERCISES and os.path.isfile(target):
        files = [target]
    else:
        raise ValueError(f"{target}: expected a folder of exercises or one of {', '.join(EXERCISES)}")
    lines, right, total = [], 0, 0
    for path in files:
        name = os.path.basename(path)
        try:
            done = subprocess.run([sys.executable, "-m", "seqnn.course.grade", "--child", os.path.abspath(path)],
                                  capture_output=True, text=True, timeout=time_limit,
                                  cwd=os.path.dirname(os.path.abspath(path)))
            if done.returncode != 0 or not done.stdout.strip():
                tail = (done.stderr.strip().splitlines() or ["no output"])[-1]
                results = [("file", False, f"the process ended with status {done.returncode}: {tail}")]
            else:
                results = [tuple(r) for r in json.loads(done.stdout.strip().splitlines()[-1])]
        except subprocess.TimeoutExpired:
            results = [("file", False, f"did not finish in {time_limit:g} s (an endless loop?)")]
        for part, ok, message in results:
            total += 1
            right += ok
            lines.append(f"{'ok   ' if ok else 'WRONG'} {name}: {part}" + ("" if ok else f": {message}"))
    lines.append(f"score: {right}/{total} parts right" + (" (all of them)" if right == total else ""))
    return lines, right == total


def main(argv=None) -> int:
    """``python -m seqnn.course.grade FILE_OR_FOLDER`` (and ``python exercise.py``): print the report, exit 0 if all is
    right. ``--child PATH`` is the grader's own process for one file."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["--child"]:
        print(json.dumps(check_file(argv[1])))
        return 0
    try:
        lines, ok = grade(argv[0] if argv else ".")
    except ValueError as err:
        print(f"seqnn grade: error: {err}", file=sys.stderr)
        return 1
    print("\n".join(lines))
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
