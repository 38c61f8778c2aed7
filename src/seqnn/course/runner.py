"""The child process of ``seqnn grade``: it runs a student's exercise file and answers the grader's calls with
their outputs, and nothing else.

Run by path, ``python -I -B -u runner.py FILE FD_IN FD_OUT LIMITS`` (``LIMITS`` a JSON object), from a fresh
temporary folder that holds a copy of FILE. It imports the standard library and numpy, never seqnn. Before the
student's code runs, it

- sets limits on CPU time, memory, file size, core files and processes (``resource.setrlimit``);
- installs an audit hook (``sys.addaudithook``, which cannot be removed) that refuses writes, deletes and
  renames outside its folder, reading seqnn's own files, subprocesses, forks and execs, signals to other
  processes, sockets, ctypes, and importing seqnn (its reference implementations are the answers).

The grader sends a request, this process answers: a message is 8 bytes of length, then JSON, on two pipes only
the grader and this process hold. The student's prints go to stdout and stderr, which the grader shows as the
student's output; they never reach the channel. The grader computes every comparison and the score itself: all
this process returns are the values the student's functions return (``encode``).

This is not a security boundary (a determined student can get round an audit hook); it keeps honest mistakes
and naive escapes from breaking a grade. Run untrusted code in a container (docs/teaching.md).
"""

from __future__ import annotations

import base64
import io
import json
import os
import resource
import signal
import sys

import numpy as np

LIMIT = 1 << 26                     # bytes in one message at most (64 MiB)
FUNCTIONS = {                       # what the grader hands a student's gradient check, made in this process
    "sin_square": lambda x: float(np.sum(np.sin(x) * x ** 2) + 0.5 * np.sum(x) ** 2),
    "softplus": lambda x: float(np.sum(np.log1p(np.exp(x)) * np.arange(1, x.size + 1).reshape(x.shape))),
}


# --- the channel: values as JSON, arrays as .npy bytes (never a pickle) -------------------------------------------
def encode(value, keep):
    """``value`` as JSON-able data: None, bools, ints, floats, strings; lists, tuples, dicts with string keys;
    numpy arrays and scalars (as .npy, without pickles). Anything else stays where it is: ``keep(value)`` returns
    an id by which the other side refers to it (``{"ref": id}``)."""
    if value is None or type(value) in (bool, int, float, str):
        return value
    if isinstance(value, (np.ndarray, np.generic)) and not value.dtype.hasobject:
        buffer = io.BytesIO()
        np.save(buffer, np.asarray(value), allow_pickle=False)
        return {"npy": base64.b64encode(buffer.getvalue()).decode("ascii"), "scalar": isinstance(value, np.generic)}
    if type(value) is list:
        return [encode(v, keep) for v in value]
    if type(value) is tuple:
        return {"tuple": [encode(v, keep) for v in value]}
    if type(value) is dict and all(type(k) is str for k in value):
        return {"dict": {k: encode(v, keep) for k, v in value.items()}}
    return {"ref": keep(value)}


def decode(data, resolve):
    """The value ``encode`` made ``data`` from: a fresh copy of it (``resolve(id)``: what a ref stands for)."""
    if isinstance(data, list):
        return [decode(v, resolve) for v in data]
    if not isinstance(data, dict):
        return data
    if "npy" in data:
        array = np.load(io.BytesIO(base64.b64decode(data["npy"])), allow_pickle=False)
        return array[()] if data["scalar"] else array
    if "tuple" in data:
        return tuple(decode(v, resolve) for v in data["tuple"])
    if "dict" in data:
        return {k: decode(v, resolve) for k, v in data["dict"].items()}
    return resolve(data["ref"])


def send(fd: int, message: dict) -> None:
    data = json.dumps(message).encode("utf-8")
    data = len(data).to_bytes(8, "big") + data
    while data:
        data = data[os.write(fd, data):]


def receive_exactly(fd: int, n: int) -> bytes | None:
    chunks, left = [], n
    while left:
        chunk = os.read(fd, min(left, 1 << 20))
        if not chunk:
            return None
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def receive(fd: int) -> dict | None:
    """The next message on ``fd``, or None at its end."""
    head = receive_exactly(fd, 8)
    body = receive_exactly(fd, int.from_bytes(head, "big")) if head else None
    return None if body is None else json.loads(body)


# --- the walls --------------------------------------------------------------------------------------------------
class Refused(PermissionError):
    """What the audit hook raises: the student's code asked for something the grader does not allow."""


def set_limits(limits: dict) -> None:
    """CPU seconds, address space and file size (bytes), no core files, no new processes or threads (for a
    user other than root, who is exempt from that one: the audit hook refuses them too). A file past the size
    limit fails to write (EFBIG) rather than killing the process."""
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    for kind, value in ((resource.RLIMIT_CPU, limits["cpu"]), (resource.RLIMIT_AS, limits["memory"]),
                        (resource.RLIMIT_FSIZE, limits["fsize"]), (resource.RLIMIT_CORE, 0),
                        (resource.RLIMIT_NPROC, 0)):
        resource.setrlimit(kind, (value, value + (kind == resource.RLIMIT_CPU)))


def wall(folder: str, seqnn_folder: str, others: list):
    """The audit hook: ``folder`` is the only place the student's code may change; ``seqnn_folder`` (seqnn's
    package) may not even be read, nor the folders ``others`` (a class's submissions: the other students')."""
    inside = os.path.realpath(folder) + os.sep
    seqnn = os.path.realpath(seqnn_folder) + os.sep
    hidden = tuple(os.path.realpath(p) + os.sep for p in others)
    me = os.getpid()
    changes = {"os.remove", "os.rmdir", "os.rename", "os.truncate", "os.chmod", "os.chown", "os.mkdir",
               "os.symlink", "os.link", "os.utime", "shutil.rmtree", "os.chflags", "os.lchflags", "os.setxattr",
               "os.removexattr"}
    starts = {"subprocess.Popen", "os.system", "os.exec", "os.posix_spawn", "os.spawn", "os.fork", "os.forkpty",
              "pty.spawn"}

    def where(path) -> str:
        return os.path.realpath(os.fsdecode(path)) if isinstance(path, (str, bytes, os.PathLike)) else inside

    def hook(event: str, args: tuple) -> None:
        if event == "import" and (args[0] == "seqnn" or str(args[0]).startswith("seqnn.")):
            raise Refused(f"import {args[0]} is refused: seqnn's reference implementations are the answers; "
                          "write the maths with numpy")
        if event == "import" and args[0] in ("_posixsubprocess", "multiprocessing", "_ctypes"):
            raise Refused(f"import {args[0]} is refused: an exercise runs alone, with no other processes (and no "
                          "ctypes)")
        if event == "open":
            path, mode, flags = args
            writes = (isinstance(mode, str) and any(c in mode for c in "wax+")) or (
                isinstance(flags, int) and flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND))
            target = where(path)
            if writes and not target.startswith(inside) and target != os.devnull:
                raise Refused(f"writing {os.fsdecode(path)} is refused: only the exercise's own folder may change")
            if target.startswith(seqnn):
                raise Refused(f"reading {os.fsdecode(path)} is refused: it is seqnn's own code, the answers")
            if target.startswith(hidden):
                raise Refused(f"reading {os.fsdecode(path)} is refused: it is in the class's submissions")
        elif event in changes:                      # (a copy opens its destination: the "open" above)
            paths = [a for a in args[:2] if isinstance(a, (str, bytes, os.PathLike))]
            if any(not where(p).startswith(inside) for p in paths):
                raise Refused(f"{event} of {os.fsdecode(paths[0])} is refused: only the exercise's own folder may "
                              "change")
        elif event in starts:
            raise Refused(f"starting a process is refused ({event}): an exercise runs alone")
        elif event in ("os.kill", "os.killpg") and args[0] not in (me, 0):
            raise Refused(f"{event}({args[0]}, ...) is refused: an exercise may not signal other processes")
        elif event.startswith("socket.") or event.startswith("ctypes."):
            raise Refused(f"{event} is refused: an exercise needs no network and no ctypes")

    return hook


# --- answering the grader ---------------------------------------------------------------------------------------
def describe(err: BaseException, path: str) -> dict:
    """What the student's code raised, and the line of their file it came from (if it came from there)."""
    tb, line = err.__traceback__, None
    while tb is not None:
        if os.path.realpath(tb.tb_frame.f_code.co_filename) == os.path.realpath(path):
            line = tb.tb_lineno
        tb = tb.tb_next
    if isinstance(err, SyntaxError) and err.filename and os.path.realpath(err.filename) == os.path.realpath(path):
        line = err.lineno
    message = err.msg if isinstance(err, SyntaxError) else str(err)
    return {"type": type(err).__name__, "message": message[:500], "line": line}


def parameter_names(fn, n: int) -> list:
    """The names the student gave the first ``n`` positional parameters of ``fn`` (``argument k`` if none)."""
    import inspect
    try:
        names = [p.name for p in inspect.signature(fn).parameters.values()
                 if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    except (TypeError, ValueError):
        names = []
    return [names[k] if k < len(names) else f"argument {k + 1}" for k in range(n)]


def call(module, request: dict, table: list, keep, path: str) -> dict:
    """Call the student's function ``request["fn"]`` on fresh copies of ``request["args"]``: once, or once per
    variation ``[argument, flat index, delta]`` (the finite differences), or ``repeat`` times. Returns the values
    (only the outputs ``pick`` names, if given) and the arguments a plain call changed in place (except those
    the student's code made: ``theirs``, such as a cache). ``table`` holds the values kept as refs, ``keep``
    adds one."""
    fn = getattr(module, request["fn"], None)
    if not callable(fn):
        return {"missing": request["fn"]}
    variations = request.get("vary") or [None] * request.get("repeat", 1)
    pick, values, changed = request.get("pick"), [], set()
    for vary in variations:
        args = decode(request["args"], table.__getitem__)
        if vary:
            args[vary[0]].reshape(-1)[vary[1]] += vary[2]
        try:
            out = fn(*args)
        except BaseException as err:                          # noqa: BLE001  (whatever it is, the grader says it)
            return {"error": describe(err, path)}
        if not vary:                                          # a plain call: did it change what it was given?
            names = parameter_names(fn, len(args))
            changed |= {names[j] for j, a in enumerate(args) if j not in request.get("theirs", ())
                        and not _refers(request["args"][j]) and encode(a, keep) != request["args"][j]}
        if pick is not None and isinstance(out, tuple) and len(out) > max(pick):
            out = tuple(out[j] for j in pick)
        values.append(encode(out, keep))
    return {"values": values, "changed": sorted(changed)}


def _refers(data) -> bool:
    """Does encoded ``data`` hold a ref (a value the child keeps, so not a copy that can be compared)?"""
    if isinstance(data, list):
        return any(_refers(v) for v in data)
    if isinstance(data, dict):
        return "ref" in data or any(_refers(v) for v in data.get("tuple", data.get("dict", {}).values()))
    return False


def serve(path: str, fd_in: int, fd_out: int) -> None:
    """Import the student's file and answer the grader until it closes the channel."""
    import importlib.util
    name = "exercise_" + os.path.splitext(os.path.basename(path))[0]
    try:
        spec = importlib.util.spec_from_file_location(name, path)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    except BaseException as err:                              # noqa: BLE001
        send(fd_out, {"import_error": describe(err, path)})
        return
    send(fd_out, {"ready": True})
    table: list = []                                    # the values kept here, by ref

    def keep(value) -> int:
        table.append(value)
        return len(table) - 1

    while (request := receive(fd_in)) is not None:
        if request["op"] == "rng":
            reply = {"values": [encode(np.random.default_rng(request["seed"]), keep)]}
        elif request["op"] == "function":
            reply = {"values": [encode(FUNCTIONS[request["name"]], keep)]}
        else:
            reply = call(module, request, table, keep, path)
        try:
            send(fd_out, reply)
        except (TypeError, ValueError, RecursionError) as err:   # a value JSON cannot hold
            send(fd_out, {"error": {"type": type(err).__name__, "message": f"the values returned cannot be sent "
                                                                           f"to the grader: {err}", "line": None}})


def main() -> None:
    path, fd_in, fd_out, limits = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), json.loads(sys.argv[4])
    set_limits(limits)                                  # numpy is loaded (and its threads started) by now
    folder = os.path.dirname(os.path.abspath(path))
    sys.path[:0] = [folder]
    sys.addaudithook(wall(folder, os.path.dirname(os.path.dirname(os.path.abspath(__file__))), limits["hidden"]))
    serve(path, fd_in, fd_out)


if __name__ == "__main__":
    main()
