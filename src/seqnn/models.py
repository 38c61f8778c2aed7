"""The lecture's four shapes of problem, each a small model composed from the layers.

::

    one-to-many        many-to-one          many-to-many (synced)     many-to-many (encoder-decoder)
      y1 y2 y3              y                 y1 y2 y3                          y1 y2 y3
      ^  ^  ^               ^                 ^  ^  ^                           ^  ^  ^
     [h]-[h]-[h]     [h]-[h]-[h]             [h]-[h]-[h]        [h]-[h]-[h] => [h]-[h]-[h]
      ^                ^  ^  ^                ^  ^  ^            ^  ^  ^
      x                x1 x2 x3               x1 x2 x3           x1 x2 x3
    CharLM +         SequenceClassifier     SequenceTagger,       Seq2Seq
    sample.generate                         CharLM (training)

Every model has ``forward``, ``backward`` (one gradient per forward input: None
for token ids and lengths), ``parameters()``, and ``config`` (the constructor
arguments that rebuild it, for ``seqnn.io.save``). ``forward`` and ``backward``
check their arguments once, at the door, and run their layers unchecked;
``check=False`` (keyword) skips the door too, for a loop that has checked its
data already (``seqnn.train``'s loops, ``seqnn.sample``).

Token input is one-hot (``embedding_dim=None``, the lecture's encoding) or a
learned ``Embedding`` (``embedding_dim=E``).
"""

from __future__ import annotations

from contextlib import contextmanager

import numpy as np

from ._checks import (as_rng, check_dtype_arg, check_id, check_int_array, check_lengths, check_positive_int,
                      check_sequence_ids)
from .cells import public_state, state_parts
from .layers import Embedding, Linear, OneHot
from .module import Module
from .stack import RecurrentStack


def token_input(vocab_size: int, embedding_dim, dtype, rng) -> Module:
    """One-hot (embedding_dim None) or a learned Embedding."""
    if embedding_dim is None:
        return OneHot(vocab_size, dtype=dtype)
    return Embedding(vocab_size, embedding_dim, dtype=dtype, rng=rng)


def token_reader(vocab_size: int, embedding_dim, cell: str, hidden_size: int, num_layers: int,
                 bidirectional: bool = False, dropout: float = 0.0, *, dtype, rng, fast: bool,
                 cell_kwargs: dict) -> tuple[Module, RecurrentStack]:
    """What reads a sequence of tokens: the token input ``x_t`` and the recurrent stack on it, ``h_t``."""
    embed = token_input(vocab_size, embedding_dim, dtype, rng)
    return embed, RecurrentStack(cell, embed.output_size, hidden_size, num_layers, bidirectional, dropout,
                                 dtype=dtype, rng=rng, fast=fast, **cell_kwargs)


INITIALIZERS = ("recurrent_init", "input_init", "forget_bias")
"""Cell arguments that only set starting values: a config (what rebuilds a model) leaves them out."""


def model_config(cell_kwargs: dict, **arguments) -> dict:
    """What rebuilds a model's architecture: its ``arguments`` (dtype as a string), then the cells' keyword
    arguments but those that only set starting values (``INITIALIZERS``)."""
    return {**arguments, "dtype": str(np.dtype(arguments["dtype"])),
            **{k: v for k, v in cell_kwargs.items() if k not in INITIALIZERS}}


def read_tokens(model, ids: np.ndarray, lengths, check: bool):
    """A reader's forward up to its readout (SequenceClassifier, SequenceTagger): ids (T, B), lengths (B,) or None,
    checked at the model's door unless ``check`` is False -> the stack's outputs (T, B, Dirs*H) and final state."""
    if check:
        check_sequence_ids("ids", ids, model.vocab_size)
        lengths = check_lengths(lengths, ids.shape[0], ids.shape[1])
    return model.rnn.forward(model.embed.forward(ids, check=False), None, lengths, check=False)


def stack_count(config: dict, input_size: int, bidirectional: bool = False) -> int:
    """The numbers of the recurrent stack a ``config`` describes, reading ``input_size`` features."""
    return RecurrentStack.count_parameters(config["cell"], input_size, config["hidden_size"], config["num_layers"],
                                           bidirectional, config.get("bias", True))


def reader_count(config: dict, num_outputs: int) -> int:
    """The numbers of a model that reads tokens with ``token_reader`` and reads ``num_outputs`` out of its stack
    with a ``Linear`` (CharLM, SequenceClassifier, SequenceTagger), computed from its ``config``."""
    V, E, H = config["vocab_size"], config["embedding_dim"], config["hidden_size"]
    bidirectional = config.get("bidirectional", False)
    return (V * E if E else 0) + stack_count(config, E or V, bidirectional) + \
        ((2 if bidirectional else 1) * H + 1) * num_outputs


class CharLM(Module):
    """Language model: tokens -> recurrent stack -> ``y_t = h_t W_hy^T + b_y`` (next-token logits).

    Many-to-many while it trains (predict token t+1 at every step t), one-to-many
    when it generates (``seqnn.sample.generate``).

    Args:
        vocab_size V, hidden_size H, cell "rnn" (default), "lstm" or "gru",
        num_layers, dropout, embedding_dim (None: one-hot), dtype, rng, fast
        (False: the readable loop, see ``Recurrent``); further keyword arguments
        go to every cell (nonlinearity, recurrent_init, forget_bias, ...).

    ``forward(ids, state0=None) -> (logits, state)``: ids (T, B) ints ->
    logits (T, B, V); state as ``RecurrentStack`` ((L, B, H), LSTM (h, c)).
    ``backward(dlogits, dstate_T=None) -> (None, dstate0)``.
    """

    def __init__(self, vocab_size: int, hidden_size: int, cell: str = "rnn", *, num_layers: int = 1,
                 dropout: float = 0.0, embedding_dim: int | None = None, dtype=np.float64, rng=None,
                 fast: bool = True, **cell_kwargs):
        super().__init__()
        self.dtype = check_dtype_arg(dtype)
        rng = as_rng(rng)
        self.vocab_size = check_positive_int("vocab_size", vocab_size)
        self.embed, self.rnn = token_reader(vocab_size, embedding_dim, cell, hidden_size, num_layers, False, dropout,
                                            dtype=self.dtype, rng=rng, fast=fast, cell_kwargs=cell_kwargs)
        self.out = Linear(self.rnn.output_size, vocab_size, dtype=self.dtype, rng=rng)    # y_t = h_t W_hy^T + b_y
        self.config = model_config(cell_kwargs, vocab_size=vocab_size, hidden_size=hidden_size, cell=cell,
                                   num_layers=num_layers, dropout=dropout, embedding_dim=embedding_dim, dtype=dtype)

    @classmethod
    def count_parameters(cls, config: dict) -> int:
        """The numbers a model of this ``config`` holds, computed without building it (``seqnn.io`` checks a file
        against it before reading anything)."""
        return reader_count(config, config["vocab_size"])

    def forward(self, ids: np.ndarray, state0=None, *, check: bool = True):
        if check:
            check_sequence_ids("ids", ids, self.vocab_size)
            self.rnn.check_state("state0", state0, ids.shape[1])
        H, state = self.rnn.forward(self.embed.forward(ids, check=False), state0, check=False)
        return self.out.forward(H, check=False), state

    def backward(self, dlogits: np.ndarray, dstate_T=None, *, check: bool = True):
        if check:
            self.out.check_gradient("dlogits", dlogits)
            self.rnn.check_state("dstate_T", dstate_T, dlogits.shape[1])
        dH = self.out.backward(dlogits, check=False)
        dX, dstate0 = self.rnn.backward(dH, dstate_T, input_grad=bool(self.embed.params),   # one-hot: none
                                        check=False)
        self.embed.backward(dX, check=False)
        return None, dstate0


class SequenceClassifier(Module):
    """Many-to-one: read a whole sequence, classify it from the final state.

    The feature is the last layer's final hidden state (both directions
    concatenated when bidirectional: the forward direction's state at each
    sequence's own last step, the reverse direction's at t = 0), then
    ``logits = feature W_hy^T + b_y``.

    Args: vocab_size V, num_classes C, hidden_size H, cell ("lstm" default),
    embedding_dim (None: one-hot), num_layers, bidirectional, dropout, dtype, rng,
    fast, and the cells' keyword arguments.

    ``forward(ids, lengths=None) -> logits``: ids (T, B), lengths (B,) -> (B, C).
    ``backward(dlogits) -> (None, None)``. ``predict(ids, lengths=None) -> (B,) class ids``.
    """

    def __init__(self, vocab_size: int, num_classes: int, hidden_size: int, cell: str = "lstm", *,
                 embedding_dim: int | None = None, num_layers: int = 1, bidirectional: bool = False,
                 dropout: float = 0.0, dtype=np.float64, rng=None, fast: bool = True, **cell_kwargs):
        super().__init__()
        self.dtype = check_dtype_arg(dtype)
        rng = as_rng(rng)
        self.vocab_size = check_positive_int("vocab_size", vocab_size)
        self.num_classes = check_positive_int("num_classes", num_classes)
        self.embed, self.rnn = token_reader(vocab_size, embedding_dim, cell, hidden_size, num_layers, bidirectional,
                                            dropout, dtype=self.dtype, rng=rng, fast=fast, cell_kwargs=cell_kwargs)
        self.out = Linear(self.rnn.output_size, num_classes, dtype=self.dtype, rng=rng)   # reads the final state
        self.config = model_config(cell_kwargs, vocab_size=vocab_size, num_classes=num_classes,
                                   hidden_size=hidden_size, cell=cell, embedding_dim=embedding_dim,
                                   num_layers=num_layers, bidirectional=bidirectional, dropout=dropout, dtype=dtype)

    @classmethod
    def count_parameters(cls, config: dict) -> int:
        return reader_count(config, config["num_classes"])

    def forward(self, ids: np.ndarray, lengths=None, *, check: bool = True) -> np.ndarray:
        outputs, state = read_tokens(self, ids, lengths, check)
        h_n = state_parts(state)[0]                                      # (L*Dirs, B, H)
        Dirs = self.rnn.num_directions
        feature = np.concatenate(list(h_n[-Dirs:]), axis=-1)             # the last layer's: (B, Dirs*H)
        self._shapes = (outputs.shape, state)
        return self.out.forward(feature, check=False)

    def backward(self, dlogits: np.ndarray, *, check: bool = True):
        if check:
            self.out.check_gradient("dlogits", dlogits)
        dfeature = self.out.backward(dlogits, check=False)               # (B, Dirs*H)
        out_shape, state = self._shapes
        dstate = tuple(np.zeros_like(p) for p in state_parts(state))    # only the last layer's h is read out
        Dirs, H = self.rnn.num_directions, self.rnn.hidden_size
        for d in range(Dirs):
            dstate[0][len(dstate[0]) - Dirs + d] = dfeature[:, d * H:(d + 1) * H]
        dX, _ = self.rnn.backward(np.zeros(out_shape, self.dtype), public_state(dstate),   # no loss at the steps
                                  input_grad=bool(self.embed.params), check=False)
        self.embed.backward(dX, check=False)
        return None, None

    def predict(self, ids: np.ndarray, lengths=None) -> np.ndarray:
        return np.argmax(self.forward(ids, lengths), axis=-1)


class SequenceTagger(Module):
    """Many-to-many, synced: one label per input token (e.g. "is this word a name?").

    ``logits_t = h_t W_hy^T + b_y`` at every step; bidirectional=True lets each
    tag see the whole sentence (both directions concatenated).

    Args: vocab_size V, num_tags C, hidden_size H, cell ("lstm" default),
    bidirectional (each tag then sees the whole sentence), num_layers,
    embedding_dim, dropout, dtype, rng, fast, and the cells' keyword arguments.

    ``forward(ids, lengths=None) -> logits``: ids (T, B) -> (T, B, C); rows past a
    sequence's end are to be masked in the loss (``lengths_to_mask``).
    ``backward(dlogits) -> (None, None)``. ``predict(ids, lengths=None) -> (T, B)`` tag ids
    (-1 past each sequence's end).
    """

    def __init__(self, vocab_size: int, num_tags: int, hidden_size: int, cell: str = "lstm", *,
                 bidirectional: bool = False, num_layers: int = 1, embedding_dim: int | None = None,
                 dropout: float = 0.0, dtype=np.float64, rng=None, fast: bool = True, **cell_kwargs):
        super().__init__()
        self.dtype = check_dtype_arg(dtype)
        rng = as_rng(rng)
        self.vocab_size = check_positive_int("vocab_size", vocab_size)
        self.num_tags = check_positive_int("num_tags", num_tags)
        self.embed, self.rnn = token_reader(vocab_size, embedding_dim, cell, hidden_size, num_layers, bidirectional,
                                            dropout, dtype=self.dtype, rng=rng, fast=fast, cell_kwargs=cell_kwargs)
        self.out = Linear(self.rnn.output_size, num_tags, dtype=self.dtype, rng=rng)       # at every step
        self.config = model_config(cell_kwargs, vocab_size=vocab_size, num_tags=num_tags, hidden_size=hidden_size,
                                   cell=cell, embedding_dim=embedding_dim, num_layers=num_layers,
                                   bidirectional=bidirectional, dropout=dropout, dtype=dtype)

    @classmethod
    def count_parameters(cls, config: dict) -> int:
        return reader_count(config, config["num_tags"])

    def forward(self, ids: np.ndarray, lengths=None, *, check: bool = True) -> np.ndarray:
        H, _ = read_tokens(self, ids, lengths, check)
        return self.out.forward(H, check=False)

    def backward(self, dlogits: np.ndarray, *, check: bool = True):
        if check:
            self.out.check_gradient("dlogits", dlogits)
        dX, _ = self.rnn.backward(self.out.backward(dlogits, check=False), input_grad=bool(self.embed.params),
                                  check=False)
        self.embed.backward(dX, check=False)
        return None, None

    def predict(self, ids: np.ndarray, lengths=None) -> np.ndarray:
        tags = np.argmax(self.forward(ids, lengths), axis=-1)
        if lengths is not None:
            tags[np.arange(ids.shape[0])[:, None] >= np.asarray(lengths)] = -1
        return tags


class Seq2Seq(Module):
    """Many-to-many, encoder-decoder (Sutskever et al. 2014): read the source, then write the target.

    The encoder's final state (each source sequence's own last step) is the
    decoder's initial state; the decoder is a language model over the target.
    Training uses teacher forcing (the decoder reads the true previous target
    token, ``teacher_forcing_inputs``); ``greedy_decode`` feeds back its own
    argmax until ``eos_id``.

    Args: src_vocab_size, tgt_vocab_size, hidden_size, cell ("gru" default),
    embedding_dim (default 32; None: one-hot), num_layers, bos_id, eos_id
    (target ids that start and end a sentence), dtype, rng.

    ``forward(src, tgt_in, src_lengths=None) -> logits``: src (S, B), tgt_in (T, B)
    -> (T, B, V_tgt). ``backward(dlogits) -> (None, None, None)``.
    """

    def __init__(self, src_vocab_size: int, tgt_vocab_size: int, hidden_size: int, cell: str = "gru", *,
                 embedding_dim: int | None = 32, num_layers: int = 1, bos_id: int = 1, eos_id: int = 2,
                 dtype=np.float64, rng=None, fast: bool = True, **cell_kwargs):
        super().__init__()
        self.dtype = dtype = check_dtype_arg(dtype)
        rng = as_rng(rng)
        self.src_vocab_size = check_positive_int("src_vocab_size", src_vocab_size)
        self.tgt_vocab_size = V = check_positive_int("tgt_vocab_size", tgt_vocab_size)
        self.bos_id, self.eos_id = check_id("bos_id", bos_id, V), check_id("eos_id", eos_id, V)
        self.src_embed, self.encoder = token_reader(src_vocab_size, embedding_dim, cell, hidden_size, num_layers,
                                                    dtype=dtype, rng=rng, fast=fast, cell_kwargs=cell_kwargs)
        self.tgt_embed, self.decoder = token_reader(V, embedding_dim, cell, hidden_size, num_layers, dtype=dtype,
                                                    rng=rng, fast=fast, cell_kwargs=cell_kwargs)
        self.out = Linear(hidden_size, V, dtype=dtype, rng=rng)
        self.config = model_config(cell_kwargs, src_vocab_size=src_vocab_size, tgt_vocab_size=tgt_vocab_size,
                                   hidden_size=hidden_size, cell=cell, embedding_dim=embedding_dim,
                                   num_layers=num_layers, bos_id=bos_id, eos_id=eos_id, dtype=dtype)

    @classmethod
    def count_parameters(cls, config: dict) -> int:
        S, V, E, H = config["src_vocab_size"], config["tgt_vocab_size"], config["embedding_dim"], config["hidden_size"]
        return (S * E + V * E if E else 0) + stack_count(config, E or S) + stack_count(config, E or V) + (H + 1) * V

    def encode(self, src: np.ndarray, src_lengths=None, *, check: bool = True):
        """src (S, B) -> the encoder's final state (the "thought vector")."""
        if check:
            check_sequence_ids("src", src, self.src_vocab_size)
            src_lengths = check_lengths(src_lengths, src.shape[0], src.shape[1], name="src_lengths")
        H, state = self.encoder.forward(self.src_embed.forward(src, check=False), None, src_lengths, check=False)
        self._enc_shape = H.shape
        return state

    def forward(self, src: np.ndarray, tgt_in: np.ndarray, src_lengths=None, *, check: bool = True) -> np.ndarray:
        state = self.encode(src, src_lengths, check=check)
        if check:
            check_sequence_ids("tgt_in", tgt_in, self.tgt_vocab_size, batch_size=src.shape[1])
        H, _ = self.decoder.forward(self.tgt_embed.forward(tgt_in, check=False), state, check=False)
        return self.out.forward(H, check=False)

    def backward(self, dlogits: np.ndarray, *, check: bool = True):
        if check:
            self.out.check_gradient("dlogits", dlogits)
        dXd, dstate = self.decoder.backward(self.out.backward(dlogits, check=False), check=False)
        self.tgt_embed.backward(dXd, check=False)
        dXe, _ = self.encoder.backward(np.zeros(self._enc_shape, self.dtype), dstate, check=False)   # via the state
        self.src_embed.backward(dXe, check=False)
        return None, None, None

    def teacher_forcing_inputs(self, tgt: np.ndarray) -> np.ndarray:
        """tgt (T, B) -> decoder inputs (T, B): ``bos`` then tgt[:-1] (the true previous tokens)."""
        check_sequence_ids("tgt", tgt, self.tgt_vocab_size)
        return np.concatenate([np.full((1, tgt.shape[1]), self.bos_id, tgt.dtype), tgt[:-1]])

    def greedy_decode(self, src: np.ndarray, max_len: int, src_lengths=None) -> np.ndarray:
        """Decode (max_len, B) ids by feeding back the argmax; after ``eos_id`` a row is padded with eos."""
        check_positive_int("max_len", max_len)
        state = self.encode(src, src_lengths)
        B = src.shape[1]
        token = np.full((1, B), self.bos_id, dtype=np.int64)
        done = np.zeros(B, bool)
        out = np.full((max_len, B), self.eos_id, dtype=np.int64)
        for t in range(max_len):
            H, state = self.decoder.forward(self.tgt_embed.forward(token, check=False), state, check=False)
            token = np.argmax(self.out.forward(H, check=False), axis=-1)   # (1, B)
            out[t] = np.where(done, self.eos_id, token[0])
            done |= token[0] == self.eos_id
            if done.all():
                break
        return out


MODELS = {cls.__name__: cls for cls in (CharLM, SequenceClassifier, SequenceTagger, Seq2Seq)}


# --- what reads a stream of tokens: a language model ----------------------------------------------------------
@contextmanager
def evaluating(model):
    """``model`` in evaluation mode (dropout off) inside the block; its own mode comes back after."""
    was_training = model.training
    model.eval()
    try:
        yield model
    finally:
        model.train(was_training)


def check_language_model(model):
    """At a door: ``model`` reads a stream as ``CharLM`` does, ``forward(ids (T, B), state, check=...) ->
    (logits (T, B, V), state)`` with ``V = model.vocab_size``; one token, read in evaluation mode, tells.

    (A tagger returns only logits, which a loop over a stream would take apart along the time axis.)
    Returns ``model``.
    """
    if not isinstance(model, Module) or not hasattr(model, "vocab_size"):
        raise TypeError(f"model: expected a language model with vocab_size and forward(ids, state) -> "
                        f"(logits, state), such as CharLM; got {type(model).__name__}")
    with evaluating(model):
        out = model.forward(np.zeros((1, 1), dtype=np.int64), None)
    if not isinstance(out, tuple) or len(out) != 2 or np.shape(out[0]) != (1, 1, model.vocab_size):
        raise TypeError(f"model: expected forward(ids, state) -> (logits (T, B, V), state), as CharLM's; "
                        f"{type(model).__name__}.forward returned something else")
    return model


def check_stream(model, ids: np.ndarray, name: str) -> None:
    """At a door: ``ids`` (N, B) is a stream of at least one token, each an id of ``model``, a language model."""
    if isinstance(ids, np.ndarray) and ids.size == 0:
        raise ValueError(f"{name}: expected at least one step of at least one stream, got shape {ids.shape}")
    check_int_array(name, ids, (None, None), check_language_model(model).vocab_size)


def check_carried_state(model, state, batch_size: int, name: str) -> None:
    """At a door: ``state`` is one that ``model`` carries for ``batch_size`` streams (None: zeros); one token,
    read in evaluation mode from it, tells."""
    if state is None:
        return
    try:
        with evaluating(model):
            model.forward(np.zeros((1, batch_size), dtype=np.int64), state)
    except (TypeError, ValueError) as err:
        raise ValueError(f"{name}: the carried state does not fit the model ({err})") from None
