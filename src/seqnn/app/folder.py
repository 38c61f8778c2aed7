"""A training run's folder: one trainer at a time (an OS lock), what it holds, and the model it stands for.

::

    last.npz      the latest checkpoint (model, vocabulary, the whole training state)
    best.npz      the same, at the run's lowest validation loss so far
    metrics.csv   one row per step; loss.png the curves (``runlog``)
    .seqnn-lock   the OS lock of the one process training in this folder

Both checkpoints are written whole or not at all (``seqnn.io.save``). A folder
given to ``seqnn sample``, ``evaluate`` or ``inspect`` means its ``best.npz``
when that belongs to the same run as its ``last.npz`` (``load_run``).
"""

from __future__ import annotations

from typing import Any

import errno
import os
import stat
import sys
from contextlib import contextmanager

from .. import io
from .._files import NO_FOLLOW
from ..models import CharLM
from .options import RunError

RUN_FILES = ("last.npz", "best.npz", "metrics.csv", "loss.png")


# --- one trainer per folder ----------------------------------------------------------------------------------------
class FolderLock:
    """An OS advisory lock on ``folder/.seqnn-lock``, held by the one process training there.

    The operating system releases it when the process ends, however it ends (a
    SIGKILL too), so a killed run never blocks the next one. The file holds the
    holder's process id, for the message of the one refused.
    """

    NAME = ".seqnn-lock"

    def __init__(self, folder: str):
        self.folder, self.path = folder, os.path.join(folder, self.NAME)
        try:                                             # never through a link: nothing outside the folder
            self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT | NO_FOLLOW, 0o644)
        except OSError as err:
            if err.errno == errno.ELOOP:
                raise RunError(f"{self.path}: is a link; the lock of a run must be a plain file in its folder "
                               "(remove the link)") from None
            raise RunError(f"{folder}: cannot create {self.NAME} in it ({err.strerror}); is it writable?") from None
        if not stat.S_ISREG(os.fstat(self.fd).st_mode):
            os.close(self.fd)
            raise RunError(f"{self.path}: is not a regular file; the lock of a run must be a plain file in its "
                           "folder (remove it)")
        try:
            _lock(self.fd)
        except OSError:
            holder = os.read(self.fd, 64).decode(errors="replace").strip() or "?"
            os.close(self.fd)
            raise RunError(f"{folder} is in use by another seqnn train (process {holder}): one trainer per folder; "
                           "wait for it to end or stop it, or train in another --out") from None
        try:
            os.ftruncate(self.fd, 0)
            os.write(self.fd, f"{os.getpid()}\n".encode())
        except OSError as err:
            os.close(self.fd)
            raise RunError(f"cannot write {self.path} ({err.strerror}); free some space, or make the folder "
                           "writable") from None

    def release(self) -> None:
        os.close(self.fd)                                # closing the file releases the lock


def _lock(fd: int) -> None:
    """Take ``fd``'s lock without waiting; OSError if another process holds it."""
    if sys.platform == "win32":
        import msvcrt
        msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
    else:
        import fcntl
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)


@contextmanager
def claimed(folder: str, create: bool = True):
    """Hold ``folder``'s lock for the block (creating the folder if asked); a folder this made and left empty
    is removed again."""
    made = create and not os.path.isdir(folder)
    if made:
        try:
            os.makedirs(folder)
        except OSError as err:
            raise RunError(f"--out: cannot create {folder} ({err.strerror})") from None
    lock = FolderLock(folder)
    try:
        yield lock
    finally:
        lock.release()
        if made and os.listdir(folder) == [FolderLock.NAME]:
            os.remove(lock.path)
            os.rmdir(folder)


def clear(folder: str) -> list[str]:
    """Remove a previous run's files (and any temporary file a killed save left); returns the names removed."""
    removed = [name for name in RUN_FILES if os.path.exists(os.path.join(folder, name))]
    for name in RUN_FILES:
        for path in (os.path.join(folder, name), os.path.join(folder, f".{name}.seqnn-tmp")):
            if os.path.exists(path):
                os.remove(path)
    return removed


# --- what a folder still holds, in words ---------------------------------------------------------------------------
def intact(folder: str) -> str:
    """What the run's folder still holds, in words: the checkpoints (and their steps) that a failure left as they
    were."""
    kept = []
    for name in ("last.npz", "best.npz"):
        path = os.path.join(folder, name)
        if os.path.isfile(path):
            try:
                record: Any = io.read_record(path)
                kept.append(f"{path} (step {record['trainer']['steps']})")
            except (ValueError, TypeError, KeyError):
                pass
    return f"{' and '.join(kept)} {'is' if len(kept) == 1 else 'are'} unchanged" if kept else \
        "no checkpoint had been saved yet"


def cannot_write(path: str, err: OSError, folder: str) -> str:
    return (f"cannot write {path} ({err.strerror or err}); {intact(folder)}. Free some space (or make the folder "
            f"writable), then continue with: seqnn train --resume {folder}")


def other_intact(damaged: str) -> str:
    """For a damaged checkpoint: whether the run's other one is whole, and how to continue from it."""
    folder, name = os.path.split(damaged)
    other = os.path.join(folder, "best.npz" if name == "last.npz" else "last.npz")
    try:
        step = io.load_checkpoint(other)[2]["trainer"]["steps"]
    except (ValueError, TypeError, KeyError, OSError):
        return ""
    return f"; {other} (step {step}) is intact: continue from it with seqnn train --resume {other}"


# --- the model a folder stands for ---------------------------------------------------------------------------------
def same_run(best: dict | None, last: dict | None) -> bool:
    """Does ``best`` (a checkpoint's training record) belong to the run that wrote ``last``? Their run ids say."""
    return isinstance(best, dict) and isinstance(last, dict) and best.get("run_id") is not None and \
        best.get("run_id") == last.get("run_id")


def holds_best(best: dict | None, last: dict | None) -> bool:
    """Is ``best`` (best.npz's record) the checkpoint that ``last``'s record names as its run's best: the same run,
    at the step it names? (A run stopped between a validation's two saves leaves an older best.npz.)"""
    return isinstance(best, dict) and isinstance(last, dict) and same_run(best, last) and \
        isinstance(best.get("trainer"), dict) and best["trainer"].get("steps") == last.get("best_step")


def load_run(path: str):
    """The model that a checkpoint file, or a training run's folder, stands for.

    A folder means its ``best.npz`` when that is the best checkpoint its
    ``last.npz`` names (``holds_best``), else its ``last.npz``; a damaged
    ``best.npz`` falls back to ``last.npz``. Returns ``(model, vocab, training,
    path used, notes)``, where ``notes`` says in words why a file was passed over.
    """
    if not os.path.isdir(path):
        return (*io.load_checkpoint(path), path, [])
    best, last = os.path.join(path, "best.npz"), os.path.join(path, "last.npz")
    order = [p for p in (best, last) if os.path.isfile(p)]
    if not order:
        raise FileNotFoundError(f"path: {path} holds no best.npz or last.npz (is it the folder of a seqnn train run?)")
    notes = []
    if len(order) == 2:
        try:
            records = io.read_record(best), io.read_record(last)
        except ValueError:
            records = None                         # a damaged file shows itself when it is loaded below
        if records is not None and not same_run(*records):
            order = [last]
            notes.append(f"{best} is from an earlier run in this folder than {last}, so {last} is used")
        elif records is not None and not holds_best(*records):
            order = [last]
            named = records[1].get("best_step") if records[1] else None
            notes.append(f"{best} is not the best checkpoint {last} names (step {named}; the run stopped between "
                         f"its two saves), so {last} is used")
    errors: list[str] = []
    for candidate in order:
        try:
            model, vocab, training = io.load_checkpoint(candidate)
        except ValueError as err:
            errors.append(str(err))
            continue
        return model, vocab, training, candidate, notes + [f"{e}; {candidate} is used instead" for e in errors]
    raise ValueError("; ".join(errors))


def load_charlm(path: str):
    """(model, vocab, training or None, path used, notes) of a checkpoint or run folder that seqnn train wrote."""
    if not os.path.exists(path):
        raise RunError(f"{path}: no such checkpoint or run folder")
    model, vocab, training, used, notes = load_run(path)
    if not isinstance(model, CharLM):
        raise RunError(f"{used}: holds a {type(model).__name__}; expected a CharLM (a model from seqnn train)")
    if vocab is None:
        raise RunError(f"{used}: holds no vocabulary, so its ids cannot be turned into characters")
    return model, vocab, training, used, notes
