"""The parts of ``embedding.py`` and ``output_layer.py``: the two ends of a network, tokens in and the loss out.

The embedding against seqnn's ``Embedding``, on tokens that repeat (their rows add up) and tokens that never
occur (their rows stay 0); the output layer at every step against ``H W_hy^T + b_y`` and finite differences of
the student's own forward; the sequence loss against seqnn's ``softmax_cross_entropy`` with a mask, on logits far
apart, with the mistakes of the mask named (ignored, or the wrong count divided by).
"""

from __future__ import annotations

import numpy as np

from ..layers import Embedding
from ..losses import softmax_cross_entropy
from .compare import against_both, gradient_check, report, returned
from .mistakes import MISTAKES
from .reference import finite_differences

TOKENS = np.array([[1, 3, 1], [1, 0, 3], [5, 1, 1], [0, 3, 5]])     # (T, B): repeats; 2, 4 and 6 never occur


def embedding_parts(m) -> dict:
    def reference(W):
        table = Embedding(*W.shape, rng=0)
        table.W_embed = W
        return table

    def forward():
        W = np.random.default_rng(30).standard_normal((7, 5))
        got, _ = returned(m.embedding_forward(TOKENS, W), "embedding_forward", ("X", "the cache"))
        report(["X"], (got,), (reference(W).forward(TOKENS),), {},
               hints={"X": "X[t, b] = W_embed[tokens[t, b]], for every t and b"})

    def backward():
        rng = np.random.default_rng(31)
        W, dX = rng.standard_normal((7, 5)), rng.standard_normal((4, 3, 5))
        numeric = finite_differences(m, "embedding_forward", (TOKENS, W), {"W_embed": 1}, (dX,))
        _, cache = returned(m.call("embedding_forward", (TOKENS, W))[0], "embedding_forward", ("X", "the cache"))
        got = m.call("embedding_backward", (dX, cache))[0]
        table = reference(W)
        table.forward(TOKENS)
        table.backward(dX)
        once = np.zeros_like(W)
        once[TOKENS] += dX                              # a repeated index written once: the mistake, exactly
        want = next(iter(table.parameters())).grad
        against_both(lambda: report(["dW_embed"], (got,), (want,), {MISTAKES["repeats dropped"]: (once,)}),
                     lambda: gradient_check(numeric, {"dW_embed": got}, {}))

    return {"embedding_forward": forward, "embedding_backward (repeated tokens)": backward}


def output_layer_parts(m) -> dict:
    def values(seed):
        rng = np.random.default_rng(seed)
        return rng.standard_normal((4, 3, 5)), rng.standard_normal((6, 5)) * 0.5, rng.standard_normal(6) * 0.1

    def forward():
        H, W_hy, b_y = values(32)
        got, _ = returned(m.output_forward(H, W_hy, b_y), "output_forward", ("Y", "the cache"))
        report(["Y"], (got,), (H @ W_hy.T + b_y,), {}, time={"Y": "first"},
               hints={"Y": "Y[t] = H[t] W_hy^T + b_y at every step"})

    def backward():
        H, W_hy, b_y = values(33)
        dY = np.random.default_rng(34).standard_normal((4, 3, 6))
        numeric = finite_differences(m, "output_forward", (H, W_hy, b_y), {"H": 0, "W_hy": 1, "b_y": 2}, (dY,))
        _, cache = returned(m.call("output_forward", (H, W_hy, b_y))[0], "output_forward", ("Y", "the cache"))
        got = m.call("output_backward", (dY, cache))[0]
        names = ["dH", "dW_hy", "db_y"]
        got = returned(got, "output_backward", tuple(names))
        want = (dY @ W_hy, np.einsum("tbv,tbh->vh", dY, H), dY.sum(axis=(0, 1)))
        bugs = {MISTAKES["output of one step"]: (want[0], dY[-1].T @ H[-1], dY[-1].sum(axis=0))}
        against_both(lambda: report(names, got, want, bugs, time={"dH": "last"}),
                     lambda: gradient_check(numeric, dict(zip(names, got)), {}))

    def loss():
        rng = np.random.default_rng(35)
        Y, targets = rng.standard_normal((4, 3, 6)) * 2, rng.integers(0, 6, (4, 3))
        Y[0, 0, (targets[0, 0] + 1) % 6] += 1000.0        # logits far apart, the target's far below: a finite loss
        mask = (np.arange(4)[:, None] < np.array([4, 2, 3])).astype(np.float64)     # lengths 4, 2 and 3
        numeric = finite_differences(m, "sequence_loss", (Y, targets, mask), {"Y": 0}, (1.0,))
        got = returned(m.sequence_loss(Y, targets, mask), "sequence_loss", ("loss", "dY"))
        want = softmax_cross_entropy(Y, targets, mask)
        summed = softmax_cross_entropy(Y, targets, mask, reduction="sum")
        bugs = {MISTAKES["mask ignored"]: softmax_cross_entropy(Y, targets),
                MISTAKES["mean over all positions"]: tuple(s / 12 for s in summed),
                MISTAKES["divided by B"]: tuple(s / 3 for s in summed),
                MISTAKES["log of softmax"]: (np.inf, None)}
        against_both(lambda: report(["loss", "dY"], got, want, bugs),
                     lambda: gradient_check(numeric, {"dY": got[1]}, {}))

    return {"output_forward": forward, "output_backward": backward, "sequence_loss (with a mask)": loss}
