"""What `pip install seqnn` gives: the wheel in a fresh virtual environment trains and samples offline;
the sdist carries what its tests need.

The wheel is built without network and without build isolation, from a copy of
the sources (so the checkout gains no build/ folder); that needs setuptools >= 77
in this environment (the `test` extra installs it). The fresh environment gets
numpy from this one through a .pth line (there is no network to fetch it from);
seqnn itself comes only from the wheel.
"""

import os
import shutil
import subprocess
import sys
import venv
import zipfile
from importlib.metadata import version
from pathlib import Path

import pytest

import seqnn

ROOT = Path(__file__).resolve().parents[1]
SOURCES = ["pyproject.toml", "README.md", "LICENSE", "MANIFEST.in", "src"]


def _setuptools_ok() -> bool:
    try:
        return int(version("setuptools").split(".")[0]) >= 77
    except Exception:
        return False


needs_build = pytest.mark.skipif(not _setuptools_ok() or not (ROOT / "pyproject.toml").exists(),
                                 reason="building offline needs setuptools >= 77 (pip install -e '.[test]')")


def _copy_sources(dest: Path) -> Path:
    for name in SOURCES:
        src = ROOT / name
        if src.is_dir():
            shutil.copytree(src, dest / name, ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
        else:
            shutil.copy2(src, dest / name)
    return dest


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    if not _setuptools_ok():
        pytest.skip("building offline needs setuptools >= 77 (pip install -e '.[test]')")
    src = _copy_sources(tmp_path_factory.mktemp("src"))
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation",
                    "--no-index", "-w", str(out), str(src)], check=True, timeout=300)
    (path,) = out.glob("seqnn-*.whl")
    return path


@needs_build
def test_wheel_holds_the_corpus_the_script_and_the_metadata(wheel):
    with zipfile.ZipFile(wheel) as z:
        names = set(z.namelist())
        meta = z.read(f"seqnn-{seqnn.__version__}.dist-info/METADATA").decode()
        entry_points = z.read(f"seqnn-{seqnn.__version__}.dist-info/entry_points.txt").decode()
    assert {"seqnn/corpus/alice.txt", "seqnn/corpus/tunes.abc", "seqnn/corpus/README.md", "seqnn/py.typed",
            "seqnn/app/cli.py", "seqnn/course/solutions/bptt.py", "seqnn/__main__.py"} <= names
    assert f"seqnn-{seqnn.__version__}.dist-info/licenses/LICENSE" in names
    assert not any(n.startswith(("tests/", "examples/", "docs/")) for n in names)
    assert f"Version: {seqnn.__version__}" in meta and "License-Expression: MIT" in meta
    assert "Requires-Dist: numpy" in meta and "Provides-Extra: torch" in meta and "Classifier: Typing :: Typed" in meta
    assert "seqnn = seqnn.__main__:run" in entry_points
    assert wheel.stat().st_size < 500_000


@needs_build
def test_installed_wheel_trains_and_samples_offline_in_a_fresh_environment(wheel, tmp_path):
    env_dir = tmp_path / "env"
    venv.EnvBuilder(with_pip=False).create(env_dir)
    python = env_dir / "bin" / "python"
    subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "--quiet", "--no-index",
                    "--no-deps", str(wheel)], check=True, timeout=300)
    site = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                          capture_output=True, text=True, check=True).stdout.strip()
    numpy_home = Path(__import__("numpy").__file__).parents[1]
    Path(site, "numpy_from_the_test_env.pth").write_text(str(numpy_home) + "\n")

    clean = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")}
    where = subprocess.run([str(python), "-c", "import seqnn; print(seqnn.__file__)"], cwd=tmp_path, env=clean,
                           capture_output=True, text=True, check=True).stdout
    assert where.startswith(str(env_dir)), f"seqnn must come from the wheel, came from {where}"

    script = env_dir / "bin" / "seqnn"
    done = subprocess.run([str(script), "train", "--steps", "20", "--out", "run"], cwd=tmp_path, env=clean,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    assert "the bundled corpus" in done.stdout and "done: step 20" in done.stdout
    assert {"last.npz", "best.npz", "metrics.csv"} <= set(os.listdir(tmp_path / "run"))
    done = subprocess.run([str(script), "sample", "run", "--prime", "Alice", "--length", "80"], cwd=tmp_path,
                          env=clean, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and done.stdout.startswith("Alice") and len(done.stdout) == 5 + 80 + 1, done.stderr


@pytest.mark.skipif(not _setuptools_ok() or not (ROOT / ".git").exists() or shutil.which("git") is None,
                    reason="needs a git checkout and setuptools >= 77")
def test_sdist_carries_every_file_the_tests_use(tmp_path):
    tracked = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard"], cwd=ROOT,
                             capture_output=True, text=True, check=True).stdout.split()
    tree = tmp_path / "tree"
    for name in tracked:                                 # a clean copy: what git would commit
        if (ROOT / name).is_file():
            (tree / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, tree / name)
    subprocess.run([sys.executable, "-c", "from setuptools import build_meta as b; b.build_sdist('dist')"],
                   cwd=tree, check=True, capture_output=True, timeout=300)
    (sdist,) = (tree / "dist").glob("seqnn-*.tar.gz")
    import tarfile
    with tarfile.open(sdist) as t:
        inside = {n.split("/", 1)[1] for n in t.getnames() if "/" in n}
    wanted = {n for n in tracked if n.startswith(("src/", "tests/", "examples/", "docs/", "benchmarks/", "scripts/",
                                                  "experiments/", "notebooks/"))}
    missing = sorted(wanted - inside)
    assert not missing, f"the sdist lacks {missing}"
    assert {"LICENSE", "README.md", "pyproject.toml", "Makefile"} <= inside

    # Its own tests: every one is collected, and the experiment's (which reads experiments/) passes.
    with tarfile.open(sdist) as t:
        t.extractall(tmp_path / "unpacked", **({"filter": "data"} if hasattr(tarfile, "data_filter") else {}))
    (unpacked,) = (tmp_path / "unpacked").iterdir()
    env = {**os.environ, "PYTHONPATH": str(unpacked / "src")}
    for argv in (["--collect-only"], ["tests/test_adding.py"]):
        done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *argv], cwd=unpacked,
                              env=env, capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]       # 2: a collection error
