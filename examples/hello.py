"""The lecture's character-level "hello".

Vocabulary {h, e, l, o}, one-hot inputs. The network reads "hell" and must
predict the next character at every step: "ello". The two l's are the point:
after the first "l" the answer is "l", after the second it is "o", so the
model must remember what came before; a feed-forward net on the current
character alone cannot do it.

    python examples/hello.py               # vanilla RNN (tanh)
    python examples/hello.py --cell lstm   # LSTM
"""

from __future__ import annotations

import argparse
import sys
import time

import seqnn
from seqnn.app.options import nonneg_int, positive_int  # the command line's readers: a bad value is one line
from seqnn.data import Vocabulary
from seqnn.models import CharLM
from seqnn.sample import generate

WORD = "hello"


def train(cell: str = "rnn", hidden_size: int = 8, steps: int = 200, lr: float = 0.05, seed: int = 0,
          log_every: int = 20, file=sys.stdout):
    """Train a CharLM on "hello" with full BPTT and SGD; returns (model, vocabulary, losses)."""
    vocab = Vocabulary(WORD)
    ids = vocab.encode(WORD)
    inputs, targets = ids[:-1, None], ids[1:, None]        # (T=4, B=1): "hell" -> "ello"
    model = CharLM(len(vocab), hidden_size, cell=cell, rng=seed)
    opt = seqnn.SGD(model.parameters(), lr=lr, momentum=0.9)
    losses = []
    for step in range(steps):
        logits, _ = model.forward(inputs)                  # (T, B, V)
        loss, dlogits = seqnn.softmax_cross_entropy(logits, targets)
        model.zero_grad()
        model.backward(dlogits)                            # BPTT over the 4 steps
        seqnn.clip_grad_norm(model.parameters(), 5.0)      # clip: its own step
        opt.step()
        losses.append(loss)
        if file is not None and (step % log_every == 0 or step == steps - 1):
            print(f"step {step:4d}  loss {loss:.4f}", file=file)
    return model, vocab, losses


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--cell", choices=["rnn", "lstm", "gru"], default="rnn", help="the recurrent cell")
    parser.add_argument("--hidden", type=positive_int, default=8, help="hidden size H")
    parser.add_argument("--steps", type=positive_int, default=200, help="training steps on 'hello'")
    parser.add_argument("--seed", type=nonneg_int, default=0, help="seeds the initial weights")
    args = parser.parse_args(argv)

    start = time.perf_counter()
    print(f"Training a {args.cell.upper()} with {args.hidden} hidden units on {WORD!r} "
          f"(inputs 'hell', targets 'ello')")
    model, vocab, _ = train(args.cell, args.hidden, args.steps, seed=args.seed)

    generated = generate(model, vocab.encode("h"), len(WORD) - 1, greedy=True)
    print(f"\nfrom 'h' the network generates: {'h' + vocab.decode(generated)!r}")
    following = generate(model, vocab.encode("hel"), 2, greedy=True)
    print(f"after 'hel' it predicts: {vocab.decode(following[:1])!r}, then {vocab.decode(following[1:])!r}")
    print(f"({time.perf_counter() - start:.2f} s)")


if __name__ == "__main__":
    main()
