"""The chapters as labs: made from the docs (one source), valid to nbformat as Jupyter requires, and each run top
to bottom in a Jupyter kernel the way ``jupyter nbconvert --execute`` runs it (nbclient): the labs with their
exercises left to fill (every check says what to do), and the teachers' versions (every check passes)."""

import importlib.util
import json
import re
import time
from pathlib import Path

import pytest

from seqnn.course.exercises import EXERCISES

ROOT = Path(__file__).resolve().parents[1]
spec = importlib.util.spec_from_file_location("make_notebooks", ROOT / "scripts" / "make_notebooks.py")
make_notebooks = importlib.util.module_from_spec(spec)
spec.loader.exec_module(make_notebooks)
NAMES = [name for name, _ in make_notebooks.CHAPTERS]
PATHS = [path for path, _ in make_notebooks.targets()]
IDS = [str(path.relative_to(ROOT / "notebooks")) for path in PATHS]


def cells_of(path):
    return json.loads(path.read_text(encoding="utf-8"))["cells"]


def tagged(cells, tag):
    return [c for c in cells if tag in c["metadata"].get("tags", [])]


@pytest.mark.parametrize("path, text", make_notebooks.targets(), ids=IDS)
def test_each_notebook_is_what_the_docs_make(path, text):
    assert path.exists(), f"{path.name} is missing: python scripts/make_notebooks.py"
    assert path.read_text(encoding="utf-8") == text, (
        f"{path.relative_to(ROOT)} is out of date with docs/: python scripts/make_notebooks.py")
    cells = cells_of(path)
    ids = [c["id"] for c in cells]
    assert len(set(ids)) == len(ids) and all(re.fullmatch(r"[a-zA-Z0-9_-]{1,64}", i) for i in ids), ids


@pytest.mark.parametrize("name, page", make_notebooks.CHAPTERS)
def test_each_lab_has_its_cells_its_exercises_and_no_notes_for_maintainers(name, page):
    markdown = (ROOT / "docs" / page).read_text(encoding="utf-8")
    exercises = re.findall(r"^<!-- exercise: (\w+) -->$", markdown, re.M)
    assert 1 <= len(exercises) <= 3 and all(f"{e}.py" in EXERCISES for e in exercises), exercises
    for folder in (ROOT / "notebooks", ROOT / "notebooks" / "solutions"):
        cells = cells_of(folder / f"{name}.ipynb")
        code = [c for c in cells if c["cell_type"] == "code"]
        assert len(code) >= 8 and len(code) == markdown.count("```python\n") + 2 * len(exercises)
        assert [re.search(r'check\("(\w+)"', "".join(c["source"])).group(1) for c in tagged(cells, "check")] == \
            exercises
        for k, cell in enumerate(cells):                   # each exercise's cell, then the cell that checks it
            if "exercise" in cell["metadata"].get("tags", []):
                assert "check" in cells[k + 1]["metadata"]["tags"]
        text = "".join("".join(c["source"]) for c in cells)
        assert "make_notebooks" not in text and "edit the page" not in text and "__main__" not in text
        assert "plt.show()" in text, "a figure made in the notebook"
    lab, solved = (cells_of(folder / f"{name}.ipynb") for folder in (ROOT / "notebooks",
                                                                      ROOT / "notebooks" / "solutions"))

    def rest(cells, up):                                   # all but the exercises, links made the same
        return ["".join(c["source"]).replace(f"]({up}docs/", "](docs/") for c in cells
                if "exercise" not in c["metadata"].get("tags", [])]

    assert rest(lab, "../") == rest(solved, "../../")      # only the exercises differ
    assert all("raise NotImplementedError" in "".join(c["source"]) for c in tagged(lab, "exercise"))
    assert not any("NotImplementedError" in "".join(c["source"]) for c in tagged(solved, "exercise"))


def test_every_exercise_is_in_one_lab_and_the_chapters_are_the_lectures():
    from test_docs import CHAPTERS                      # the pages whose blocks run here, not one by one there
    assert CHAPTERS == {page for _, page in make_notebooks.CHAPTERS}
    assert NAMES == ["01-notation", "02-hello-by-hand", "03-bptt", "04-vanishing-gradients", "05-gru-and-lstm",
                     "06-train-your-text", "07-inside-the-network", "08-music"]
    placed = [e for _, page in make_notebooks.CHAPTERS
              for e in re.findall(r"^<!-- exercise: (\w+) -->$", (ROOT / "docs" / page).read_text(), re.M)]
    assert sorted(f"{e}.py" for e in placed) == sorted(EXERCISES) and len(EXERCISES) >= 15


@pytest.mark.parametrize("path", PATHS, ids=IDS)
def test_each_notebook_is_one_jupyter_accepts(path):
    nbformat = pytest.importorskip("nbformat", reason="validating the notebooks needs nbformat (pip install -e "
                                                        "'.[test]')")
    nb = nbformat.reads(path.read_text(encoding="utf-8"), as_version=nbformat.NO_CONVERT)
    assert (nb.nbformat, nb.nbformat_minor) == (4, 5)
    nbformat.validate(nb)                                           # raises where Jupyter refuses


@pytest.mark.parametrize("path", PATHS, ids=IDS)
def test_each_notebook_runs_top_to_bottom_as_jupyter_runs_it(path, tmp_path, monkeypatch):
    nbformat = pytest.importorskip("nbformat", reason="running the notebooks needs nbclient (pip install -e '.[test]')")
    nbclient = pytest.importorskip("nbclient", reason="running the notebooks needs nbclient (pip install -e '.[test]')")
    pytest.importorskip("ipykernel", reason="running the notebooks needs a Python kernel (ipykernel)")
    nb = nbformat.read(path, as_version=4)
    monkeypatch.chdir(tmp_path)                                  # what a chapter writes stays out of the repository
    client = nbclient.NotebookClient(nb, timeout=120, kernel_name="python3",
                                     resources={"metadata": {"path": str(tmp_path)}})
    start = time.monotonic()
    client.execute()
    print(f"\n{path.relative_to(ROOT)}: {time.monotonic() - start:.1f} s")
    nbformat.validate(nb)                                        # the executed notebook, as nbconvert writes it
    code = [c for c in nb.cells if c.cell_type == "code"]
    errors = [o for c in code for o in c.outputs if o.output_type == "error"]
    assert not errors, errors
    assert any("image/png" in o.get("data", {}) for c in code for o in c.outputs), "no figure was drawn"
    solved = path.parent.name == "solutions"
    for cell in (c for c in code if "check" in c.metadata.get("tags", [])):
        lines = "".join(o.get("text", "") for o in cell.outputs if o.output_type == "stream").strip().splitlines()
        assert lines and lines[-1].startswith("score: "), lines
        if solved:
            assert lines[-1].endswith("parts right (all of them)"), lines
        else:                                                    # a skeleton left unfilled says what to do
            assert lines[-1].endswith(" parts right") and " 0/" in lines[-1], lines
            assert all(re.search(r"\w+: not written yet \(fill in its # TODO\)$", line) for line in lines[:-1]), lines
