"""Every ```python block in README.md and docs/*.md runs as written: each block on its own, except the
chapters', which are labs whose blocks build on each other: they run in order, as notebooks, in
test_notebooks.py."""

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
CHAPTERS = {"notation.md", "trace.md", "bptt.md", "vanishing.md", "gru.md", "train-your-text.md", "inside.md",
            "music.md"}
BLOCKS = [(page, k, code) for page in PAGES if page.name not in CHAPTERS
          for k, code in enumerate(re.findall(r"```python\n(.*?)```", page.read_text(), re.S))]


@pytest.mark.parametrize("page,k,code", BLOCKS, ids=[f"{p.name}-{k}" for p, k, _ in BLOCKS])
def test_code_block_runs(page, k, code, capsys):
    if code.startswith("# needs torch"):
        pytest.importorskip("torch")
    exec(compile(code, f"{page.name} block {k}", "exec"), {})


def test_there_are_examples():
    assert len(BLOCKS) >= 5


LINKS = [(page, target) for page in PAGES
         for target in re.findall(r"\]\(([^)\s]+)\)", page.read_text())
         if not target.startswith(("http://", "https://", "#", "mailto:"))]


@pytest.mark.parametrize("page,target", LINKS, ids=[f"{p.name}->{t}" for p, t in LINKS])
def test_local_links_lead_to_a_file(page, target):
    assert (page.parent / target.split("#")[0]).exists(), f"{page.name} links to {target}, which does not exist"


# --- the command line's output shown in the docs is what the current code prints --------------------------------
OUTPUT_LINES = [(page, line) for page in PAGES
                for block in re.findall(r"```text\n(.*?)```", page.read_text(), re.S)
                for line in block.splitlines() if line.startswith(("step ", "each step: ", "seqnn train: "))]
STATUS = re.compile(r"^step \d+(/\d+)? \| epoch \d+\.\d\d \| loss \d+\.\d{3} bpc \| lr [\d.e-]+ \| "
                    r"val (\d\.\d{3} bpc|-) \| [\d,]+ chars/s \| \d+:\d\d:\d\d left$")


def test_status_and_header_lines_in_the_docs_have_the_current_format():
    from seqnn.app.options import DEFAULTS
    assert len(OUTPUT_LINES) > 10
    for page, line in OUTPUT_LINES:
        if re.match(r"^step \d+(/\d+)? \| ", line):
            assert STATUS.match(line), f"{page.name}: {line}"
        elif line.startswith("each step: "):
            assert re.search(r"; \w+ lr [\d.e-]+ \(.+\), clip .+; stop at .+; \d+ BLAS threads? \(.+\)$", line), line
        elif line.startswith("seqnn train: LSTM"):
            layers, hidden = re.search(r"(\d+) layers? x (\d+) hidden", line).groups()
            assert (int(layers), int(hidden)) == (DEFAULTS["layers"], DEFAULTS["hidden"]), (
                f"{page.name} shows a run of {layers} x {hidden}, not the default model: {line}")
