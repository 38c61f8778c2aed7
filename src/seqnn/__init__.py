"""seqnn: recurrent neural networks from scratch in NumPy.

Shapes everywhere: sequences are time-major ``(T, B, D)``; a state is ``(B, H)``;
weights are stored output dimension first (``W_xh`` is ``(G*H, D)``), as the
lecture writes them and as PyTorch stores them.
"""

from ._version import __version__  # noqa: F401  (written in _version.py; pyproject.toml reads it there)

from . import functional, init, io, train
from .cells import Cell, GRUCell, LSTMCell, RNNCell
from .gradient_check import GradcheckReport, gradcheck, numerical_gradient, relative_error
from .layers import Dropout, Embedding, Linear, OneHot
from .losses import mean_squared_error, softmax_cross_entropy
from .module import Module, Parameter
from .optim import SGD, Adagrad, Adam, RMSProp, clip_grad_norm, clip_grad_value
from .recurrent import Recurrent
from .stack import GRU, LSTM, RNN, RecurrentStack

__all__ = [
    "functional", "init", "io", "train",
    "Cell", "RNNCell", "LSTMCell", "GRUCell", "Recurrent", "RecurrentStack", "RNN", "LSTM", "GRU",
    "Linear", "Dropout", "Embedding", "OneHot",
    "softmax_cross_entropy", "mean_squared_error",
    "Module", "Parameter",
    "SGD", "Adagrad", "Adam", "RMSProp", "clip_grad_norm", "clip_grad_value",
    "gradcheck", "numerical_gradient", "relative_error", "GradcheckReport",
]
