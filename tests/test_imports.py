"""The house's floors: the lecture at the top of seqnn/, the command line in seqnn/app/, the course in seqnn/course/.

Inside each folder, modules import only downwards: each floor uses the floors below it, never one above it and
never one beside it, so there are no cycles and each file can be read knowing only what is under it. Across
folders, the lecture never imports the command line or the course, and the course never imports the command
line: a student can read (and run) the lecture alone. No module is over 450 lines.
"""

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "seqnn"
FLOORS = {                                                      # lowest first, folder by folder
    "seqnn": [
        {"_checks", "_version", "_memory", "_files", "abc_notation",      # (ABC: the standard library only)
         "features"},                                           # features of a text: numpy and re
        {"module", "functional", "init", "music", "ngram"},
        {"cells", "layers", "losses", "optim", "gradient_check", "data"},
        {"fast"},                                               # the fast loops of the built-in cells
        {"recurrent"},                                          # the engine: any cell over time
        {"stack"},                                              # deep and bidirectional layers of engines
        {"models"},
        {"train", "sample", "trace", "viz", "io", "interop", "probe", "sound"},
        {"__init__"},
        {"__main__"},                                           # the command's door (its Ctrl-C from __init__)
    ],
    "seqnn.app": [
        {"options", "threads", "plots", "page"},                # standard library only; numpy's threads; pictures
        {"runlog", "folder"},                                   # what a run shows and keeps; its folder
        {"runsetup"},                                           # what a run is made of
        {"run", "inspect", "tunes"},                            # a run's lifecycle; a look inside; tunes heard
        {"cli"},
        {"__init__"},
    ],
    "seqnn.course": [
        {"runner"},                                             # the student's side: the standard library, numpy
        {"compare", "mistakes", "exercises"},                   # how answers differ; the named mistakes
        {"reference", "remote"},                                # the right answers; the grader's side of the channel
        {"steps", "loops", "numerics", "ends", "training",      # what each exercise's parts check; the same calls
         "local"},                                              # on a notebook's functions
        {"parts"},                                              # every exercise's parts, fixed
        {"grade"},                                              # a file, a folder
        {"gradebook"},                                          # a class
        {"__init__"},
    ],
}
FLOOR = {f"{folder}.{name}": k for folder, floors in FLOORS.items() for k, floor in enumerate(floors)
         for name in floor}
DOOR = "seqnn.__main__"                         # `python -m seqnn`: the one lecture file that names the command line


def module_name(path: Path) -> str:
    return ".".join(("seqnn", *path.relative_to(PACKAGE).with_suffix("").parts))


def imported(path: Path, name: str) -> set:
    """The seqnn modules (dotted names) that the file ``path`` of module ``name`` imports, lazy ones too."""
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                target = f"{base}.{node.module}" if node.module else base
            else:
                target = node.module or ""
            if not target.startswith("seqnn"):
                continue
            modules = {f"{target}.{alias.name}" for alias in node.names}
            known = {m for m in modules if module_path(m) is not None}       # `from . import fast`: modules
            found.update(known or {target})
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names if alias.name.startswith("seqnn"))
    return found


def module_path(name: str):
    """The file of module ``name`` (a package: its __init__.py), or None."""
    base = PACKAGE.joinpath(*name.split(".")[1:])
    for path in (base.with_suffix(".py"), base / "__init__.py"):
        if path.is_file():
            return path
    return None


MODULES = {module_name(p): p for p in sorted(PACKAGE.rglob("*.py")) if "solutions" not in p.parts}


def floor_of(name: str):
    """(folder, floor) of a module, its __init__ for a package."""
    key = name if name in FLOOR else f"{name}.__init__"
    return key.rsplit(".", 1)[0], FLOOR[key]


def test_every_module_has_a_floor():
    assert set(MODULES) == set(FLOOR), sorted(set(MODULES) ^ set(FLOOR))


@pytest.mark.parametrize("name", sorted(MODULES))
def test_imports_point_down_and_no_floor_reaches_up_to_another_folder(name):
    folder, floor = floor_of(name)
    for other in imported(MODULES[name], name.removesuffix(".__init__")):
        other_folder, other_floor = floor_of(other)
        if other_folder != folder:
            lecture = folder == "seqnn"
            assert not (lecture and name != DOOR) and not (folder == "seqnn.course" and other_folder == "seqnn.app"), \
                f"{name} imports {other}: {'the lecture' if lecture else 'the course'} never imports {other_folder}"
            assert other_folder == "seqnn" or name in (DOOR, "seqnn.app.cli"), f"{name} imports {other}"
        else:
            assert other_floor < floor, (f"{name} (floor {floor}) imports {other} (floor {other_floor}): "
                                         f"{'sideways' if other_floor == floor else 'upwards'}")


def test_the_check_catches_an_upward_import_and_one_into_the_command_line(tmp_path):
    (tmp_path / "cells.py").write_text("from .recurrent import Recurrent\nfrom . import fast\nfrom .app import run\n"
                                       "import seqnn.course.grade\n")
    assert imported(tmp_path / "cells.py", "seqnn.cells") == {"seqnn.recurrent", "seqnn.fast", "seqnn.app.run",
                                                             "seqnn.course.grade"}
    (tmp_path / "run.py").write_text("from .. import io\nfrom ..models import CharLM\nfrom .folder import clear\n")
    assert imported(tmp_path / "run.py", "seqnn.app.run") == {"seqnn.io", "seqnn.models", "seqnn.app.folder"}


def test_the_solutions_import_nothing_of_seqnn_until_they_are_run_to_grade_themselves():
    for path in sorted((PACKAGE / "course" / "solutions").glob("*.py")):
        tree = ast.parse(path.read_text())
        top = [n for n in tree.body if isinstance(n, (ast.Import, ast.ImportFrom))]
        assert all(getattr(n, "module", None) != "seqnn" and not any(a.name.startswith("seqnn") for a in n.names)
                   for n in top), path.name
        if path.name != "__init__.py":
            assert 'from seqnn.course.grade import main' in path.read_text(), path.name


def test_the_graders_child_imports_only_the_standard_library_and_numpy():
    """runner.py runs a student's file where importing seqnn is refused: it must not need seqnn itself."""
    tree = ast.parse((PACKAGE / "course" / "runner.py").read_text())
    names = {a.name.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    names |= {"." * n.level + (n.module or "") for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
    assert names - {"__future__"} <= set(sys.stdlib_module_names) | {"numpy"}, names


@pytest.mark.parametrize("path", sorted(PACKAGE.rglob("*.py")), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_no_module_is_over_450_lines(path):
    assert len(path.read_text().splitlines()) <= 450, f"{path.relative_to(PACKAGE)}: split it by concern"


def test_import_seqnn_loads_nothing_heavy_and_each_name_loads_its_module():
    """The command line parses (and takes Ctrl-C) before numpy loads; every name still resolves."""
    probe = ("import sys, seqnn, seqnn.app.cli; seqnn.app.cli.build_parser().parse_args(['train', '--steps', '3']); "
             "print(sorted(m for m in ('numpy', 'seqnn.stack', 'seqnn.app.run', 'seqnn.course.grade') "
             "if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60)
    assert done.stdout.strip() == "[]", done.stderr
    done = subprocess.run([sys.executable, "-X", "importtime", "-m", "seqnn", "--help"], capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0 and "usage: seqnn" in done.stdout, done.stderr
    assert " numpy" not in done.stderr, "seqnn --help loads numpy"
    import seqnn
    import seqnn.app.cli
    for name in seqnn.__all__:
        value = getattr(seqnn, name)
        home = seqnn.HOMES.get(name)
        assert home is None or value.__module__ == f"seqnn.{home}", name
    assert seqnn.optim.grad_norm.__module__ == "seqnn.optim", "any module is an attribute too"
    assert seqnn.app.cli.main.__module__ == "seqnn.app.cli" and seqnn.course.__name__ == "seqnn.course"
    with pytest.raises(AttributeError, match="module 'seqnn' has no attribute 'nothing'"):
        seqnn.__getattr__("nothing")
