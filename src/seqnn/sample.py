"""Generation (one-to-many): feed a prefix, then feed back each chosen token.

Works with any model that has ``forward(ids (T, B), state) -> (logits (T, B, V), state)``.
"""

from __future__ import annotations

import numpy as np

from ._checks import as_rng, check_int_array
from .functional import softmax


def next_token_distribution(logits: np.ndarray, temperature: float = 1.0, top_k: int | None = None) -> np.ndarray:
    """logits (V,) -> probabilities (V,) of ``softmax(logits / temperature)``, keeping only the top k.

    Temperature < 1 sharpens the distribution (more conservative), > 1 flattens it.
    """
    if not temperature > 0:
        raise ValueError(f"temperature: expected a positive number (use greedy=True for argmax), got {temperature!r}")
    z = logits / temperature
    if top_k is not None:
        if not 1 <= top_k <= z.shape[-1]:
            raise ValueError(f"top_k: expected an int in [1, {z.shape[-1]}], got {top_k!r}")
        kth = np.sort(z)[-top_k]
        z = np.where(z >= kth, z, -np.inf)
    return softmax(z)


def generate(model, prefix: np.ndarray, n: int, *, greedy: bool = False, temperature: float = 1.0,
             top_k: int | None = None, rng=None) -> np.ndarray:
    """Continue ``prefix`` (1-D int ids, length >= 1) by ``n`` tokens.

    Each new token is the argmax (``greedy=True``) or a sample from
    ``next_token_distribution`` (temperature, top_k, ``rng`` seed or Generator).
    Returns the ``n`` new ids, shape (n,).
    """
    check_int_array("prefix", prefix, (None,), model.vocab_size)
    if len(prefix) == 0:
        raise ValueError("prefix: expected at least one token, got an empty array")
    rng = as_rng(rng)
    logits, state = model.forward(prefix[:, None], None)      # read the prefix, (T, 1, V)
    out = []
    for _ in range(n):
        last = logits[-1, 0]
        if greedy:
            token = int(np.argmax(last))
        else:
            token = int(rng.choice(len(last), p=next_token_distribution(last, temperature, top_k)))
        out.append(token)
        logits, state = model.forward(np.array([[token]]), state)  # feed the choice back in
    return np.array(out, dtype=np.int64)
