"""The lecture's four shapes of problem, each a small model composed from the layers.

::

    one-to-many        many-to-one          many-to-many (synced)     many-to-many (encoder-decoder)
      y1 y2 y3              y                 y1 y2 y3                          y1 y2 y3
      ^  ^  ^               ^                 ^  ^  ^                           ^  ^  ^
     [h]-[h]-[h]     [h]-[h]-[h]             [h]-[h]-[h]        [h]-[h]-[h] => [h]-[h]-[h]
      ^                ^  ^  ^                ^  ^  ^            ^  ^  ^
      x                x1 x2 x3               x1 x2 x3           x1 x2 x3
    CharLM.generate  SequenceClassifier     SequenceTagger,       Seq2Seq
                                            CharLM (training)

Every model has ``forward``, ``backward`` (one gradient per forward input: None
for token ids and lengths), ``parameters()``, a predict/generate method, and
``config`` (the constructor arguments, for ``seqnn.io.save``).

Token input is one-hot (``embedding_dim=None``, the lecture's encoding) or a
learned ``Embedding`` (``embedding_dim=E``).
"""

from __future__ import annotations

import numpy as np

from ._checks import as_rng, check_dtype_arg, check_id, check_int_array, check_lengths, check_positive_int
from .layers import Embedding, Linear, OneHot
from .module import Module
from .stack import RecurrentStack


def token_input(vocab_size: int, embedding_dim, dtype, rng) -> Module:
    """One-hot (embedding_dim None) or a learned Embedding."""
    if embedding_dim is None:
        return OneHot(vocab_size, dtype=dtype)
    return Embedding(vocab_size, embedding_dim, dtype=dtype, rng=rng)


def _check_ids(name: str, ids: np.ndarray, shape, upper: int) -> None:
    """Token ids (T, B) in [0, upper), at least one step and one sequence (an empty batch is refused everywhere)."""
    check_int_array(name, ids, shape, upper)
    if ids.shape[0] == 0 or ids.shape[1] == 0:
        raise ValueError(f"{name}: expected at least one time step and one sequence, got shape {ids.shape}")


INITIALIZERS = ("recurrent_init", "input_init", "forget_bias")
"""Cell arguments that only set starting values: a config (what rebuilds a model) leaves them out."""


class _Model(Module):
    """What every model has: ``config``, the arguments that rebuild its architecture (``seqnn.io`` saves it)."""

    def __init__(self, config: dict, cell_kwargs: dict):
        super().__init__()
        self.dtype = check_dtype_arg(config["dtype"])
        self.config = {**config, **{k: v for k, v in cell_kwargs.items() if k not in INITIALIZERS},
                       "dtype": str(self.dtype)}

    def extra_repr(self):
        return ", ".join(f"{k}={v!r}" for k, v in self.config.items())


class _OneStack(_Model):
    """token input -> RecurrentStack -> Linear: the body of CharLM, SequenceClassifier and SequenceTagger."""

    num_outputs_key = "vocab_size"         # the config entry that sizes the output layer

    def __init__(self, config: dict, num_outputs: int, bidirectional: bool, rng, fast: bool, cell_kwargs: dict):
        super().__init__(config, cell_kwargs)
        rng = as_rng(rng)
        self.vocab_size = check_positive_int("vocab_size", config["vocab_size"])
        self.embed = token_input(self.vocab_size, config["embedding_dim"], self.dtype, rng)
        self.rnn = RecurrentStack(config["cell"], self.embed.output_size, config["hidden_size"], config["num_layers"],
                                  bidirectional, config["dropout"], dtype=self.dtype, rng=rng, fast=fast,
                                  **cell_kwargs)
        self.out = Linear(self.rnn.output_size, num_outputs, dtype=self.dtype, rng=rng)
        self.hidden_size = self.rnn.hidden_size

    @property
    def _input_grad(self) -> bool:
        """Does the recurrent stack's input need a gradient? Only for a learned Embedding (one-hot: no)."""
        return bool(self.embed.params)

    @classmethod
    def count_parameters(cls, config: dict) -> int:
        """The numbers a model of this ``config`` holds, computed without building it.

        ``seqnn.io`` checks a file against it before reading (or allocating) anything.
        """
        V, E, H = config["vocab_size"], config["embedding_dim"], config["hidden_size"]
        bidirectional = config.get("bidirectional", False)
        stack = RecurrentStack.count_parameters(config["cell"], E or V, H, config["num_layers"], bidirectional,
                                                config.get("bias", True))
        out = ((2 if bidirectional else 1) * H + 1) * config[cls.num_outputs_key]        # W_hy and b_y
        return (V * E if E else 0) + stack + out


class CharLM(_OneStack):
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
        config = dict(vocab_size=vocab_size, hidden_size=hidden_size, cell=cell, num_layers=num_layers,
                      dropout=dropout, embedding_dim=embedding_dim, dtype=dtype)
        super().__init__(config, vocab_size, False, rng, fast, cell_kwargs)

    def forward(self, ids: np.ndarray, state0=None):
        _check_ids("ids", ids, (None, None), self.vocab_size)
        H, state = self.rnn.forward(self.embed.forward(ids), state0)
        return self.out.forward(H), state

    def backward(self, dlogits: np.ndarray, dstate_T=None):
        dX, dstate0 = self.rnn.backward(self.out.backward(dlogits, "dlogits"), dstate_T, input_grad=self._input_grad)
        self.embed.backward(dX)
        return None, dstate0


class _Reader(_OneStack):
    """A model that reads whole sequences, in one or both directions: SequenceClassifier, SequenceTagger."""

    def __init__(self, vocab_size, num_outputs, hidden_size, cell, embedding_dim, num_layers, bidirectional, dropout,
                 dtype, rng, fast, cell_kwargs):
        config = {"vocab_size": vocab_size, self.num_outputs_key: num_outputs, "hidden_size": hidden_size,
                  "cell": cell, "embedding_dim": embedding_dim, "num_layers": num_layers,
                  "bidirectional": bidirectional, "dropout": dropout, "dtype": dtype}
        super().__init__(config, check_positive_int(self.num_outputs_key, num_outputs), bidirectional, rng, fast,
                         cell_kwargs)

    def read(self, ids: np.ndarray, lengths=None):
        """ids (T, B) (lengths (B,) or None) -> the stack's outputs (T, B, Dirs*H) and its final state."""
        _check_ids("ids", ids, (None, None), self.vocab_size)
        return self.rnn.forward(self.embed.forward(ids), None, lengths)


class SequenceClassifier(_Reader):
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

    num_outputs_key = "num_classes"

    def __init__(self, vocab_size: int, num_classes: int, hidden_size: int, cell: str = "lstm", *,
                 embedding_dim: int | None = None, num_layers: int = 1, bidirectional: bool = False,
                 dropout: float = 0.0, dtype=np.float64, rng=None, fast: bool = True, **cell_kwargs):
        super().__init__(vocab_size, num_classes, hidden_size, cell, embedding_dim, num_layers, bidirectional,
                         dropout, dtype, rng, fast, cell_kwargs)

    def forward(self, ids: np.ndarray, lengths=None) -> np.ndarray:
        outputs, state = self.read(ids, lengths)
        h_n = state[0] if isinstance(state, tuple) else state           # (L*Dirs, B, H)
        Dirs = self.rnn.num_directions
        feature = np.concatenate(list(h_n[-Dirs:]), axis=-1)             # last layer: (B, Dirs*H)
        self._shapes = (outputs.shape, state)
        return self.out.forward(feature)

    def backward(self, dlogits: np.ndarray):
        dfeature = self.out.backward(dlogits, "dlogits")                 # (B, Dirs*H); no forward: raises
        out_shape, state = self._shapes
        dstate = tuple(map(np.zeros_like, state)) if isinstance(state, tuple) else np.zeros_like(state)
        dh_n = dstate[0] if isinstance(dstate, tuple) else dstate
        Dirs, H = self.rnn.num_directions, self.rnn.hidden_size
        for d in range(Dirs):
            dh_n[len(dh_n) - Dirs + d] = dfeature[:, d * H:(d + 1) * H]
        dX, _ = self.rnn.backward(np.zeros(out_shape, self.dtype), dstate,   # no per-step loss
                                  input_grad=self._input_grad)
        self.embed.backward(dX)
        return None, None

    def predict(self, ids: np.ndarray, lengths=None) -> np.ndarray:
        return np.argmax(self.forward(ids, lengths), axis=-1)

    @property
    def num_classes(self) -> int:
        return self.out.out_features


class SequenceTagger(_Reader):
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

    num_outputs_key = "num_tags"

    def __init__(self, vocab_size: int, num_tags: int, hidden_size: int, cell: str = "lstm", *,
                 bidirectional: bool = False, num_layers: int = 1, embedding_dim: int | None = None,
                 dropout: float = 0.0, dtype=np.float64, rng=None, fast: bool = True, **cell_kwargs):
        super().__init__(vocab_size, num_tags, hidden_size, cell, embedding_dim, num_layers, bidirectional,
                         dropout, dtype, rng, fast, cell_kwargs)

    def forward(self, ids: np.ndarray, lengths=None) -> np.ndarray:
        return self.out.forward(self.read(ids, lengths)[0])

    def backward(self, dlogits: np.ndarray):
        dX, _ = self.rnn.backward(self.out.backward(dlogits, "dlogits"), input_grad=self._input_grad)
        self.embed.backward(dX)
        return None, None

    def predict(self, ids: np.ndarray, lengths=None) -> np.ndarray:
        tags = np.argmax(self.forward(ids, lengths), axis=-1)
        if lengths is not None:
            tags[np.arange(ids.shape[0])[:, None] >= np.asarray(lengths)] = -1
        return tags

    @property
    def num_tags(self) -> int:
        return self.out.out_features


class Seq2Seq(_Model):
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
        config = dict(src_vocab_size=src_vocab_size, tgt_vocab_size=tgt_vocab_size, hidden_size=hidden_size,
                      cell=cell, embedding_dim=embedding_dim, num_layers=num_layers, bos_id=bos_id, eos_id=eos_id,
                      dtype=dtype)
        super().__init__(config, cell_kwargs)
        rng, dtype = as_rng(rng), self.dtype
        self.src_vocab_size = check_positive_int("src_vocab_size", src_vocab_size)
        self.tgt_vocab_size = V = check_positive_int("tgt_vocab_size", tgt_vocab_size)
        self.bos_id, self.eos_id = check_id("bos_id", bos_id, V), check_id("eos_id", eos_id, V)
        self.src_embed = token_input(src_vocab_size, embedding_dim, dtype, rng)
        self.encoder = RecurrentStack(cell, self.src_embed.output_size, hidden_size, num_layers, dtype=dtype,
                                      rng=rng, fast=fast, **cell_kwargs)
        self.tgt_embed = token_input(V, embedding_dim, dtype, rng)
        self.decoder = RecurrentStack(cell, self.tgt_embed.output_size, hidden_size, num_layers, dtype=dtype,
                                      rng=rng, fast=fast, **cell_kwargs)
        self.out = Linear(hidden_size, V, dtype=dtype, rng=rng)

    @classmethod
    def count_parameters(cls, config: dict) -> int:
        S, V, E, H = config["src_vocab_size"], config["tgt_vocab_size"], config["embedding_dim"], config["hidden_size"]
        stacks = sum(RecurrentStack.count_parameters(config["cell"], E or size, H, config["num_layers"],
                                                     bias=config.get("bias", True)) for size in (S, V))
        return (S * E + V * E if E else 0) + stacks + (H + 1) * V

    def encode(self, src: np.ndarray, src_lengths=None):
        """src (S, B) -> the encoder's final state (the "thought vector")."""
        _check_ids("src", src, (None, None), self.src_vocab_size)
        check_lengths(src_lengths, src.shape[0], src.shape[1], name="src_lengths")
        H, state = self.encoder.forward(self.src_embed.forward(src), None, src_lengths)
        self._enc_shape = H.shape
        return state

    def forward(self, src: np.ndarray, tgt_in: np.ndarray, src_lengths=None) -> np.ndarray:
        state = self.encode(src, src_lengths)
        _check_ids("tgt_in", tgt_in, (None, src.shape[1]), self.tgt_vocab_size)
        H, _ = self.decoder.forward(self.tgt_embed.forward(tgt_in), state)
        return self.out.forward(H)

    def backward(self, dlogits: np.ndarray):
        dXd, dstate = self.decoder.backward(self.out.backward(dlogits, "dlogits"))
        self.tgt_embed.backward(dXd)
        dXe, _ = self.encoder.backward(np.zeros(self._enc_shape, self.dtype), dstate)   # only via the state
        self.src_embed.backward(dXe)
        return None, None, None

    def teacher_forcing_inputs(self, tgt: np.ndarray) -> np.ndarray:
        """tgt (T, B) -> decoder inputs (T, B): ``bos`` then tgt[:-1] (the true previous tokens)."""
        _check_ids("tgt", tgt, (None, None), self.tgt_vocab_size)
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
            H, state = self.decoder.forward(self.tgt_embed.forward(token), state)
            token = np.argmax(self.out.forward(H), axis=-1)             # (1, B)
            out[t] = np.where(done, self.eos_id, token[0])
            done |= token[0] == self.eos_id
            if done.all():
                break
        return out


def check_language_model(model):
    """``model`` itself if it has ``vocab_size`` and a ``forward``, else a TypeError saying what is wanted."""
    if not hasattr(model, "vocab_size") or not callable(getattr(model, "forward", None)):
        raise TypeError(f"model: expected a language model with vocab_size and forward(ids, state) -> "
                        f"(logits, state), such as CharLM; got {type(model).__name__}")
    return model


def lm_forward(model, ids: np.ndarray, state):
    """``model.forward(ids, state)``, checked to be a language model's: ids (T, B) ->
    ``(logits (T, B, V), state)`` with ``V = model.vocab_size``, as ``CharLM`` gives.

    The training loops over a stream and ``generate`` read a model through this, so
    that another model (a tagger returns only logits) is a clear ``TypeError`` rather
    than logits unpacked along the time axis.
    """
    out = check_language_model(model).forward(ids, state)
    if not isinstance(out, tuple) or len(out) != 2 or np.shape(out[0]) != np.shape(ids) + (model.vocab_size,):
        raise TypeError(f"model: expected forward(ids, state) -> (logits (T, B, V), state), as CharLM's; "
                        f"{type(model).__name__}.forward returned something else")
    return out


MODELS = {cls.__name__: cls for cls in (CharLM, SequenceClassifier, SequenceTagger, Seq2Seq)}
