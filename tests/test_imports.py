"""The package's modules import only downwards: each floor uses the floors below it, never one above
it and never one beside it, so there are no cycles and each file can be read knowing only what is under it."""

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "seqnn"
FLOORS = [                                                    # lowest first
    {"_checks", "_version", "_memory", "_files", "_threads", "exercises"},     # exercises: text only
    {"module", "functional", "init"},
    {"cells", "layers", "losses", "optim", "gradient_check", "data"},
    {"fast"},                                                 # the fast loops of the built-in cells
    {"recurrent"},                                            # the engine: any cell over time
    {"stack"},                                                # deep and bidirectional layers of engines
    {"models"},
    {"train", "sample", "trace", "viz", "io", "interop"},
    {"runlog", "options"},                                    # what a run shows and keeps; the option tables
    {"runsetup"},                                             # what a run is made of
    {"run", "probe", "grade"},                                # a run's lifecycle; a look inside; the grader
    {"cli"},
    {"__init__", "__main__"},
]
FLOOR = {name: k for k, floor in enumerate(FLOORS) for name in floor}


def imported(path: Path) -> set:
    """The seqnn modules that ``path`` imports (relative imports anywhere in the file, lazy ones too)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.level >= 1:
            if node.module:
                found.add(node.module.split(".")[0])
            else:                                             # from . import fast, init
                found.update(alias.name for alias in node.names)
    return found


def test_every_module_has_a_floor():
    assert {p.stem for p in PACKAGE.glob("*.py")} == set(FLOOR)


@pytest.mark.parametrize("name", sorted(FLOOR))
def test_imports_point_down(name):
    for other in imported(PACKAGE / f"{name}.py"):
        assert FLOOR[other] < FLOOR[name], (
            f"seqnn.{name} (floor {FLOOR[name]}) imports seqnn.{other} (floor {FLOOR[other]}): "
            f"{'sideways' if FLOOR[other] == FLOOR[name] else 'upwards'}")


def test_the_check_catches_an_upward_import(tmp_path):
    (tmp_path / "cells.py").write_text("from .recurrent import Recurrent\nfrom . import fast\n")
    assert imported(tmp_path / "cells.py") == {"recurrent", "fast"}
    assert all(FLOOR[m] > FLOOR["cells"] for m in imported(tmp_path / "cells.py"))


def test_import_seqnn_loads_nothing_heavy_and_each_name_loads_its_module():
    """The command line parses (and takes Ctrl-C) before numpy loads; every name still resolves."""
    import subprocess
    import sys
    probe = ("import sys, seqnn, seqnn.cli; seqnn.cli.build_parser().parse_args(['train', '--steps', '3']); "
             "print(sorted(m for m in ('numpy', 'seqnn.stack', 'seqnn.run') if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60)
    assert done.stdout.strip() == "[]", done.stderr
    import seqnn
    for name in seqnn.__all__:
        value = getattr(seqnn, name)
        home = seqnn.HOMES.get(name)
        assert home is None or value.__module__ == f"seqnn.{home}", name
    assert seqnn.optim.grad_norm.__module__ == "seqnn.optim", "any module is an attribute too"
    with pytest.raises(AttributeError, match="module 'seqnn' has no attribute 'nothing'"):
        seqnn.__getattr__("nothing")
