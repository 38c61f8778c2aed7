"""``python -m seqnn ...`` and the ``seqnn`` command: the door of the command line, ``seqnn.app.cli``.

(The one file of the lecture's floor that names the command line: it is its door, and nothing imports it but
the ``seqnn`` script.) Ctrl-C at any moment of start-up is one line and exit status 130: from the first line of
``seqnn/__init__.py`` (when the program is seqnn) until the command line's ``main`` answers Ctrl-C itself, a
SIGINT ends the process at once, before Python could print a traceback.
"""

import _signal                                         # the C module, built in: the handler is set at once

from . import _interrupted as interrupted              # one line, exit 130 (seqnn/__init__.py)

# From here until main takes Ctrl-C over (seqnn/__init__ set it already when this is the program: the package is
# imported first). `import signal` would build its enums first: milliseconds in which a Ctrl-C was a traceback.
_signal.signal(_signal.SIGINT, interrupted)
from .app.cli import main  # noqa: E402                 (after the handler: loading it takes a while)


def run() -> None:
    """The ``seqnn`` command and ``python -m seqnn``: the command line, then its exit status."""
    code = main()
    _signal.signal(_signal.SIGINT, interrupted)        # and again while the interpreter shuts down
    raise SystemExit(code)


if __name__ == "__main__":
    run()
