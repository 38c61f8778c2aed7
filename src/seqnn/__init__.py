"""seqnn: recurrent neural networks from scratch in NumPy.

Shapes everywhere: sequences are time-major ``(T, B, D)``; a state is ``(B, H)``;
weights are stored output dimension first (``W_xh`` is ``(G*H, D)``), as the
lecture writes them and as PyTorch stores them.

``import seqnn`` loads nothing heavy: each name below loads its module when it is
first used (``seqnn.LSTM`` imports ``seqnn.stack``), and so does every module
(``seqnn.io``). So the ``seqnn`` command starts, answers ``--help`` and takes
Ctrl-C before numpy has loaded.
"""

from __future__ import annotations

import sys as _sys


def _interrupted(signum, frame) -> None:
    """Ctrl-C while the ``seqnn`` command starts, before its ``main`` can answer: one line, exit 130."""
    import os
    os.write(2, b"seqnn: interrupted (Ctrl-C)\n")
    os._exit(130)


def _starting_the_program() -> bool:
    """Is this process the seqnn command starting (``seqnn ...`` or ``python -m seqnn ...``)?"""
    run_as = [b for a, b in zip(_sys.orig_argv, _sys.orig_argv[1:]) if a == "-m"]
    return _sys.argv[0].rpartition("/")[2] == "seqnn" or run_as == ["seqnn"]


if _starting_the_program():                     # from its first line on, Ctrl-C is one line (seqnn.__main__)
    import _signal
    _signal.signal(_signal.SIGINT, _interrupted)

from ._version import __version__  # noqa: E402, F401  (written in _version.py; pyproject.toml reads it there)

TYPE_CHECKING = False          # typing's own flag, without importing typing: `seqnn` starts in a millisecond

HOMES = {                                      # the module each name of ``seqnn`` lives in
    "Cell": "cells", "RNNCell": "cells", "LSTMCell": "cells", "GRUCell": "cells",
    "Recurrent": "recurrent", "RecurrentStack": "stack", "RNN": "stack", "LSTM": "stack", "GRU": "stack",
    "Linear": "layers", "Dropout": "layers", "Embedding": "layers", "OneHot": "layers",
    "softmax_cross_entropy": "losses", "mean_squared_error": "losses",
    "Module": "module", "Parameter": "module",
    "SGD": "optim", "Adagrad": "optim", "Adam": "optim", "RMSProp": "optim", "LRSchedule": "optim",
    "clip_grad_norm": "optim", "clip_grad_value": "optim",
    "gradcheck": "gradient_check", "numerical_gradient": "gradient_check", "relative_error": "gradient_check",
    "GradcheckReport": "gradient_check",
}
__all__ = ["functional", "init", "io", "train", *HOMES]


def __getattr__(name: str):
    """Load a name's module on first use; afterwards the name is an attribute like any other."""
    import importlib
    import pkgutil
    if name in HOMES:
        value = getattr(importlib.import_module(f".{HOMES[name]}", __name__), name)
    elif name in {module.name for module in pkgutil.iter_modules(__path__)}:
        value = importlib.import_module(f".{name}", __name__)
    else:
        raise AttributeError(f"module 'seqnn' has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(__all__))


if TYPE_CHECKING:                              # what type checkers see: the same names, imported as usual
    from . import functional, init, io, train  # noqa: F401
    from .cells import Cell, GRUCell, LSTMCell, RNNCell  # noqa: F401
    from .gradient_check import GradcheckReport, gradcheck, numerical_gradient, relative_error  # noqa: F401
    from .layers import Dropout, Embedding, Linear, OneHot  # noqa: F401
    from .losses import mean_squared_error, softmax_cross_entropy  # noqa: F401
    from .module import Module, Parameter  # noqa: F401
    from .optim import SGD, Adagrad, Adam, LRSchedule, RMSProp, clip_grad_norm, clip_grad_value  # noqa: F401
    from .recurrent import Recurrent  # noqa: F401
    from .stack import GRU, LSTM, RNN, RecurrentStack  # noqa: F401
