"""Writing a file so that no one ever sees half of it: checkpoints (``seqnn.io``) and plots (``seqnn.viz``)."""

from __future__ import annotations

from typing import Callable

import os


def write_atomic(path: str, write: Callable) -> None:
    """Call ``write(f)`` on a temporary file next to ``path``, flush it to disk, and rename it over ``path``:
    the old file stays whole until the new one is. An exception removes the temporary file; a hard kill
    (SIGKILL, power loss) leaves at most that one (``.<name>.seqnn-tmp``), which the next write reuses."""
    folder = os.path.dirname(os.path.abspath(path))
    if os.path.isdir(path):
        raise IsADirectoryError(f"path: {path} is a folder; expected a file path such as "
                                f"{os.path.join(path, 'model.npz')}")
    if not os.path.isdir(folder):
        raise FileNotFoundError(f"path: the folder of {path} does not exist")
    tmp = os.path.join(folder, f".{os.path.basename(path)}.seqnn-tmp")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_BINARY", 0), 0o666)  # umask applies
    except OSError as err:                 # name the user's path, not the hidden temporary one
        raise type(err)(err.errno, f"path: cannot write {path} in its folder ({err.strerror})") from None
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)              # atomic on POSIX and Windows
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise
    if hasattr(os, "O_DIRECTORY"):         # make the rename itself durable
        dir_fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
