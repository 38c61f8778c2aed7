"""Generation (one-to-many): feed a prefix, then feed back each chosen token.

Works with any model that has ``vocab_size`` V and ``forward(ids (T, B), state) -> (logits (T, B, V), state)``.
``stream`` yields each token as soon as it is chosen (``seqnn sample`` prints as it goes);
``generate`` collects them; ``stream_text`` and ``generate_text`` speak characters through a ``Vocabulary``.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from ._checks import as_rng, check_bool, check_count, check_int_array, check_positive_number
from .functional import softmax
from .models import check_language_model, lm_forward


def next_token_distribution(logits: np.ndarray, temperature: float = 1.0, top_k: int | None = None) -> np.ndarray:
    """logits (V,) -> probabilities (V,) (float64) of ``softmax(logits / temperature)``, keeping only the top k.

    Temperature < 1 sharpens the distribution (more conservative), > 1 flattens it;
    as it goes to 0 the distribution becomes the argmax (greedy), and so it is
    for a temperature so small that ``logits / temperature`` overflows: the
    logits are shifted by their maximum first, so the most likely token's term
    is exactly 0 and the others fall to -inf, never inf - inf = NaN.
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
    with np.errstate(over="ignore"):                   # a tiny temperature: -inf for all but the maximum
        a = (logits - logits.max()).astype(np.float64) / temperature      # (in float32, 1e-300 would be 0)
    if top_k is not None:
        V = a.shape[-1]
        if isinstance(top_k, bool) or not isinstance(top_k, (int, np.integer)) or not 1 <= top_k <= V:
            raise ValueError(f"top_k: expected an int in [1, {V}], got {top_k!r}")
        keep = np.argsort(-a, kind="stable")[:top_k]         # ties: the lower id first
        masked = np.full_like(a, -np.inf)
        masked[keep] = a[keep]
        a = masked
    return softmax(a)


def stream(model, prefix: np.ndarray, n: int, *, greedy: bool = False, temperature: float = 1.0,
           top_k: int | None = None, rng=None) -> Iterator[int]:
    """Continue ``prefix`` (1-D int ids, length >= 1) by ``n`` tokens (n >= 0), yielding each as it is chosen.

    Each new token is the argmax (``greedy=True``) or a sample from
    ``next_token_distribution`` (temperature, top_k, ``rng`` seed or Generator).
    The model runs in evaluation mode (dropout off) while the tokens are drawn,
    and its mode is restored when the iterator ends or is closed: the same seed
    gives the same text. The arguments are checked here, before any token.
    """
    check_int_array("prefix", prefix, (None,), check_language_model(model).vocab_size)
    if len(prefix) == 0:
        raise ValueError("prefix: expected at least one token, got an empty array")
    n = check_count("n", n)
    if not check_bool("greedy", greedy):
        next_token_distribution(np.zeros(model.vocab_size), temperature, top_k)    # check them before the work
    return _tokens(model, prefix, n, greedy, temperature, top_k, as_rng(rng))


def _tokens(model, prefix, n, greedy, temperature, top_k, rng) -> Iterator[int]:
    was_training = getattr(model, "training", False)
    if hasattr(model, "eval"):
        model.eval()
    try:
        logits, state = lm_forward(model, prefix[:, None], None)       # read the prefix, (T, 1, V)
        for _ in range(n):
            last = logits[-1, 0]
            if greedy:
                if not np.isfinite(last).all():
                    raise ValueError("logits: expected finite values, got NaN or inf (has the model diverged?)")
                token = int(np.argmax(last))
            else:
                token = int(rng.choice(len(last), p=next_token_distribution(last, temperature, top_k)))
            yield token
            logits, state = lm_forward(model, np.array([[token]]), state)  # feed the choice back in
    finally:
        if hasattr(model, "train"):
            model.train(was_training)


def generate(model, prefix: np.ndarray, n: int, *, greedy: bool = False, temperature: float = 1.0,
             top_k: int | None = None, rng=None) -> np.ndarray:
    """Continue ``prefix`` by ``n`` tokens, as ``stream`` does; returns the new ids, shape (n,)."""
    tokens = stream(model, prefix, n, greedy=greedy, temperature=temperature, top_k=top_k, rng=rng)
    return np.fromiter(tokens, dtype=np.int64, count=n)


def stream_text(model, vocab, prefix: np.ndarray, n: int, *, temperature: float = 1.0, top_k: int | None = None,
                rng=None) -> Iterator[str]:
    """``n`` tokens after ``prefix`` (ids of ``vocab``), each yielded as text as soon as it is chosen.

    ``temperature`` 0 takes the most likely token (greedy); otherwise as ``stream``.
    """
    if not callable(getattr(vocab, "decode", None)):
        raise TypeError(f"vocab: expected a seqnn.data.Vocabulary, got {type(vocab).__name__}")
    greedy = not isinstance(temperature, bool) and isinstance(temperature, (int, float)) and temperature == 0
    tokens = stream(model, prefix, n, greedy=greedy, temperature=1.0 if greedy else temperature, top_k=top_k,
                    rng=rng)
    return (vocab.tokens[token] for token in tokens)


def generate_text(model, vocab, prefix: np.ndarray, n: int, *, temperature: float = 1.0,
                  top_k: int | None = None, rng=None) -> str:
    """The ``n`` tokens of ``stream_text``, joined into one string."""
    return "".join(stream_text(model, vocab, prefix, n, temperature=temperature, top_k=top_k, rng=rng))
