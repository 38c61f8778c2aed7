"""The lecture's chapters as Jupyter notebooks, made from the docs' markdown: one source, two forms.

Each chapter page of docs/ becomes notebooks/NN-name.ipynb: its prose (and its
shell and text blocks, which are shown, not run) as markdown cells, each
```python block as a code cell, in order. Relative links point back into docs/.
The notebooks are committed; ``tests/test_notebooks.py`` checks that they are
what this script makes from today's docs, and runs each one top to bottom.

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
CHAPTERS = [                      # (notebook, docs page), in the lecture's order
    ("01-notation", "notation.md"),
    ("02-hello-by-hand", "trace.md"),
    ("03-bptt", "bptt.md"),
    ("04-vanishing-gradients", "vanishing.md"),
    ("05-gru-and-lstm", "gru.md"),
    ("06-train-your-text", "train-your-text.md"),
    ("07-inside-the-network", "inside.md"),
]


def relink(markdown: str) -> str:
    """Links and images relative to docs/ made relative to notebooks/."""
    def fix(match):
        target = match.group(2)
        if re.match(r"^(https?:|mailto:|#|/)", target):
            return match.group(0)
        return f"{match.group(1)}(../docs/{target})"
    return re.sub(r"(!?\[[^\]]*\])\(([^)\s]+)\)", fix, markdown)


def cells(markdown: str) -> list:
    """Markdown cells and code cells (the ```python blocks), in order."""
    out, pos = [], 0
    for block in re.finditer(r"^```python\n(.*?)^```\n?", markdown, re.S | re.M):
        text = markdown[pos:block.start()].strip("\n")
        if text:
            out.append(("markdown", relink(text)))
        out.append(("code", block.group(1).rstrip("\n")))
        pos = block.end()
    rest = markdown[pos:].strip("\n")
    if rest:
        out.append(("markdown", relink(rest)))
    return out


def notebook(markdown: str, name: str) -> dict:
    stem = name.removesuffix(".md")                   # a cell id is 1-64 of a-z, A-Z, 0-9, - and _ (no dot)
    made = []
    for k, (kind, source) in enumerate(cells(markdown)):
        cell = {"cell_type": kind, "id": f"{stem}-{k}", "metadata": {}, "source": source.splitlines(keepends=True)}
        if kind == "code":
            cell.update(execution_count=None, outputs=[])
        made.append(cell)
    note = {"cell_type": "markdown", "id": f"{stem}-source", "metadata": {},
            "source": [f"*Made from [docs/{name}](../docs/{name}) by `scripts/make_notebooks.py`: edit the page, "
                       "not this notebook.*"]}
    return {"cells": [note] + made,
            "metadata": {"kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
                         "language_info": {"name": "python"}},
            "nbformat": 4, "nbformat_minor": 5}


def render(page: str) -> str:
    """A notebook's file text for docs page ``page``."""
    return json.dumps(notebook((DOCS / page).read_text(encoding="utf-8"), page), indent=1, ensure_ascii=False) + "\n"


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    stale = []
    NOTEBOOKS.mkdir(exist_ok=True)
    for name, page in CHAPTERS:
        path, text = NOTEBOOKS / f"{name}.ipynb", render(page)
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            stale.append(path.name)
            if "--check" not in argv:
                path.write_text(text, encoding="utf-8")
    if "--check" in argv:
        if stale:
            print(f"out of date with docs/: {', '.join(stale)}; run python scripts/make_notebooks.py")
            return 1
        return 0
    print(f"wrote {len(stale)} of {len(CHAPTERS)} notebooks into {NOTEBOOKS}" if stale else "notebooks/ is up to date")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
