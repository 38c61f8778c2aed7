"""Vocabularies, one-hot vectors, text files, long streams cut into chunks, and the adding problem."""

from __future__ import annotations

import codecs
import os
from collections.abc import Hashable
from contextlib import suppress

import numpy as np

from ._checks import (as_rng, check_count, check_dtype_arg, check_id_sequences, check_int, check_int_array,
                      check_lengths, check_paths, check_positive_int, check_regular_file, check_vocabulary)


class Vocabulary:
    """A fixed list of tokens (characters or words) and their ids.

    The tokens are sorted so that ids are the same on every run (``list(set(text))``
    is not: string hashing is randomised per process). ``specials`` (e.g.
    ``("<pad>", "<bos>", "<eos>")``) come first, in the order given, so
    ``<pad>`` is id 0. Ids come in ``dtype``, the smallest unsigned integer type
    that holds them (uint8 for a character vocabulary: 50 MB of text is 50 MB of ids).

    >>> v = Vocabulary("hello")
    >>> v.tokens, v.encode("hell").tolist(), v.decode([1, 0])
    (['e', 'h', 'l', 'o'], [1, 0, 2, 2], 'eh')
    """

    def __init__(self, tokens, specials=()):
        specials = check_vocabulary(tokens, specials)
        try:
            rest = sorted((_characters(tokens) if isinstance(tokens, str) else set(tokens)) - set(specials))
        except TypeError as err:
            kinds = sorted({type(t).__name__ for t in set(tokens)})
            raise TypeError(f"tokens: expected tokens of one sortable kind (characters or words), got a mix of "
                            f"{kinds}: {err}") from None
        self.tokens = specials + rest
        if not self.tokens:
            raise ValueError("tokens: expected at least one token, got none")
        self.specials = specials
        self.index = {tok: k for k, tok in enumerate(self.tokens)}
        self.dtype = np.dtype(next(t for t in (np.uint8, np.uint16, np.uint32)
                                   if len(self.tokens) <= np.iinfo(t).max + 1))
        """The ids' dtype: the smallest unsigned integer type that holds every id (uint8 up to 256 tokens)."""
        # Characters as code points: a lookup table code point -> id (-1: not a token), and id -> code point.
        chars = [k for k, tok in enumerate(self.tokens) if isinstance(tok, str) and len(tok) == 1]
        self._table = np.full(max((ord(self.tokens[k]) for k in chars), default=-1) + 1, -1, dtype=np.int32)
        self._table[[ord(self.tokens[k]) for k in chars]] = chars
        self._code_points = (np.array([ord(t) for t in self.tokens], dtype=np.uint32)
                             if len(chars) == len(self.tokens) else None)

    def __eq__(self, other):
        return isinstance(other, Vocabulary) and self.tokens == other.tokens and self.specials == other.specials

    def to_config(self) -> dict:
        """JSON-able description (for saving): the tokens in id order and the specials."""
        return {"tokens": self.tokens, "specials": self.specials}

    @classmethod
    def from_config(cls, config: dict) -> "Vocabulary":
        if not isinstance(config, dict) or not {"tokens", "specials"} <= set(config):
            raise ValueError(f"vocabulary: expected a dict with 'tokens' and 'specials' (to_config()), "
                             f"got {config!r:.80}")
        vocab = cls(config["tokens"], config["specials"])
        if vocab.tokens != config["tokens"]:
            raise ValueError("vocabulary: the saved token order is not sorted as seqnn sorts it")
        return vocab

    def __len__(self):
        return len(self.tokens)

    def __repr__(self):
        return f"Vocabulary({self.tokens!r})"

    def encode(self, seq) -> np.ndarray:
        """Tokens -> ids of shape (len(seq),), dtype ``self.dtype``. An unknown token raises ``ValueError``.

        A string is read at numpy's speed: its code points, a block at a time,
        through a lookup table (a 50 MB text takes a fraction of a second).
        """
        if isinstance(seq, str):
            return self._encode_text(seq)
        try:
            return np.array([self.index[tok] for tok in seq], dtype=self.dtype)
        except (KeyError, TypeError):
            raise self._unknown(seq) from None

    def _encode_text(self, text: str) -> np.ndarray:
        ids = np.empty(len(text), dtype=self.dtype)
        for start, points in _code_point_blocks(text):
            if points.max() < len(self._table):
                found = self._table[points]
            else:                                               # beyond the table: no token of ours
                found, inside = np.full(len(points), -1, dtype=np.int32), points < len(self._table)
                found[inside] = self._table[points[inside]]
            if (found < 0).any():
                pos = start + int(np.argmax(found < 0))
                raise ValueError(f"seq: unknown token {text[pos]!r} at position {pos}; the vocabulary is "
                                 f"{self.tokens}")
            ids[start:start + len(points)] = found
        return ids

    def _unknown(self, seq) -> Exception:
        """The error for a ``seq`` that ``encode`` cannot read: not a sequence, or a token it does not know."""
        if not hasattr(seq, "__iter__"):
            return TypeError(f"seq: expected a string or a list of tokens, got {type(seq).__name__}")
        pos, tok = next((p, t) for p, t in enumerate(seq) if not isinstance(t, Hashable) or t not in self.index)
        return ValueError(f"seq: unknown token {tok!r} at position {pos}; the vocabulary is {self.tokens}")

    def decode(self, ids, sep: str = "") -> str:
        """Ids -> the tokens joined by ``sep`` (characters join with "", at numpy's speed)."""
        if not isinstance(sep, str):
            raise TypeError(f"sep: expected a string, got {type(sep).__name__}")
        ids = np.asarray(ids)
        check_int_array("ids", ids, (None,) * ids.ndim, len(self))
        if self._code_points is not None and sep == "":
            return self._code_points[ids.reshape(-1)].astype("<u4").tobytes().decode("utf-32-le", "surrogatepass")
        return sep.join(self.tokens[int(k)] for k in ids.reshape(-1))


BLOCK = 1 << 18         # characters per block when a text is read as code points: 1 MB of uint32, in cache


def _code_point_blocks(text: str):
    """(start, code points (n,)) of ``text``, a block at a time, so memory stays bounded for any length.

    As few bytes per character as the text needs: ASCII one (uint8), the Basic
    Multilingual Plane two (UTF-16 without surrogate pairs), else four (UTF-32).
    """
    for start in range(0, len(text), BLOCK):
        block = text[start:start + BLOCK]
        if block.isascii():
            yield start, np.frombuffer(block.encode("ascii"), dtype=np.uint8)
            continue
        with suppress(UnicodeEncodeError):              # a lone surrogate: UTF-32 below
            points = np.frombuffer(block.encode("utf-16-le"), dtype="<u2")
            if not ((points >= 0xD800) & (points < 0xE000)).any():       # no pairs: one unit per character
                yield start, points
                continue
        yield start, np.frombuffer(block.encode("utf-32-le", "surrogatepass"), dtype="<u4")


def _characters(text: str) -> set:
    """The distinct characters of ``text`` (``set(text)``, at numpy's speed for a long one)."""
    found: set = set()
    for _, points in _code_point_blocks(text):
        found.update(np.flatnonzero(np.bincount(points)).tolist())
    return {chr(c) for c in found}


def read_text(paths) -> str:
    """Read UTF-8 text files (one path or a list) and join them into one string.

    Line endings are normalised to ``"\\n"`` and a leading byte-order mark is
    dropped, so the same text gives the same characters on every system; a file
    that does not end in a newline gets one before the next file starts. A file
    that starts with a UTF-16 or UTF-32 byte-order mark (as Windows' Notepad
    saves "Unicode") is read in that encoding.

    Raises ``ValueError`` naming the file if it is missing, a folder, not a
    regular file (a FIFO or a device, which would block or never end), empty,
    binary (a NUL byte; UTF-16 without a byte-order mark is named as such) or
    not UTF-8 (with the offset of the first bad byte).
    """
    parts = []
    for name in map(os.fspath, check_paths("paths", paths)):
        try:
            check_regular_file(name)
            with open(name, "rb") as f:
                raw = f.read()
        except FileNotFoundError:
            raise ValueError(f"{name}: no such file") from None
        except OSError as err:
            raise ValueError(f"{name}: cannot be read ({err.strerror})") from None
        text = _decode(name, raw)
        if b"\r" in raw:
            text = text.replace("\r\n", "\n").replace("\r", "\n")
        parts.append(text if text.endswith("\n") else text + "\n")
    return "".join(parts)


# Byte-order marks, the longer first (UTF-32 LE's starts with UTF-16 LE's).
BOMS = [(codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"), (codecs.BOM_UTF16_LE, "utf-16"),
        (codecs.BOM_UTF16_BE, "utf-16")]


def _decode(name: str, raw: bytes) -> str:
    """A file's bytes -> its text: UTF-8, or UTF-16/32 announced by a byte-order mark; else a clear error."""
    if not raw:
        raise ValueError(f"{name}: the file is empty")
    encoding = next((enc for bom, enc in BOMS if raw.startswith(bom)), None)
    if encoding is not None:
        try:
            return raw.decode(encoding)                      # the codec reads the mark and drops it
        except UnicodeDecodeError as err:
            raise ValueError(f"{name}: starts with a {encoding.upper()} byte-order mark but is not "
                             f"{encoding.upper()} (at offset {err.start}); convert it to UTF-8 first, e.g. "
                             f"iconv -f {encoding} -t utf-8") from None
    if b"\0" in raw:
        head = raw[:2000]
        for low, high, order in ((head[0::2], head[1::2], "le"), (head[1::2], head[0::2], "be")):
            ascii_text = sum(32 <= b < 127 or b in b"\t\n\r" for b in low) > 0.9 * len(low)
            if ascii_text and high.count(0) > 0.9 * len(high):    # ASCII text, each character followed by a NUL
                raise ValueError(f"{name}: looks like UTF-16 ({order.upper()}) without a byte-order mark; "
                                 f"convert it to UTF-8 first, e.g. iconv -f utf-16{order} -t utf-8")
        raise ValueError(f"{name}: looks binary (a NUL byte at offset {raw.index(bytes(1))}); expected UTF-8 text")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise ValueError(f"{name}: is not UTF-8 text (byte 0x{raw[err.start]:02x} at offset {err.start}); "
                         "convert it first, e.g. iconv -f latin1 -t utf-8") from None


def batchify(ids: np.ndarray, batch_size: int) -> np.ndarray:
    """Cut one long stream of ids (N,) into ``batch_size`` parallel streams, time-major (N // B, B).

    Column b is the contiguous piece ``ids[b*L:(b+1)*L]`` (L = N // B), so that
    row t+1 continues row t in every column: the state carried from one chunk
    to the next belongs to the same text. The last ``N % B`` ids are dropped.
    """
    B = check_positive_int("batch_size", batch_size)
    check_int_array("ids", ids, (None,), np.iinfo(np.int64).max)
    L = len(ids) // B
    if L < 2:
        raise ValueError(f"ids: expected at least {2 * B} ids for batch_size={B}, got {len(ids)}")
    return ids[:L * B].reshape(B, L).T.copy()


def pad_sequences(seqs, pad_id: int = 0):
    """A list of 1-D id arrays (ids >= 0) -> (ids (T, B) right-padded with ``pad_id``, lengths (B,)).

    T is the longest length. Pass ``lengths`` to the recurrent layers and
    ``lengths_to_mask(lengths, T)`` to the loss so that padding counts for nothing.
    Ids are checked against a vocabulary's size where they meet a model. ``pad_id``
    is any int: -1 marks padding that no model reads (e.g. gold tags compared with
    ``SequenceTagger.predict``, which puts -1 past each end).
    """
    pad_id, seqs = check_int("pad_id", pad_id), check_id_sequences("seqs", seqs)
    lengths = np.array([len(s) for s in seqs], dtype=np.int64)
    ids = np.full((lengths.max(), len(seqs)), pad_id, dtype=np.int64)
    for b, s in enumerate(seqs):
        ids[:len(s), b] = s
    return ids, lengths


def lengths_to_mask(lengths, T: int) -> np.ndarray:
    """lengths (B,) ints in [1, T] (the rule of the recurrent layers) -> mask (T, B) bool, True where t < lengths[b]."""
    lengths = check_lengths(np.asarray(lengths), check_positive_int("T", T))
    return np.arange(T)[:, None] < lengths[None, :]


def adding_problem(T: int, batch_size: int, rng=None, dtype=np.float64):
    """A batch of the adding problem (Hochreiter & Schmidhuber 1997; Le, Jaitly & Hinton 2015).

    Each step's input is two numbers: a value drawn from U[0, 1) and a marker.
    Exactly two markers are 1, one at a position drawn uniformly from the first
    half of the sequence (t < T // 2) and one from the second half; the target
    is the sum of the two marked values. Predicting 1 (the mean of the target)
    always scores a mean squared error of 1/6: the line of a model that has
    learned nothing. To beat it, the model must remember a value for up to T - 1
    steps while ignoring everything else.

    Args:
        T: sequence length, at least 2.
        batch_size: B, the number of sequences.
        rng: an int seed or ``np.random.Generator`` (drawn in this order: values,
            first marker, second marker).
        dtype: float32 or float64.

    Returns:
        X: (T, B, 2), ``X[t, b] = (value, marker)``.
        y: (B, 1), the sum of the two marked values.
    """
    T, B = check_positive_int("T", T), check_positive_int("batch_size", batch_size)
    if T < 2:
        raise ValueError(f"T: expected at least 2 (one marker in each half), got {T}")
    dtype, rng = check_dtype_arg(dtype), as_rng(rng)
    values = rng.random((T, B))
    first = rng.integers(0, T // 2, size=B)
    second = rng.integers(T // 2, T, size=B)
    markers = np.zeros((T, B))
    markers[first, np.arange(B)] = 1.0
    markers[second, np.arange(B)] = 1.0
    X = np.stack([values, markers], axis=-1).astype(dtype)
    y = (X[..., 0] * X[..., 1]).sum(axis=0)[:, None]
    return X, y


def minibatches(n: int, batch_size: int, rng=None):
    """Yield index arrays that cover range(n) in shuffled batches of ``batch_size`` (last may be smaller)."""
    order = as_rng(rng).permutation(check_count("n", n))
    for start in range(0, n, check_positive_int("batch_size", batch_size)):
        yield order[start:start + batch_size]
