"""The chapters as notebooks: made from the docs (one source), and each runs top to bottom in a Jupyter kernel."""

import importlib.util
import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
spec = importlib.util.spec_from_file_location("make_notebooks", ROOT / "scripts" / "make_notebooks.py")
make_notebooks = importlib.util.module_from_spec(spec)
spec.loader.exec_module(make_notebooks)
NAMES = [name for name, _ in make_notebooks.CHAPTERS]


@pytest.mark.parametrize("name, page", make_notebooks.CHAPTERS)
def test_each_notebook_is_what_the_docs_make(name, page):
    path = ROOT / "notebooks" / f"{name}.ipynb"
    assert path.exists(), f"{path.name} is missing: python scripts/make_notebooks.py"
    assert path.read_text(encoding="utf-8") == make_notebooks.render(page), (
        f"{path.name} is out of date with docs/{page}: python scripts/make_notebooks.py")
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    code = [c for c in cells if c["cell_type"] == "code"]
    blocks = (ROOT / "docs" / page).read_text(encoding="utf-8").count("```python\n")
    assert len(code) == blocks >= 1, "every python block of the page is a cell, and there is at least one"
    ids = [c["id"] for c in cells]
    assert len(set(ids)) == len(ids) and all(re.fullmatch(r"[a-zA-Z0-9_-]{1,64}", i) for i in ids), ids


@pytest.mark.parametrize("name", NAMES)
def test_each_notebook_is_one_jupyter_accepts(name):
    nbformat = pytest.importorskip("nbformat", reason="validating the notebooks needs nbformat (pip install -e "
                                                        "'.[test]')")
    with open(ROOT / "notebooks" / f"{name}.ipynb", encoding="utf-8") as f:
        nbformat.validate(nbformat.reads(f.read(), as_version=nbformat.NO_CONVERT))     # raises where Jupyter refuses


def test_the_chapters_the_lecture_needs_are_there():
    assert NAMES == ["01-notation", "02-hello-by-hand", "03-bptt", "04-vanishing-gradients", "05-gru-and-lstm",
                     "06-train-your-text", "07-inside-the-network"]


@pytest.mark.parametrize("name", NAMES)
def test_each_notebook_runs_top_to_bottom(name, tmp_path, monkeypatch):
    nbformat = pytest.importorskip("nbformat", reason="running the notebooks needs nbclient (pip install -e '.[test]')")
    nbclient = pytest.importorskip("nbclient", reason="running the notebooks needs nbclient (pip install -e '.[test]')")
    pytest.importorskip("ipykernel", reason="running the notebooks needs a Python kernel (ipykernel)")
    nb = nbformat.read(ROOT / "notebooks" / f"{name}.ipynb", as_version=4)
    monkeypatch.chdir(tmp_path)                                  # what a chapter writes stays out of the repository
    client = nbclient.NotebookClient(nb, timeout=120, kernel_name="python3",
                                     resources={"metadata": {"path": str(tmp_path)}})
    client.execute()
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []) if o.output_type == "error"]
    assert not errors, errors
