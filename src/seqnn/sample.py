"""Generation (one-to-many): feed a prefix, then feed back each chosen token.

Works with any model that has ``vocab_size`` V and ``forward(ids (T, B), state) -> (logits (T, B, V), state)``.
``stream`` yields each token as soon as it is chosen (``seqnn sample`` prints as it goes);
``generate`` collects them; ``stream_text`` and ``generate_text`` speak characters through a ``Vocabulary``.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from ._checks import as_rng, check_bool, check_count, check_cut, check_int_array, check_positive_number
from .functional import softmax
from .models import check_language_model, evaluating


def next_token_distribution(logits: np.ndarray, temperature: float = 1.0, top_k: int | None = None,
                            top_p: float | None = None) -> np.ndarray:
    """logits (V,) -> probabilities (V,) (float64) of ``softmax(logits / temperature)``, keeping only the top k,
    then only the top p of the mass.

    Temperature < 1 sharpens the distribution (more conservative), > 1 flattens it;
    as it goes to 0 the distribution becomes the argmax (greedy), and so it is
    for a temperature so small that ``logits / temperature`` overflows: the
    logits are shifted by their maximum first, so the most likely token's term
    is exactly 0 and the others fall to -inf, never inf - inf = NaN.
    ``top_k`` keeps exactly k tokens: where several logits tie at the k-th place,
    the ones with the lower ids are kept (a stable sort by logit, ids breaking ties).
    ``top_p`` (nucleus sampling, Holtzman et al. 2020), in (0, 1], keeps the
    fewest tokens whose probabilities, after temperature and top-k, add up to
    at least p, in the same order (ties: the lower ids first), so at least the
    most likely token is kept; p = 1 keeps them all. The kept ones are renormalised.
    Raises ValueError for NaN or inf logits (a diverged model) rather than
    returning NaN probabilities.
    """
    check_positive_number("temperature", temperature)      # for argmax, use greedy=True
    if not isinstance(logits, np.ndarray) or logits.ndim != 1 or logits.dtype.kind != "f" or not logits.size:
        raise ValueError(f"logits: expected a non-empty 1-D float array (V,), got "
                         f"{getattr(logits, 'dtype', type(logits).__name__)} of shape {np.shape(logits)}")
    _check_finite(logits)
    check_cut(top_k, top_p, len(logits))
    return _distribution(logits, temperature, top_k, top_p)


def _check_finite(logits: np.ndarray) -> None:
    if not np.isfinite(logits).all():
        raise ValueError("logits: expected finite values, got NaN or inf (has the model diverged?)")


def _distribution(logits: np.ndarray, temperature: float, top_k, top_p) -> np.ndarray:
    """``next_token_distribution`` itself, for arguments already checked."""
    with np.errstate(over="ignore"):                   # a tiny temperature: -inf for all but the maximum
        a = (logits - logits.max()).astype(np.float64) / temperature      # (in float32, 1e-300 would be 0)
    order = np.argsort(-a, kind="stable")              # most likely first; ties: the lower id first
    if top_k is not None:
        a = _keep(a, order[:top_k])
    p = softmax(a)
    if top_p is not None and top_p < 1:
        mass = np.cumsum(p[order])                     # the mass of the first 1, 2, ... tokens
        n = int(np.searchsorted(mass, top_p * (1 - 1e-12))) + 1        # the fewest reaching p (round-off aside)
        p = softmax(_keep(a, order[:n]))
    return p


def _keep(a: np.ndarray, keep: np.ndarray) -> np.ndarray:
    """``a`` with every entry but those at ``keep`` set to -inf (probability 0 after the softmax)."""
    masked = np.full_like(a, -np.inf)
    masked[keep] = a[keep]
    return masked


def stream(model, prefix: np.ndarray, n: int, *, greedy: bool = False, temperature: float = 1.0,
           top_k: int | None = None, top_p: float | None = None, rng=None) -> Iterator[int]:
    """Continue ``prefix`` (1-D int ids, length >= 1) by ``n`` tokens (n >= 0), yielding each as it is chosen.

    Each new token is the argmax (``greedy=True``) or a sample from
    ``next_token_distribution`` (temperature, top_k, top_p; ``rng`` a seed or Generator).
    The model runs in evaluation mode (dropout off) while the tokens are drawn,
    and its mode is restored when the iterator ends or is closed: the same seed
    gives the same text. The arguments are checked here, before any token.
    """
    check_int_array("prefix", prefix, (None,), check_language_model(model).vocab_size)
    if len(prefix) == 0:
        raise ValueError("prefix: expected at least one token, got an empty array")
    n = check_count("n", n)
    if not check_bool("greedy", greedy):
        check_positive_number("temperature", temperature)
        check_cut(top_k, top_p, model.vocab_size)
    return _tokens(model, prefix, n, greedy, temperature, top_k, top_p, as_rng(rng))


def _tokens(model, prefix, n, greedy, temperature, top_k, top_p, rng) -> Iterator[int]:
    with evaluating(model):
        logits, state = model.forward(prefix[:, None], None, check=False)      # read the prefix, (T, 1, V)
        for _ in range(n):
            last = logits[-1, 0]
            _check_finite(last)                                                # a diverged model: say so
            if greedy:
                token = int(np.argmax(last))
            else:
                token = int(rng.choice(len(last), p=_distribution(last, temperature, top_k, top_p)))
            yield token
            logits, state = model.forward(np.array([[token]]), state, check=False)   # feed the choice back in


def generate(model, prefix: np.ndarray, n: int, *, greedy: bool = False, temperature: float = 1.0,
             top_k: int | None = None, top_p: float | None = None, rng=None) -> np.ndarray:
    """Continue ``prefix`` by ``n`` tokens, as ``stream`` does; returns the new ids, shape (n,)."""
    tokens = stream(model, prefix, n, greedy=greedy, temperature=temperature, top_k=top_k, top_p=top_p, rng=rng)
    return np.fromiter(tokens, dtype=np.int64, count=n)


def stream_text(model, vocab, prefix: np.ndarray, n: int, *, temperature: float = 1.0, top_k: int | None = None,
                top_p: float | None = None, rng=None) -> Iterator[str]:
    """``n`` tokens after ``prefix`` (ids of ``vocab``), each yielded as text as soon as it is chosen.

    ``temperature`` 0 takes the most likely token (greedy); otherwise as ``stream``.
    """
    if not callable(getattr(vocab, "decode", None)):
        raise TypeError(f"vocab: expected a seqnn.data.Vocabulary, got {type(vocab).__name__}")
    greedy = not isinstance(temperature, bool) and isinstance(temperature, (int, float)) and temperature == 0
    tokens = stream(model, prefix, n, greedy=greedy, temperature=1.0 if greedy else temperature, top_k=top_k,
                    top_p=top_p, rng=rng)
    return (vocab.tokens[token] for token in tokens)


def generate_text(model, vocab, prefix: np.ndarray, n: int, *, temperature: float = 1.0,
                  top_k: int | None = None, top_p: float | None = None, rng=None) -> str:
    """The ``n`` tokens of ``stream_text``, joined into one string."""
    return "".join(stream_text(model, vocab, prefix, n, temperature=temperature, top_k=top_k, top_p=top_p,
                               rng=rng))
