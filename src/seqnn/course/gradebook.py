"""``seqnn grade SUBMISSIONS --class``: a whole class graded, one folder per student, into a gradebook.

Every student is graded on the same exercises (those any student handed in); a file a student did not hand in
scores 0 for each of its parts, so every row has the same parts and the same total. The files are graded
``jobs`` at a time, each in its own child process (``grade.grade_file``). The gradebook is a CSV file (a row per
student; a column per part with its points, the total, and a column per part with the first message of a part
that is wrong) and, for a learning platform, the same as JSON.
"""

from __future__ import annotations

import csv
import io
import os

from .._files import write_atomic
from .exercises import EXERCISES
from .grade import TIME_LIMIT, grade_files, missing, record
from .parts import POINTS


def students_of(folder: str) -> list:
    """The student folders in ``folder`` (sorted; hidden ones left out); ValueError if there are none."""
    if not os.path.isdir(folder):
        raise ValueError(f"{folder}: expected a folder of submissions, one folder per student")
    students = sorted(n for n in os.listdir(folder) if not n.startswith(".") and os.path.isdir(os.path.join(folder,
                                                                                                             n)))
    if not students:
        raise ValueError(f"{folder}: holds no student folders; --class expects SUBMISSIONS/STUDENT/lstm_step.py, "
                         "...")
    return students


def grade_class(folder: str, time_limit: float = TIME_LIMIT, jobs: int = 1) -> dict:
    """Grade every student folder in ``folder``: {student: its record (``grade.record``)}."""
    students = students_of(folder)
    files = [n for n in EXERCISES if any(os.path.isfile(os.path.join(folder, s, n)) for s in students)]
    if not files:
        raise ValueError(f"{folder}: no student folder holds any of the exercises ({', '.join(EXERCISES)})")
    handed = {(s, n): os.path.join(folder, s, n) for s in students for n in files}
    handed = {task: path for task, path in handed.items() if os.path.isfile(path)}     # looked at once
    graded = dict(zip(handed, grade_files(list(handed.values()), time_limit, jobs, hidden=(folder,))))
    return {s: record([graded.get((s, n)) or missing(n, f"{s}/") for n in files]) for s in students}


def columns(book: dict) -> list:
    """The parts of the gradebook, ``file: part``, in order."""
    first = next(iter(book.values()))
    return [f"{file}: {p['part']}" for file, r in first["files"].items() for p in r["parts"]]


def as_csv(book: dict) -> str:
    """The gradebook as CSV: student, each part's points, the total and the most, each wrong part's message."""
    parts = columns(book)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["student", *parts, "total", "out of", *(f"{p} (message)" for p in parts)])
    for student, r in book.items():
        each = [p for f in r["files"].values() for p in f["parts"]]
        writer.writerow([student, *(p["points"] for p in each), r["score"], r["out_of"],
                         *(p["message"] for p in each)])
    return out.getvalue()


def write_csv(book: dict, path: str) -> None:
    """Write the gradebook to ``path`` (whole or not at all)."""
    data = as_csv(book).encode("utf-8")
    write_atomic(path, lambda f: f.write(data))


def summary(book: dict) -> list:
    """One line per student (the score), and the class's mean."""
    width = max(len(s) for s in book)
    lines = [f"{s:<{width}}  {r['score']:>3}/{r['out_of']}" for s, r in book.items()]
    mean = sum(r["score"] for r in book.values()) / len(book)
    return [*lines, f"{len(book)} students, mean {mean:.1f}/{next(iter(book.values()))['out_of']} "
                    f"({POINTS} point a part; the parts: {len(columns(book))})"]
