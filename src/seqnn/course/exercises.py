"""The exercises of ``seqnn exercises``: each is a worked solution in ``seqnn/course/solutions/`` with its maths cut.

Every solution is a real Python file (linted and type-checked like the rest of
seqnn). The lines between ``# BEGIN`` and ``# END`` are the maths, which
``skeleton`` replaces with a ``# TODO`` and a ``NotImplementedError``: that is
the file a student fills in. ``seqnn.course.grade`` knows how to check each one.
"""

from __future__ import annotations

import os
from importlib import resources

from .._files import write_atomic

EXERCISES = {                       # file name -> the docs section it practises (the order is the lecture's)
    "rnn_step.py": "docs/notation.md#vanilla-rnn",
    "lstm_step.py": "docs/notation.md#lstm",
    "gru_step.py": "docs/gru.md#the-gru-and-which-gru",
    "softmax_loss.py": "docs/notation.md#vanilla-rnn",
    "bptt.py": "docs/bptt.md#backward-the-chain-rule-backwards-in-time",
    "clip.py": "docs/bptt.md#clipping",
    "sampling.py": "docs/train-your-text.md#4-sample",
    "embedding.py": "docs/notation.md#embeddings",
    "output_layer.py": "docs/trace.md#the-loss-over-a-sequence",
    "grad_check.py": "docs/gradcheck.md#which-difference",
    "optimizers.py": "docs/training.md#optimizers",
    "truncated_bptt.py": "docs/bptt.md#truncated-bptt",
    "gru_sequence.py": "docs/gru.md#the-gru-and-which-gru",
    "generate.py": "docs/train-your-text.md#4-sample",
    "training_loop.py": "docs/train-your-text.md#train-from-python",
}


def solution(name: str) -> str:
    """The worked solution of exercise ``name`` (a key of ``EXERCISES``), as its file's text."""
    return (resources.files("seqnn.course.solutions") / name).read_text(encoding="utf-8")


def skeleton(name: str) -> str:
    """The exercise as a student gets it: each ``# BEGIN`` ... ``# END`` block becomes a TODO."""
    lines, function, skipping = [], "", False
    for line in solution(name).splitlines(keepends=True):
        if line.startswith("def "):
            function = line[4:line.index("(")]
        if line.strip() == "# BEGIN":
            indent = line[:len(line) - len(line.lstrip())]
            lines.append(f"{indent}# TODO: the lines the docstring at the top describes (define the names the "
                         f"return uses)\n{indent}raise NotImplementedError(\"{function}: not written yet\")\n")
            skipping = True
        elif line.strip() == "# END":
            skipping = False
        elif not skipping:
            lines.append(line)
    return "".join(lines)


def write_exercises(dest: str, solutions: bool = False) -> list:
    """Write every exercise (or its worked solution) into ``dest``; returns the paths. A file already there is
    never overwritten (it may be a student's work): ValueError naming it, before anything is written."""
    paths = [os.path.join(dest, name) for name in EXERCISES]
    there = [p for p in paths if os.path.exists(p)]
    if there:
        raise ValueError(f"{dest}: already holds {', '.join(os.path.basename(p) for p in there)}; seqnn exercises "
                         "never overwrites a file (it may be your work): choose another folder, or move them away")
    os.makedirs(dest, exist_ok=True)
    written = []
    try:                                                # all or none: a full disk leaves nothing that blocks a rerun
        for name, path in zip(EXERCISES, paths):
            data = (solution(name) if solutions else skeleton(name)).encode("utf-8")
            write_atomic(path, lambda f, data=data: f.write(data))
            written.append(path)
    except BaseException:
        for path in written:
            os.remove(path)
        raise
    return paths
