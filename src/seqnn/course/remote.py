"""The grader's side of a student's file: the file runs in a child process (``runner.py``) and its functions are
called from here as if they were local, on copies of the grader's arrays, within a time limit.

``Remote(path, time_limit)`` starts the child when first called: a fresh temporary folder holding a copy of the
file (and the ``.py`` files beside it, which it may import), its own process group, limits on CPU time, memory
and file size, and the audit hook of ``runner.py``. ``remote.rnn_step_forward(x, ...)`` sends the arguments and
returns what the student's function returned; the arrays come back as copies, the rest (a numpy Generator, an
object of the student's own) as a ``Ref`` to pass back. What the student's code prints is kept (the first
``SHOWN`` characters) to be shown as their output. ``close()`` kills the process group and removes the folder.
"""

from __future__ import annotations

import json
import math
import os
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass

from .runner import LIMIT, decode, encode, send

RUNNER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "runner.py")
MEMORY, FILE_SIZE = 2 << 30, 16 << 20              # bytes: the child's address space, and any file it writes
SHOWN = 2000                                       # characters of the student's output kept to show


@dataclass(frozen=True)
class Ref:
    """A value the child keeps (it cannot travel as data): passed back, it stands for that value."""

    key: int


class Stop(Exception):
    """The file cannot answer: it could not be imported, its time ran out (``final``: no part after this one can
    run either), or its process ended (a fresh one answers the next part)."""

    def __init__(self, message: str, final: bool = False):
        super().__init__(message)
        self.final = final


class Raised(Exception):
    """The student's function raised ``kind``; the message says what and at which line of their file."""

    def __init__(self, kind: str, message: str, line: int | None):
        said = message if kind == "Refused" else f"raised {kind}: {message}"       # the audit hook's refusal
        super().__init__(said + (f" (line {line})" if line else ""))
        self.kind, self.message = kind, message


def _keep(value) -> int:
    if isinstance(value, Ref):
        return value.key
    raise TypeError(f"the grader cannot send a {type(value).__name__} to the student's file")


class Student:
    """The student's functions as this object's attributes (``m.rnn_step_forward(x, ...)``), called by ``call``,
    and what one part saw: the arguments changed in place (``changed``), the values the functions returned."""

    def __init__(self) -> None:
        self.changed: list = []                   # (function, [argument names]) changed in place, by this part
        self._theirs: list = []                   # values the student's functions returned (their caches)

    def call(self, function: str, args: tuple, pick=None, vary=None, repeat: int = 1) -> list:
        raise NotImplementedError

    def new_part(self) -> None:
        """Forget the last part's values and in-place changes."""
        self.changed, self._theirs = [], []

    def __getattr__(self, function: str):
        if function.startswith("_"):
            raise AttributeError(function)
        return lambda *args: self.call(function, args)[0]


class Remote(Student):
    """The student's file at ``path``, run in a child process; its functions are this object's attributes.
    ``hidden``: folders it may not read (a class's submissions)."""

    def __init__(self, path: str, time_limit: float, hidden: tuple = ()):
        super().__init__()
        self.path, self.time_limit = os.path.abspath(path), time_limit
        self.hidden = [os.path.abspath(p) for p in hidden]
        self.deadline: float | None = None
        self.printed, self._shown = 0, bytearray()
        self._process: subprocess.Popen | None = None
        self._failed: Stop | None = None
        self._folders: list = []                  # the temporary folders it ran in (one per child)

    # --- the child's life ----------------------------------------------------------------------------------------
    def start(self) -> None:
        """Start the child (if none is running) and import the file in it; ``Stop`` if it cannot."""
        if self._failed is not None:
            raise self._failed
        if self._process is not None:
            return
        if self.deadline is None:
            self.deadline = time.monotonic() + self.time_limit
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise self._give_up(self._out_of_time())
        self._folder = tempfile.mkdtemp(prefix="seqnn-grade-")
        self._folders.append(self._folder)
        here = os.path.dirname(self.path)
        for name in os.listdir(here):                       # the file, and the .py files it may import
            source = os.path.join(here, name)
            if name.endswith(".py") and os.path.isfile(source) and not os.path.islink(source):
                shutil.copyfile(source, os.path.join(self._folder, name))
        to_child, self._to_child = os.pipe()
        self._from_child, from_child = os.pipe()
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": self._folder, "TMPDIR": self._folder,
               "LANG": "C.UTF-8", "PYTHONIOENCODING": "utf-8", "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1",
               "MKL_NUM_THREADS": "1"}
        limits = json.dumps({"cpu": math.ceil(left) + 1, "memory": MEMORY, "fsize": FILE_SIZE,
                             "hidden": self.hidden})
        self._process = subprocess.Popen(
            [sys.executable, "-I", "-B", "-u", RUNNER, os.path.join(self._folder, os.path.basename(self.path)),
             str(to_child), str(from_child), limits], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, cwd=self._folder, env=env, pass_fds=(to_child, from_child),
            start_new_session=True)
        os.close(to_child)
        os.close(from_child)
        self._drain = threading.Thread(target=self._keep_output, args=(self._process.stdout,), daemon=True)
        self._drain.start()
        reply = self._receive()
        if "import_error" in reply:
            error = reply["import_error"]
            where = f" (line {error['line']})" if error["line"] else ""
            raise self._give_up(Stop(f"syntax error at line {error['line']}: {error['message']}"
                                     if error["type"] in ("SyntaxError", "IndentationError", "TabError") else
                                     f"your file cannot be imported: {error['type']}: {error['message']}{where}",
                                     final=True))

    def interrupt(self) -> None:
        """Stop now, from another thread (Ctrl-C): the child's group is killed and no part starts another."""
        self._failed = Stop("not graded: the grade was interrupted", final=True)
        process = self._process
        if process is not None:
            try:
                os.killpg(process.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass

    def close(self) -> None:
        """End the child: its whole process group is killed, its folder removed."""
        process, self._process = self._process, None
        if process is None:
            return
        try:
            os.killpg(process.pid, signal.SIGKILL)               # the child, and anything it left in its group
        except (ProcessLookupError, PermissionError):
            pass
        process.wait()
        os.close(self._to_child)
        os.close(self._from_child)
        self._drain.join(timeout=5)
        assert process.stdout is not None
        process.stdout.close()
        shutil.rmtree(self._folder, ignore_errors=True)

    def output(self) -> str:
        """What the student's code printed (its first ``SHOWN`` characters), with the temporary folders it ran in
        called by the name of the student's own folder."""
        text = self._shown.decode("utf-8", errors="replace")
        for folder in self._folders:
            text = text.replace(folder, os.path.dirname(self.path))
        return text[:SHOWN]

    def _keep_output(self, stream) -> None:
        while chunk := stream.read1(1 << 16):
            self.printed += len(chunk)
            if len(self._shown) < 4 * SHOWN:
                self._shown += chunk[:4 * SHOWN - len(self._shown)]

    def _give_up(self, stop: Stop) -> Stop:
        self.close()
        if stop.final:
            self._failed = stop
        return stop

    def _out_of_time(self) -> Stop:
        return Stop(f"did not finish in {self.time_limit:g} s (an endless loop?); seqnn grade --time-limit S "
                    "gives more time", final=True)

    def _ended(self) -> Stop:
        assert self._process is not None
        try:
            status = self._process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            return self._give_up(Stop("stopped answering the grader (its channel was closed)"))
        self._drain.join(timeout=1)                          # the last of its output
        if status < 0:
            why = {int(signal.SIGXCPU): " (its CPU time ran out)", int(signal.SIGKILL): " (the memory or CPU limit?)"}
            how = f"was killed by {signal.Signals(-status).name}{why.get(-status, '')}"
        else:
            how = f"ended with status {status}"
        return self._give_up(Stop(f"the process {how}"))

    # --- the channel ---------------------------------------------------------------------------------------------
    def _read(self, n: int) -> bytes:
        assert self.deadline is not None
        data = bytearray()
        while len(data) < n:
            left = self.deadline - time.monotonic()
            if left <= 0 or not select.select([self._from_child], [], [], left)[0]:
                raise self._give_up(self._out_of_time())
            chunk = os.read(self._from_child, min(n - len(data), 1 << 20))
            if not chunk:
                raise self._ended()
            data += chunk
        return bytes(data)

    def _receive(self) -> dict:
        size = int.from_bytes(self._read(8), "big")
        if size > LIMIT:
            raise self._give_up(Stop(f"returned more than {LIMIT >> 20} MiB at once"))
        try:
            return json.loads(self._read(size))
        except ValueError:
            raise self._give_up(Stop("wrote something the grader cannot read on its channel")) from None

    def _ask(self, request: dict) -> dict:
        self.start()
        try:
            send(self._to_child, request)
        except BrokenPipeError:
            raise self._ended() from None
        return self._receive()

    # --- calling the student's functions ------------------------------------------------------------------------
    def call(self, function: str, args: tuple, pick=None, vary=None, repeat: int = 1) -> list:
        """Call the student's ``function(*args)``: once, ``repeat`` times (the same arguments), or once per
        variation ``(argument index, flat index, delta)``; the list of what each call returned (only the outputs
        ``pick`` names, if given). Each call gets fresh copies of the arguments."""
        theirs = [j for j, a in enumerate(args) if any(a is t for t in self._theirs)]
        request = {"op": "call", "fn": function, "args": [encode(a, _keep) for a in args], "theirs": theirs,
                   "pick": pick, "vary": vary, "repeat": repeat}
        reply = self._ask(request)
        if "missing" in reply:
            raise Raised("AttributeError", f"your file defines no function {function}", None)
        if "error" in reply:
            error = reply["error"]
            raise Raised(error["type"], error["message"], error["line"])
        if reply["changed"]:
            self.changed.append((function, reply["changed"]))
        values = [decode(v, Ref) for v in reply["values"]]
        for value in values:
            self._theirs += [value, *(value if isinstance(value, (tuple, list)) else ())]
        return values

    def rng(self, seed: int) -> Ref:
        """A ``numpy.random.Generator`` seeded ``seed``, made and kept in the child."""
        return decode(self._ask({"op": "rng", "seed": seed})["values"][0], Ref)

    def function(self, name: str) -> Ref:
        """The function ``runner.FUNCTIONS[name]`` (an array -> a float), made and kept in the child."""
        return decode(self._ask({"op": "function", "name": name})["values"][0], Ref)
