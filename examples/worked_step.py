"""One forward step of a tiny RNN, every intermediate value printed: check it by hand.

Vocabulary {e, h, l, o} (sorted), one-hot inputs, H = 2 hidden units, weights
set by name. The input is 'h'; the previous state is h_prev = [0.2, -0.1].
docs/trace.md walks through the same numbers with pencil and paper.
"""

import argparse

import numpy as np

import seqnn
from seqnn.data import Vocabulary
from seqnn.functional import one_hot
from seqnn.trace import trace_step


def build():
    vocab = Vocabulary("hello")                       # ['e', 'h', 'l', 'o']
    cell = seqnn.RNNCell(input_size=4, hidden_size=2, rng=0)
    cell.W_xh = [[0.1, 0.5, -0.2, 0.0],
                 [0.3, -0.4, 0.2, 0.1]]               # (H, D): column k is token k's input weights
    cell.W_hh = [[0.5, 0.1],
                 [-0.3, 0.8]]                         # (H, H)
    cell.b_h = [0.0, 0.1]                             # (H,)
    out = seqnn.Linear(2, 4, rng=0)
    out.W_hy = [[2.0, 0.0],                           # (V, H): row v scores token v
                [0.0, 1.0],
                [-1.0, 0.5],
                [0.5, -1.0]]
    out.b_y = [0.0, 0.0, 0.0, 0.0]
    return vocab, cell, out


def main(argv=()):
    """Print the step (argv: the command line; only --help is understood)."""
    argparse.ArgumentParser(description=__doc__.split("\n")[0], epilog="No options: the weights and the input are "
                            "fixed, so that every number can be checked by hand (docs/trace.md).").parse_args(argv)
    vocab, cell, out = build()
    x = one_hot(vocab.encode("h"), len(vocab))[0]     # (4,) = [0, 1, 0, 0]
    h_prev = np.array([0.2, -0.1])
    return trace_step(cell, x, h_prev, out=out, labels=vocab.tokens)


if __name__ == "__main__":
    main(None)                                        # None: read sys.argv
