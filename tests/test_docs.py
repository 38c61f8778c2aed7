"""Every ```python block in README.md and docs/*.md runs as written."""

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
BLOCKS = [(page, k, code) for page in PAGES
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
