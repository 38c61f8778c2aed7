"""``python -m seqnn ...`` and the ``seqnn`` command: the door of the command line, ``seqnn.app.cli``.

(The one file of the lecture's floor that names the command line: it is its door, and nothing imports it but
the ``seqnn`` script.) Ctrl-C at any moment of start-up is one line and exit status 130: until the command
line's ``main`` answers Ctrl-C itself, a SIGINT ends the process here, before Python could print a traceback.
"""

import os
import signal


def interrupted(signum, frame) -> None:
    """Ctrl-C before ``main`` can answer it (start-up, shut-down): one line, exit 130, nothing else."""
    os.write(2, b"seqnn: interrupted (Ctrl-C)\n")
    os._exit(130)


signal.signal(signal.SIGINT, interrupted)              # from here until main takes Ctrl-C over

from .app.cli import main  # noqa: E402                 (after the handler: loading it takes a while)


def run() -> None:
    """The ``seqnn`` command and ``python -m seqnn``: the command line, then its exit status."""
    code = main()
    signal.signal(signal.SIGINT, interrupted)          # and again while the interpreter shuts down
    raise SystemExit(code)


if __name__ == "__main__":
    run()
