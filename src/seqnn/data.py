"""Vocabularies, one-hot vectors, and long streams cut into chunks."""

from __future__ import annotations

import numpy as np

from ._checks import check_dtype_arg, check_int_array, check_positive_int


class Vocabulary:
    """A fixed, sorted list of tokens (characters or words) and their ids.

    The tokens are sorted so that ids are the same on every run (``list(set(text))``
    is not: string hashing is randomised per process).

    >>> v = Vocabulary("hello")
    >>> v.tokens, v.encode("hell").tolist(), v.decode([1, 0])
    (['e', 'h', 'l', 'o'], [1, 0, 2, 2], 'eh')
    """

    def __init__(self, tokens):
        self.tokens = sorted(set(tokens))
        if not self.tokens:
            raise ValueError("tokens: expected at least one token, got none")
        self.index = {tok: k for k, tok in enumerate(self.tokens)}

    def __len__(self):
        return len(self.tokens)

    def __repr__(self):
        return f"Vocabulary({self.tokens!r})"

    def encode(self, seq) -> np.ndarray:
        """Tokens -> int64 ids of shape (len(seq),). An unknown token raises ``ValueError``."""
        ids = []
        for pos, tok in enumerate(seq):
            if tok not in self.index:
                raise ValueError(f"seq: unknown token {tok!r} at position {pos}; the vocabulary is {self.tokens}")
            ids.append(self.index[tok])
        return np.array(ids, dtype=np.int64)

    def decode(self, ids, sep: str = "") -> str:
        """Ids -> the tokens joined by ``sep`` (characters join with "")."""
        ids = np.asarray(ids)
        check_int_array("ids", ids, (None,) * ids.ndim, len(self))
        return sep.join(self.tokens[int(k)] for k in ids.reshape(-1))


def one_hot(ids: np.ndarray, num_classes: int, dtype=np.float64) -> np.ndarray:
    """Integer ids of any shape (...) -> one-hot vectors (..., num_classes).

    Out-of-range ids raise ``ValueError`` (they never wrap around).
    """
    num_classes = check_positive_int("num_classes", num_classes)
    check_int_array("ids", ids, (None,) * np.ndim(ids), num_classes)
    out = np.zeros(ids.shape + (num_classes,), check_dtype_arg(dtype))
    np.put_along_axis(out, ids[..., None], 1.0, axis=-1)
    return out


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
