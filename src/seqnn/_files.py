"""Writing a file so that no one ever sees half of it, and never through a link: checkpoints (``seqnn.io``),
plots, exercises, the run's log.

Every error of a write names the file (``OSError.filename``), whatever step failed.
"""

from __future__ import annotations

from typing import Callable

import errno
import os

NO_FOLLOW = getattr(os, "O_NOFOLLOW", 0)     # a link at the path is an error (ELOOP), never followed


def write_atomic(path: str, write: Callable) -> None:
    """Call ``write(f)`` on a temporary file next to ``path``, flush it to disk, and rename it over ``path``:
    the old file stays whole until the new one is. An exception removes the temporary file; a hard kill
    (SIGKILL, power loss) leaves at most that one (``.<name>.seqnn-tmp``), which the next write replaces. The
    temporary file is made anew, never through a link, and the rename replaces a link at ``path`` itself: no
    link in the folder makes this write outside it."""
    folder = os.path.dirname(os.path.abspath(path))
    if os.path.isdir(path):
        raise IsADirectoryError(f"path: {path} is a folder; expected a file path such as "
                                f"{os.path.join(path, 'model.npz')}")
    if not os.path.isdir(folder):
        raise FileNotFoundError(f"path: the folder of {path} does not exist")
    tmp = os.path.join(folder, f".{os.path.basename(path)}.seqnn-tmp")
    try:
        if os.path.lexists(tmp):                 # what a killed write left (or a link planted there)
            os.remove(tmp)
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | NO_FOLLOW | getattr(os, "O_BINARY", 0), 0o666)
    except OSError as err:                       # name the user's path, not the hidden temporary one
        raise type(err)(err.errno, f"path: cannot write {path} in its folder ({err.strerror})") from None
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)                    # atomic on POSIX and Windows
    except BaseException as err:
        if os.path.lexists(tmp):
            os.remove(tmp)
        if isinstance(err, OSError) and not err.filename:                 # a full disk: say which file
            raise type(err)(err.errno, err.strerror or str(err), path) from None
        raise
    if hasattr(os, "O_DIRECTORY"):               # make the rename itself durable
        dir_fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)


def open_plain(path: str, mode: str):
    """``open(path, mode)`` for writing text ("w" or "a"), never through a link: a link at ``path`` is an
    ``OSError`` naming it, so a link planted in a run's folder cannot make seqnn write outside it."""
    flags = os.O_WRONLY | os.O_CREAT | NO_FOLLOW | (os.O_APPEND if mode == "a" else os.O_TRUNC)
    try:
        fd = os.open(path, flags, 0o666)
    except OSError as err:
        if err.errno == errno.ELOOP:
            raise OSError(err.errno, "is a link; seqnn writes only plain files (remove the link)", path) from None
        raise
    return os.fdopen(fd, mode, newline="", encoding="utf-8")
