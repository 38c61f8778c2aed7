"""PyTorch interop: weights that carry over both ways (torch is imported only here, lazily).

Names and layouts (seqnn stores weights as PyTorch does, output dimension first,
gates in PyTorch's order, so conversion is a copy, not a puzzle):

=====================  ===================================  ==================================
seqnn                  PyTorch ``nn.RNN/LSTM/GRU``           note
=====================  ===================================  ==================================
``layers[k].cell.W_xh``  ``weight_ih_l{l}{sfx}``  (G*H, D)    k = l*Dirs + d, sfx "_reverse" for d=1
``layers[k].cell.W_hh``  ``weight_hh_l{l}{sfx}``  (G*H, H)
``layers[k].cell.b_h``   ``bias_ih_l{l}{sfx}`` + ``bias_hh_l{l}{sfx}``   PyTorch's two biases always add
GRU ``cell.b_hn``        ``bias_hh_l{l}{sfx}[2H:3H]``          inside r * (...): cannot be merged
=====================  ===================================  ==================================

Export puts ``b_h`` into ``bias_ih`` and zeros into ``bias_hh`` (for a GRU,
``b_hn`` into the n block of ``bias_hh``); import adds the two (keeping the GRU's
n block of ``bias_hh`` apart as ``b_hn``). ``Linear`` maps to ``nn.Linear``
(``weight`` = W_hy, ``bias`` = b_y) and ``Embedding`` to ``nn.Embedding``
(``weight`` = W_embed).
"""

from __future__ import annotations

import re
import warnings
from typing import Any

import numpy as np

from ._checks import check_choice, check_dtype_arg
from .layers import Embedding, Linear
from .models import CharLM, SequenceClassifier, SequenceTagger
from .stack import RecurrentStack

TORCH_MODES = {"rnn": "RNN", "lstm": "LSTM", "gru": "GRU"}
GATES_TO_KIND = {1: "rnn", 4: "lstm", 3: "gru"}          # gate blocks stacked in weight_ih -> the cell


def _torch():
    try:
        import torch
    except ImportError as err:   # pragma: no cover - exercised only without torch
        raise ImportError("seqnn.interop needs PyTorch: pip install torch") from err
    return torch


def _suffix(l: int, d: int) -> str:
    return f"_l{l}" + ("_reverse" if d == 1 else "")


# --- recurrent stacks -------------------------------------------------------------------------
def _cells(stack: RecurrentStack):
    """Yield (PyTorch name suffix, cell) for every layer and direction, in PyTorch's order."""
    for l in range(stack.num_layers):
        for d in range(stack.num_directions):
            yield _suffix(l, d), stack.layers[l * stack.num_directions + d].cell


def stack_state_dict(stack: RecurrentStack) -> dict[str, np.ndarray]:
    """A ``RecurrentStack``'s weights under PyTorch's names, as numpy arrays (no torch needed)."""
    out = {}
    H = stack.hidden_size
    for sfx, cell in _cells(stack):
        out["weight_ih" + sfx] = cell.W_xh.copy()
        out["weight_hh" + sfx] = cell.W_hh.copy()
        if cell.bias:
            out["bias_ih" + sfx] = cell.b_h.copy()
            bias_hh = np.zeros_like(cell.b_h)                 # PyTorch's second bias: unused but for b_hn
            if stack.kind == "gru":
                bias_hh[2 * H:] = cell.b_hn
            out["bias_hh" + sfx] = bias_hh
    return out


def stack_grads_state_dict(stack: RecurrentStack) -> dict[str, np.ndarray]:
    """A stack's *gradients* under PyTorch's names: what ``p.grad`` holds in the twin ``nn.RNN/LSTM/GRU``.

    Both of PyTorch's biases receive ``b_h``'s gradient (they always add); for a
    GRU the n block of ``bias_hh`` receives ``b_hn``'s.
    """
    out = {}
    H = stack.hidden_size
    for sfx, cell in _cells(stack):
        g = {n: p.grad.copy() for n, p in cell.named_parameters()}
        out["weight_ih" + sfx], out["weight_hh" + sfx] = g["W_xh"], g["W_hh"]
        if cell.bias:
            out["bias_ih" + sfx] = g["b_h"]
            out["bias_hh" + sfx] = (np.concatenate([g["b_h"][:2 * H], g["b_hn"]]) if stack.kind == "gru"
                                    else g["b_h"].copy())
    return out


def load_stack_state_dict(stack: RecurrentStack, state: dict, name: str = "state") -> None:
    """Copy PyTorch-named weights (numpy arrays or tensors) into ``stack``; names and shapes are checked.

    ``name``: the argument the user passed ``state`` as, for error messages."""
    state = {k: _to_numpy(v) for k, v in state.items()}
    expected = stack_state_dict(stack)
    if set(state) != set(expected):
        missing, extra = sorted(set(expected) - set(state)), sorted(set(state) - set(expected))
        raise ValueError(f"{name}: expected the keys {sorted(expected)}; missing {missing}, unexpected {extra}")
    for key, want in expected.items():
        if state[key].shape != want.shape:
            raise ValueError(f"{name}: {key} has shape {state[key].shape}, this stack needs {want.shape}")
        if not np.isfinite(state[key]).all():
            raise ValueError(f"{name}: {key} holds NaN or inf")
    H = stack.hidden_size
    for sfx, cell in _cells(stack):
        cell.W_xh = state["weight_ih" + sfx]
        cell.W_hh = state["weight_hh" + sfx]
        if cell.bias:
            b_ih, b_hh = state["bias_ih" + sfx], state["bias_hh" + sfx]
            if stack.kind == "gru":
                cell.b_h = np.concatenate([b_ih[:2 * H] + b_hh[:2 * H], b_ih[2 * H:]])
                cell.b_hn = b_hh[2 * H:]
            else:
                cell.b_h = b_ih + b_hh


def stack_from_state_dict(state: dict, kind: str | None = None, nonlinearity: str = "tanh",
                          dtype=None, dropout: float = 0.0, name: str = "state") -> RecurrentStack:
    """Build a ``RecurrentStack`` from a PyTorch RNN/LSTM/GRU state_dict (sizes read from the shapes).

    ``kind`` ("rnn", "lstm", "gru") is inferred from the number of gates when None;
    a vanilla RNN's ``nonlinearity`` cannot be seen in the weights, so pass it.
    ``name``: the argument the user passed ``state`` as, for error messages.
    """
    if not isinstance(state, dict):
        raise TypeError(f"{name}: expected a state_dict (a dict of arrays), got {type(state).__name__}")
    if kind is not None:
        check_choice("kind", kind, sorted(GATES_TO_KIND.values()))
    state = {k: _to_numpy(v) for k, v in state.items()}
    if "weight_ih_l0" not in state or "weight_hh_l0" not in state:
        raise ValueError(f"{name}: expected PyTorch RNN/LSTM/GRU keys such as 'weight_ih_l0' and 'weight_hh_l0', "
                         f"got {sorted(state)[:6]}")
    H = state["weight_hh_l0"].shape[1]
    D = state["weight_ih_l0"].shape[1]
    G = state["weight_ih_l0"].shape[0] // H
    inferred = _kind_of(state)
    kind = kind or inferred
    if kind is None or kind != inferred:
        raise ValueError(f"kind: the weights have {G} gates, which is not a {kind!r}")
    num_layers = 1 + max(int(m.group(1)) for k in state if (m := re.match(r"weight_ih_l(\d+)", k)))
    bidirectional = "weight_ih_l0_reverse" in state
    extra: dict = {"nonlinearity": nonlinearity} if kind == "rnn" else {}
    dtype = state["weight_ih_l0"].dtype if dtype is None else check_dtype_arg(dtype)
    stack = RecurrentStack(kind, D, H, num_layers, bidirectional, dropout, bias="bias_ih_l0" in state,
                           dtype=dtype, rng=0, **extra)
    load_stack_state_dict(stack, state, name)
    return stack


# --- torch modules ----------------------------------------------------------------------------
def to_torch(obj):
    """A seqnn layer or model -> a PyTorch ``state_dict`` (an ordered dict of tensors, same dtype).

    ``RecurrentStack`` (``RNN``/``LSTM``/``GRU``) -> the keys of ``nn.RNN/LSTM/GRU``;
    ``Linear`` -> ``weight``, ``bias``; ``Embedding`` -> ``weight``; ``CharLM``,
    ``SequenceTagger`` and ``SequenceClassifier`` -> the keys of the module that
    ``torch_module`` builds for them (``embed.``, ``rnn.``, ``out.`` prefixes).
    """
    state = _numpy_state(obj)                                # a wrong obj is a TypeError, torch or not
    torch = _torch()
    return {k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in state.items()}


def _numpy_state(obj) -> dict[str, np.ndarray]:
    if isinstance(obj, RecurrentStack):
        return stack_state_dict(obj)
    if isinstance(obj, Linear):
        return {"weight": obj.W_hy.copy(), **({"bias": obj.b_y.copy()} if obj.bias else {})}
    if isinstance(obj, Embedding):
        return {"weight": obj.W_embed.copy()}
    if isinstance(obj, (CharLM, SequenceTagger, SequenceClassifier)):
        out = {}
        for prefix, part in (("embed", obj.embed), ("rnn", obj.rnn), ("out", obj.out)):
            if part.params or isinstance(part, RecurrentStack):
                out.update({f"{prefix}.{k}": v for k, v in _numpy_state(part).items()})
        return out
    raise TypeError(f"obj: expected a RecurrentStack (RNN/LSTM/GRU), Linear, Embedding, CharLM, SequenceTagger "
                    f"or SequenceClassifier, got {type(obj).__name__}")


def torch_module(obj):
    """Build the equivalent PyTorch module, with seqnn's weights loaded (same dtype).

    ``RecurrentStack`` -> ``nn.RNN/LSTM/GRU`` (``batch_first=False``, like seqnn);
    ``Linear`` -> ``nn.Linear``; ``Embedding`` -> ``nn.Embedding``; ``CharLM`` ->
    a module with ``forward(ids, state=None) -> (logits, state)``; ``SequenceTagger``
    -> ``forward(ids) -> logits (T, B, C)``; ``SequenceClassifier`` ->
    ``forward(ids) -> logits (B, C)``. Token inputs are one-hot or embedded as in seqnn.
    """
    if not isinstance(obj, (RecurrentStack, Linear, Embedding, CharLM, SequenceTagger, SequenceClassifier)):
        raise TypeError(f"obj: cannot build a PyTorch module for a {type(obj).__name__}; expected a "
                        "RecurrentStack (RNN/LSTM/GRU), Linear, Embedding, CharLM, SequenceTagger or "
                        "SequenceClassifier")
    torch = _torch()
    nn = torch.nn
    dtype = getattr(torch, str(obj.dtype))
    if isinstance(obj, RecurrentStack):
        cell = obj.layers[0].cell
        extra = {"nonlinearity": cell.nonlinearity} if obj.kind == "rnn" else {}
        module = getattr(nn, TORCH_MODES[obj.kind])(obj.input_size, obj.hidden_size, obj.num_layers,
                                                     bias=cell.bias, dropout=obj.dropout,
                                                     bidirectional=obj.bidirectional, **extra)
    elif isinstance(obj, Linear):
        module = nn.Linear(obj.in_features, obj.out_features, bias=obj.bias)
    elif isinstance(obj, Embedding):
        module = nn.Embedding(obj.num_embeddings, obj.embedding_dim)
    elif isinstance(obj, (CharLM, SequenceTagger, SequenceClassifier)):
        module = _TorchSequenceModel(obj, torch_module(obj.rnn), torch_module(obj.out),
                                     torch_module(obj.embed) if obj.embed.params else None)
    module = module.to(dtype)
    module.load_state_dict(to_torch(obj))
    return module


def seqnn_parameters(module) -> list:
    """The parameters of a PyTorch twin that train the *same model* as seqnn: pass them to the optimizer.

    PyTorch's recurrent layers have two biases, ``bias_ih + bias_hh``, where seqnn
    has one, ``b_h``. Both receive the same gradient, so an optimizer that trains
    both moves their sum, the effective bias, twice as fast (SGD exactly; Adam by
    up to twice the step): the two libraries' losses part after the first step.
    This keeps ``bias_hh`` where ``to_torch`` put it (zero) by setting
    ``requires_grad=False`` on it, except for a GRU, whose n block of ``bias_hh``
    is seqnn's ``b_hn`` and trains in both: there a gradient hook zeroes the r
    and z blocks instead, so they stay at zero under any optimizer without weight
    decay. ``module`` is an ``nn.RNN/LSTM/GRU`` or a model with such submodules
    (``torch_module``'s twins); it is changed in place. Returns the list of the
    parameters that still train (every ``requires_grad`` parameter).
    """
    torch = _torch()
    if not isinstance(module, torch.nn.Module):
        raise TypeError(f"module: expected a torch.nn.Module, got {type(module).__name__}")
    for rnn in module.modules():
        if not isinstance(rnn, torch.nn.RNNBase):
            continue
        for name, p in rnn.named_parameters(recurse=False):
            if not name.startswith("bias_hh"):
                continue
            if rnn.mode == "GRU":
                keep = torch.ones_like(p)
                keep[:2 * rnn.hidden_size] = 0                  # r, z blocks: seqnn has no second bias there
                p.register_hook(lambda grad, keep=keep: grad * keep)
            else:
                p.requires_grad_(False)
    return [p for p in module.parameters() if p.requires_grad]


def _TorchSequenceModel(model, rnn, out, embed):
    """nn.Module twin of CharLM / SequenceTagger / SequenceClassifier (defined lazily: needs torch)."""
    torch = _torch()
    kind = type(model).__name__
    vocab_size = model.vocab_size

    class TorchSequenceModel(torch.nn.Module):
        def __init__(self):
            super().__init__()
            if embed is not None:
                self.embed = embed
            self.rnn, self.out = rnn, out

        def inputs(self, ids):
            ids = ids.long()                     # seqnn's ids are the smallest unsigned type (uint8 for chars)
            if embed is not None:
                return self.embed(ids)
            return torch.nn.functional.one_hot(ids, vocab_size).to(self.out.weight.dtype)

        def forward(self, ids, state=None):
            H, final = self.rnn(self.inputs(ids), state)
            if kind == "CharLM":
                return self.out(H), final
            if kind == "SequenceTagger":
                return self.out(H)
            h_n = final[0] if isinstance(final, tuple) else final
            dirs = 2 if self.rnn.bidirectional else 1
            return self.out(torch.cat(list(h_n[-dirs:]), dim=-1))

    TorchSequenceModel.__name__ = "Torch" + kind
    return TorchSequenceModel()


def from_torch(source, kind: str | None = None, nonlinearity: str | None = None, dtype=None):
    """A PyTorch ``nn.RNN/LSTM/GRU`` module or its ``state_dict`` -> the equivalent seqnn stack.

    From a module, every setting (mode, sizes, layers, bidirectional, bias,
    nonlinearity, dropout) is read from it. From a state_dict, sizes, layers,
    directions and bias are read from the keys and shapes; ``kind`` is inferred
    from the number of gates, and ``nonlinearity`` ("tanh" by default) must be
    given for a ReLU RNN (a vanilla RNN's state_dict read without it warns). The
    dtype follows the weights unless ``dtype`` is given. A ``batch_first=True``
    module is refused (seqnn is time-major): convert its ``state_dict()`` instead.
    Errors about a state_dict name PyTorch's keys (``weight_hh_l0``).
    """
    if isinstance(source, dict):                             # a state_dict of numpy arrays needs no torch
        seen = _kind_of(source) if kind is None else check_choice("kind", kind, sorted(GATES_TO_KIND.values()))
        if nonlinearity is not None and seen not in ("rnn", None):
            raise ValueError(f"nonlinearity: only a vanilla RNN has one; these weights are a {seen!r} "
                             "(leave nonlinearity out)")
        if nonlinearity is None and seen == "rnn":
            warnings.warn("nonlinearity: not given, so this vanilla RNN's state_dict is read as tanh; the weights "
                          "cannot tell tanh from ReLU: pass nonlinearity='relu' (or 'tanh') to say which",
                          UserWarning, stacklevel=2)
        return stack_from_state_dict(source, kind, nonlinearity or "tanh", dtype, name="source")
    try:
        rnn_base: Any = _torch().nn.RNNBase
    except ImportError:                                      # without torch, source cannot be a torch module
        rnn_base = ()
    if isinstance(source, rnn_base):
        mode = source.mode                                   # "RNN_TANH", "RNN_RELU", "LSTM", "GRU"
        kind = {"LSTM": "lstm", "GRU": "gru"}.get(mode, "rnn")
        if getattr(source, "proj_size", 0):
            raise ValueError("source: LSTMs with proj_size > 0 have no seqnn equivalent")
        if source.batch_first:
            raise ValueError("source: a batch_first=True module reads (B, T, D); seqnn's layers are time-major, "
                             "(T, B, D). The weights are the same either way: convert source.state_dict() "
                             "(from_torch(module.state_dict())) and feed seqnn X.transpose(1, 0, 2)")
        nonlinearity = "relu" if mode == "RNN_RELU" else "tanh"
        return stack_from_state_dict(source.state_dict(), kind, nonlinearity, dtype, float(source.dropout))
    raise TypeError(f"source: expected a torch nn.RNN/LSTM/GRU or its state_dict, got {type(source).__name__}")


def _kind_of(state: dict) -> str | None:
    """The kind a state_dict's gate count says ("rnn", "lstm", "gru"), or None if it cannot tell."""
    try:
        G = state["weight_ih_l0"].shape[0] // state["weight_hh_l0"].shape[1]
    except (KeyError, AttributeError, IndexError, ZeroDivisionError):
        return None
    return GATES_TO_KIND.get(G)


def _to_numpy(value) -> np.ndarray:
    if hasattr(value, "detach"):
        value = value.detach().cpu().numpy()
    return np.array(value)
