"""The parts of ``softmax_loss.py``, ``clip.py`` and ``sampling.py``: the numerics around a network.

The softmax and the loss are checked on logits far apart (``[[1000, 0]]``) and on rows of very different
scales, where a shift by the wrong maximum or a log of a probability gives NaN or inf; clipping against seqnn's
``clip_grad_norm`` (and the mistakes of clipping: each array alone, by value, no square root, scaling up); a draw
against the exact draws of the rng given, then for what makes any draw right (the same seed gives the same
draws, another seed others, the frequencies those of the distribution).
"""

from __future__ import annotations

import numpy as np

from ..functional import softmax
from ..losses import softmax_cross_entropy
from ..module import Parameter
from ..optim import clip_grad_norm
from ..sample import next_token_distribution
from .compare import Wrong, against_both, gradient_check, report, returned
from .mistakes import MISTAKES
from .reference import finite_differences


def shifted(logits, by):
    """softmax of each row after subtracting ``by`` (a student's choice of maximum), NaN where it gives 0 / 0."""
    with np.errstate(all="ignore"):
        e = np.exp(logits - by)
        return e / e.sum(axis=1, keepdims=True)


def softmax_loss_parts(m) -> dict:
    def probabilities():
        logits = np.random.default_rng(7).standard_normal((4, 6)) * 3
        columns = [(e / e.sum(axis=0, keepdims=True),) for e in (np.exp(logits),      # shifted by nothing, or
                                                                  np.exp(logits - logits.max(axis=1, keepdims=True)))]
        report(["softmax(logits)"], (m.softmax(logits),), (softmax(logits),), {MISTAKES["wrong axis"]: columns})
        scales = np.array([[1000.0, 999.0, -5.0], [-1000.0, -1001.0, -1005.0], [0.5, -0.5, 0.0]])
        bugs = {MISTAKES["no max shift"]: (shifted(scales, 0),),
                MISTAKES["global max shift"]: (shifted(scales, scales.max()),)}
        report(["softmax of rows [1000, 999, -5], [-1000, -1001, -1005], [0.5, -0.5, 0]"], (m.softmax(scales),),
               (softmax(scales),), bugs)

    def loss():
        rng = np.random.default_rng(8)
        logits, targets = rng.standard_normal((5, 7)), rng.integers(0, 7, 5)
        numeric = finite_differences(m, "softmax_cross_entropy", (logits, targets), {"logits": 0}, (1.0,))
        got = returned(m.softmax_cross_entropy(logits, targets), "softmax_cross_entropy", ("loss", "dlogits"))
        want = softmax_cross_entropy(logits, targets)
        summed = want[1] * len(targets)
        bugs = {MISTAKES["not divided by N"]: (want[0], summed), MISTAKES["summed loss"]: (want[0] * 5, summed)}
        against_both(lambda: report(["loss", "dlogits"], got, want, bugs),
                     lambda: gradient_check(numeric, {"dlogits": got[1]}, {}))
        far, target = np.array([[1000.0, 0.0], [0.0, 3.0]]), np.array([1, 1])
        got = returned(m.softmax_cross_entropy(far, target), "softmax_cross_entropy", ("loss", "dlogits"))
        want = softmax_cross_entropy(far, target)
        report(["loss of logits [[1000, 0], [0, 3]], targets [1, 1]", "its dlogits"], got, want,
               {MISTAKES["log of softmax"]: (np.inf, want[1])})

    return {"softmax (and large logits)": probabilities, "cross-entropy and its gradient": loss}


def clip_parts(m) -> dict:
    def clip():
        rng = np.random.default_rng(16)
        grads = [rng.standard_normal((3, 4)) * 4, rng.standard_normal(5), rng.standard_normal((2, 2)) * 0.1]
        clipped, norm = returned(m.clip_by_global_norm(grads, 2.0), "clip_by_global_norm", ("the clipped arrays",
                                                                                            "the norm"))
        if not isinstance(clipped, (list, tuple)) or len(clipped) != 3:
            raise Wrong(f"clip_by_global_norm returned {type(clipped).__name__} for the clipped arrays, expected a "
                        "list of 3 arrays (one for each array given)")
        params = [Parameter(g.copy()) for g in grads]
        for p, g in zip(params, grads):
            p.grad[...] = g
        true_norm = clip_grad_norm(params, 2.0)
        names = [*(f"clipped[{k}]" for k in range(3)), "the norm"]
        squared = true_norm ** 2
        bugs = {MISTAKES["each array"]: (*(g * min(1.0, 2.0 / (np.linalg.norm(g) + 1e-6)) for g in grads),
                                         true_norm),
                MISTAKES["by value"]: (*(np.clip(g, -2.0, 2.0) for g in grads), true_norm),
                MISTAKES["norm squared"]: (*(g * 2.0 / (squared + 1e-6) for g in grads), squared)}
        report(names, (*clipped, norm), (*(p.grad for p in params), true_norm), bugs)
        small = np.array([0.1, 0.2])
        got = returned(m.clip_by_global_norm([small], 2.0), "clip_by_global_norm", ("the clipped arrays",
                                                                                   "the norm"))
        report(["a gradient of norm 0.22 clipped to 2"], (got[0][0],), (small,),
               {MISTAKES["scaled up"]: (small * 2.0 / np.linalg.norm(small),)})

    return {"clip by the global norm": clip}


LOGITS = np.array([2.0, -1.0, 0.5, 3.0, 0.0, -2.5])


def sampling_parts(m) -> dict:
    def distribution():
        for temperature, top_k in ((1.0, None), (0.5, None), (2.0, None), (1.0, 3), (0.7, 2)):
            bugs = {MISTAKES["temperature after"]: (softmax(LOGITS) / temperature,)} if top_k is None else {
                MISTAKES["top-k off by one"].format(kept=kept, k=top_k): (next_token_distribution(
                    LOGITS, temperature, kept),) for kept in (top_k - 1, top_k + 1)}
            report([f"p (temperature {temperature}, top-k {top_k})"], (m.next_distribution(LOGITS, temperature,
                                                                                             top_k),),
                   (next_token_distribution(LOGITS, temperature, top_k),), bugs)

    def draws(seed: int, n: int) -> list:
        got = m.call("sample", (LOGITS, 1.0, 3, m.rng(seed)), repeat=n)
        if not all(isinstance(d, (int, np.integer)) and 0 <= d < len(LOGITS) for d in got):
            odd = next(d for d in got if not (isinstance(d, (int, np.integer)) and 0 <= d < len(LOGITS)))
            raise Wrong(f"sample returned {odd!r}, expected the id of a character: an int in [0, {len(LOGITS)})")
        return [int(d) for d in got]

    def draw():
        got = draws(17, 3000)
        if not set(got) <= {0, 2, 3}:
            raise Wrong(f"with top-k 3 only ids 0, 2 and 3 may be drawn, got {sorted(set(got) - {0, 2, 3})}")
        p = next_token_distribution(LOGITS, 1.0, 3)
        rng = np.random.default_rng(17)
        if got == [int(rng.choice(len(LOGITS), p=p)) for _ in range(3000)]:
            return                                          # exactly rng.choice's draws from the rng given
        if draws(5, 200) != draws(5, 200):
            raise Wrong(MISTAKES["rng ignored"], named=True)
        if draws(5, 200) == draws(6, 200):
            raise Wrong(MISTAKES["seed ignored"], named=True)
        freq = np.bincount(got, minlength=len(LOGITS)) / len(got)
        if np.abs(freq - p).max() > 0.04:
            raise Wrong(f"3000 draws came with frequencies {np.round(freq, 2).tolist()}, expected about "
                        f"{np.round(p, 2).tolist()}")

    return {"next_distribution (temperature, top-k)": distribution, "sample": draw}
