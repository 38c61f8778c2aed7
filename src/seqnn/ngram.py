"""The n-gram baseline: where a trained network predicts better than counting, and where it does not.

Karpathy, Johnson and Fei-Fei (2015, section 4) compared their LSTMs character
by character with n-gram models of the same text. Here an n-gram model of
order n predicts the next character from the n - 1 before it, by counts over
the training text, interpolated with the order below (Witten-Bell), down to
add-one counts of single characters, so no character has probability 0:

    P_1(w)     = (c(w) + 1) / (N + V)
    P_n(w | h) = (c(h w) + u(h) P_(n-1)(w | h')) / (c(h) + u(h))      h' = h without its first character
               = P_(n-1)(w | h')                                        where h never occurred

with c the counts, u(h) the number of different characters that followed h,
N the training text's length and V the vocabulary's size.

    losses = ngram_losses(train_ids, ids, V, orders=5)      # (5, T - 1) bits: -log2 P_n(ids[t + 1] | ..ids[t])
    kinds = kind_of(text[1:])                               # what each predicted character is
    best_order(losses)                                      # the n of the best of them over the text
"""

from __future__ import annotations

import numpy as np

from ._checks import check_int_array, check_positive_int

KINDS = ("a word's first letter", "inside a word", "space", "newline", "punctuation", "quote mark", "bracket",
         "digit", "other")
QUOTES, BRACKETS = "\"'`\u2018\u2019\u201c\u201d", "()[]{}"


def ngram_losses(train_ids, ids, vocab_size: int, orders: int = 5) -> np.ndarray:
    """-log2 of the probability each n-gram model (n = 1 .. ``orders``) fitted on ``train_ids`` (N,) gives the next
    token of ``ids`` (T,): (orders, T - 1) bits, column t the prediction of ids[t + 1] from ids[.. t].

    Near the start of ``ids`` an order that needs more history than there is
    uses all there is (the order below).
    """
    V = check_positive_int("vocab_size", vocab_size)
    train_ids = check_int_array("train_ids", train_ids, (None,), V)
    ids = check_int_array("ids", ids, (None,), V)
    orders = check_positive_int("orders", orders)
    if float(V) ** orders >= 2.0 ** 62:
        raise ValueError(f"orders: {orders}-grams of a {V}-token vocabulary do not fit in 64-bit keys; use fewer")
    if len(ids) < 2:
        raise ValueError(f"ids: expected at least 2 tokens (one to predict from, one to predict), got {len(ids)}")
    train, target = train_ids.astype(np.int64), ids[1:].astype(np.int64)
    counts = np.bincount(train, minlength=V)
    P = (counts[target] + 1.0) / (len(train) + V)                     # P_1: add-one unigram
    out = [P]
    for n in range(2, orders + 1):
        P = _interpolated(train, ids.astype(np.int64), target, n, V, P)
        out.append(P)
    return -np.log2(np.stack(out))


def _interpolated(train: np.ndarray, ids: np.ndarray, target: np.ndarray, n: int, V: int, lower: np.ndarray):
    """P_n(target | the n - 1 tokens before it) for every position, Witten-Bell over ``lower`` (P_(n-1))."""
    grams = _keys(train, n, V)                                  # every n-gram of the training text, as one integer
    hw, c_hw = np.unique(grams, return_counts=True)             # c(h w), sorted by h then w
    h_of = hw // V
    h, first, u = np.unique(h_of, return_index=True, return_counts=True)     # u(h): distinct followers of h
    c_h = np.add.reduceat(c_hw, first)                          # c(h)
    T = len(target)
    context = np.full(T, -1, dtype=np.int64)                    # -1: fewer than n - 1 tokens of history
    t = np.arange(n - 2, T)                                     # predicting ids[t + 1] from ids[t - n + 2 .. t]
    if len(t):
        context[t] = _keys(ids[:T], n - 1, V)                   # windows ending at t = n - 2 .. T - 1
    have = context >= 0
    k = np.minimum(np.searchsorted(h, context), len(h) - 1)
    seen = have & (h[k] == context)                             # contexts that occurred in the training text
    j = np.minimum(np.searchsorted(hw, context * V + target), len(hw) - 1)
    c = np.where(seen & (hw[j] == context * V + target), c_hw[j], 0)
    return np.where(seen, (c + u[k] * lower) / (c_h[k] + u[k]), lower)


def _keys(ids: np.ndarray, n: int, V: int) -> np.ndarray:
    """Each window of n tokens as one integer, base V: (len(ids) - n + 1,)."""
    key = np.zeros(len(ids) - n + 1, dtype=np.int64)
    for j in range(n):
        key = key * V + ids[j:len(ids) - n + 1 + j]
    return key


def kind_of(text: str) -> list:
    """What kind each character is (one of ``KINDS``): a word's first letter, inside a word (letters after the
    first, and an apostrophe between letters), space, newline, punctuation, quote mark, bracket, digit, other."""
    kinds = []
    for t, ch in enumerate(text):
        before = text[t - 1] if t else " "
        after = text[t + 1] if t + 1 < len(text) else " "
        if ch.isalpha():
            kinds.append("inside a word" if before.isalpha() or before == "'" and t > 1 and text[t - 2].isalpha()
                         else "a word's first letter")
        elif ch == "'" and before.isalpha() and after.isalpha():
            kinds.append("inside a word")
        elif ch == "\n":
            kinds.append("newline")
        elif ch.isspace():
            kinds.append("space")
        elif ch in QUOTES:
            kinds.append("quote mark")
        elif ch in BRACKETS:
            kinds.append("bracket")
        elif ch.isdigit():
            kinds.append("digit")
        elif ch.isprintable():
            kinds.append("punctuation")
        else:
            kinds.append("other")
    return kinds


def best_order(ngram_bits: np.ndarray) -> int:
    """The n of the n-gram model with the lowest mean loss: ``ngram_bits`` (orders, T - 1) from ``ngram_losses``."""
    return int(np.argmin(ngram_bits.mean(axis=1))) + 1


def by_kind(model_bits: np.ndarray, ngram_bits: np.ndarray, kinds: list) -> list:
    """The summary table: for each kind of predicted character present, (kind, count, the model's mean bits,
    each n-gram's mean bits (orders,), the fraction of these characters the model predicts better than the best
    n-gram model, the order with the lowest mean over all characters).

    ``model_bits`` (T - 1,), ``ngram_bits`` (orders, T - 1), ``kinds`` (T - 1) from ``kind_of``; a last row "all".
    """
    kinds_arr = np.array(kinds)
    best = ngram_bits[best_order(ngram_bits) - 1]
    rows = []
    for kind in (*KINDS, "all"):
        where = np.ones(len(kinds_arr), bool) if kind == "all" else kinds_arr == kind
        if where.any():
            rows.append((kind, int(where.sum()), float(model_bits[where].mean()), ngram_bits[:, where].mean(axis=1),
                         float((model_bits[where] < best[where]).mean())))
    return rows
