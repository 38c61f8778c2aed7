"""Generation (one-to-many): feed a prefix, then feed back each chosen token.

Works with any model that has ``vocab_size`` V and ``forward(ids (T, B), state) -> (logits (T, B, V), state)``.
"""

from __future__ import annotations

import numpy as np

from ._checks import as_rng, check_bool, check_int_array, check_positive_number
from .functional import softmax
from .models import check_language_model, lm_forward


def next_token_distribution(logits: np.ndarray, temperature: float = 1.0, top_k: int | None = None) -> np.ndarray:
    """logits (V,) -> probabilities (V,) of ``softmax(logits / temperature)``, keeping only the top k.

    Temperature < 1 sharpens the distribution (more conservative), > 1 flattens it.
    ``top_k`` keeps exactly k tokens: where several logits tie at the k-th place,
    the ones with the lower ids are kept (a stable sort by logit, ids breaking ties).
    Raises ValueError for NaN or inf logits (a diverged model) rather than
    returning NaN probabilities.
    """
    check_positive_number("temperature", temperature)      # for argmax, use greedy=True
    if not isinstance(logits, np.ndarray) or logits.ndim != 1 or logits.dtype.kind != "f" or not logits.size:
        raise ValueError(f"logits: expected a non-empty 1-D float array (V,), got "
                         f"{getattr(logits, 'dtype', type(logits).__name__)} of shape {np.shape(logits)}")
    if not np.isfinite(logits).all():
        raise ValueError("logits: expected finite values, got NaN or inf (has the model diverged?)")
    a = logits / temperature
    if top_k is not None:
        V = a.shape[-1]
        if isinstance(top_k, bool) or not isinstance(top_k, (int, np.integer)) or not 1 <= top_k <= V:
            raise ValueError(f"top_k: expected an int in [1, {V}], got {top_k!r}")
        keep = np.argsort(-a, kind="stable")[:top_k]         # ties: the lower id first
        masked = np.full_like(a, -np.inf)
        masked[keep] = a[keep]
        a = masked
    return softmax(a)


def generate(model, prefix: np.ndarray, n: int, *, greedy: bool = False, temperature: float = 1.0,
             top_k: int | None = None, rng=None) -> np.ndarray:
    """Continue ``prefix`` (1-D int ids, length >= 1) by ``n`` tokens (n >= 0).

    Each new token is the argmax (``greedy=True``) or a sample from
    ``next_token_distribution`` (temperature, top_k, ``rng`` seed or Generator).
    The model runs in evaluation mode (dropout off) for the call, and its mode is
    restored after: the same seed gives the same text. Returns the ``n`` new ids,
    shape (n,).
    """
    check_int_array("prefix", prefix, (None,), check_language_model(model).vocab_size)
    if len(prefix) == 0:
        raise ValueError("prefix: expected at least one token, got an empty array")
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 0:
        raise ValueError(f"n: expected a number of tokens >= 0, got {n!r}")
    if not check_bool("greedy", greedy):
        next_token_distribution(np.zeros(model.vocab_size), temperature, top_k)    # check them before the work
    rng = as_rng(rng)
    was_training = getattr(model, "training", False)
    if hasattr(model, "eval"):
        model.eval()
    try:
        logits, state = lm_forward(model, prefix[:, None], None)       # read the prefix, (T, 1, V)
        out = []
        for _ in range(n):
            last = logits[-1, 0]
            if greedy:
                if not np.isfinite(last).all():
                    raise ValueError("logits: expected finite values, got NaN or inf (has the model diverged?)")
                token = int(np.argmax(last))
            else:
                token = int(rng.choice(len(last), p=next_token_distribution(last, temperature, top_k)))
            out.append(token)
            logits, state = lm_forward(model, np.array([[token]]), state)  # feed the choice back in
    finally:
        if hasattr(model, "train"):
            model.train(was_training)
    return np.array(out, dtype=np.int64)

