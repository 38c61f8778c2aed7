"""The lecture's chapters as Jupyter labs, made from the docs' markdown: one source, three forms.

The docs pages are the one source. Each chapter page of docs/ becomes two notebooks:
notebooks/NN-name.ipynb, the lab a student works through, and notebooks/solutions/NN-name.ipynb, the same
lab with the exercises solved, for teachers. Its prose (and its shell and text blocks, which are shown, not
run) become markdown cells, each ```python block a code cell, in order. A line

    <!-- exercise: NAME -->

(invisible on the page) becomes two cells: the exercise NAME of ``seqnn exercises`` (its skeleton, or in the
solutions its worked solution: the same file ``seqnn exercises`` writes, less the lines that grade a file) and
a cell that checks it with ``seqnn.course.check``, which prints what ``seqnn grade`` prints. Relative links
point back into docs/.

The notebooks are committed; edit the page, never a notebook (no note says so inside them, to keep the labs a
student's own: this script and docs/teaching.md do). ``tests/test_notebooks.py`` checks that the notebooks
are what this script makes from today's docs, validates them with nbformat, and runs each top to bottom.

    python scripts/make_notebooks.py            # rewrite notebooks/ from docs/
    python scripts/make_notebooks.py --check    # exit 1 if notebooks/ is out of date
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOCS, NOTEBOOKS = ROOT / "docs", ROOT / "notebooks"
SOLUTIONS = NOTEBOOKS / "solutions"
CHAPTERS = [                      # (notebook, docs page), in the lecture's order
    ("01-notation", "notation.md"),
    ("02-hello-by-hand", "trace.md"),
    ("03-bptt", "bptt.md"),
    ("04-vanishing-gradients", "vanishing.md"),
    ("05-gru-and-lstm", "gru.md"),
    ("06-train-your-text", "train-your-text.md"),
    ("07-inside-the-network", "inside.md"),
    ("08-music", "music.md"),
]
BLOCK = re.compile(r"^```python\n(.*?)^```\n?|^<!-- exercise: (\w+) -->\n?", re.S | re.M)

sys.path.insert(0, str(ROOT / "src"))
from seqnn.course.exercises import skeleton, solution  # noqa: E402  (seqnn from this checkout)


def relink(markdown: str, up: str) -> str:
    """Links and images relative to docs/ made relative to a notebook ``up`` folders below the root."""
    def fix(match):
        target = match.group(2)
        if re.match(r"^(https?:|mailto:|#|/)", target):
            return match.group(0)
        return f"{match.group(1)}({up}docs/{target})"
    return re.sub(r"(!?\[[^\]]*\])\(([^)\s]+)\)", fix, markdown)


def exercise_cells(name: str, solved: bool) -> list:
    """The exercise ``name``'s two code cells: the file (skeleton or worked solution), less its self-grading
    lines, and the cell that checks it."""
    text = (solution if solved else skeleton)(f"{name}.py")
    text = text[:text.index('\n\nif __name__ == "__main__":')].rstrip("\n")
    text = re.sub(r"\nRun ``python \w+\.py`` to grade this file \((.*?)\)\.\n", r"\nRead more: \1.\n", text)
    functions = [f.group(1) for f in re.finditer(r"^def (\w+)\((.*?)(?=^def |^if __name__|\Z)", solution(f"{name}.py"),
                                                 re.S | re.M) if "# BEGIN" in f.group(2)]      # the ones to write
    check = f"from seqnn.course import check\n\ncheck(\"{name}\", {', '.join(functions)})"
    return [("code", text, "exercise"), ("code", check, "check")]


def cells(markdown: str, solved: bool, up: str) -> list:
    """(kind, source, tag) for each cell: markdown, the ```python blocks as code, each exercise as two cells."""
    out, pos = [], 0
    for block in BLOCK.finditer(markdown):
        text = markdown[pos:block.start()].strip("\n")
        if text:
            out.append(("markdown", relink(text, up), None))
        if block.group(2):
            out += exercise_cells(block.group(2), solved)
        else:
            out.append(("code", block.group(1).rstrip("\n"), None))
        pos = block.end()
    rest = markdown[pos:].strip("\n")
    if rest:
        out.append(("markdown", relink(rest, up), None))
    return out


def notebook(markdown: str, name: str, solved: bool = False) -> dict:
    stem = name.removesuffix(".md")                   # a cell id is 1-64 of a-z, A-Z, 0-9, - and _ (no dot)
    made = []
    for k, (kind, source, tag) in enumerate(cells(markdown, solved, "../../" if solved else "../")):
        cell = {"cell_type": kind, "id": f"{stem}-{k}", "metadata": {"tags": [tag]} if tag else {},
                "source": source.splitlines(keepends=True)}
        if kind == "code":
            cell.update(execution_count=None, outputs=[])
        made.append(cell)
    return {"cells": made,
            "metadata": {"kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
                         "language_info": {"name": "python"}},
            "nbformat": 4, "nbformat_minor": 5}


def render(page: str, solved: bool = False) -> str:
    """A notebook's file text for docs page ``page`` (``solved``: the teachers' version)."""
    markdown = (DOCS / page).read_text(encoding="utf-8")
    return json.dumps(notebook(markdown, page, solved), indent=1, ensure_ascii=False) + "\n"


def targets() -> list:
    """(path, its text) of every notebook, the labs and their solutions."""
    return [(folder / f"{name}.ipynb", render(page, solved)) for name, page in CHAPTERS
            for folder, solved in ((NOTEBOOKS, False), (SOLUTIONS, True))]


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    stale = []
    for path, text in targets():
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            stale.append(str(path.relative_to(NOTEBOOKS)))
            if "--check" not in argv:
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(text, encoding="utf-8")
    if "--check" in argv:
        if stale:
            print(f"out of date with docs/: {', '.join(stale)}; run python scripts/make_notebooks.py")
            return 1
        return 0
    print(f"wrote {len(stale)} of {2 * len(CHAPTERS)} notebooks into {NOTEBOOKS}" if stale
          else "notebooks/ is up to date")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
