"""Many-to-many, encoder-decoder: learn to reverse a sequence of digits.

"3 1 4 1 5" -> "5 1 4 1 3". Input and output have different positions for the
same token, so a synced many-to-many network cannot do it: the encoder must
read the whole input into its final state, and the decoder must write the
output from that state alone (Sutskever et al. 2014). Training uses teacher
forcing (the decoder reads the true previous digit); testing uses greedy
decoding (it reads its own previous guess) on 500 fresh random sequences
(there are over a million possible, so nearly all were never seen in training).

    python examples/reverse_seq2seq.py      # about 10 s
"""

from __future__ import annotations

import argparse
import time

import numpy as np

import seqnn
from seqnn.app.options import positive_int  # the command line's readers: a bad value is one line
from seqnn.data import Vocabulary, lengths_to_mask, pad_sequences
from seqnn.models import Seq2Seq
from seqnn.train import train_step

DIGITS = list("0123456789")
VOCAB = Vocabulary(DIGITS, specials=["<pad>", "<bos>", "<eos>"])
PAD, BOS, EOS = 0, 1, 2
TARGET_ACCURACY = 0.9      # whole sequences exactly right, on held-out sequences


def random_batch(B: int, rng, min_len: int = 3, max_len: int = 6):
    """B random digit sequences -> (src (S, B), tgt (T, B) ending in <eos>, src_lengths, tgt_mask)."""
    seqs = [rng.integers(3, 13, rng.integers(min_len, max_len + 1)) for _ in range(B)]   # digit ids 3..12
    src, src_lengths = pad_sequences(seqs, PAD)
    tgt, tgt_lengths = pad_sequences([np.append(s[::-1], EOS) for s in seqs], PAD)
    return src, tgt, src_lengths, lengths_to_mask(tgt_lengths, len(tgt))


def sequence_accuracy(model, src, tgt, src_lengths, mask) -> float:
    pred = model.greedy_decode(src, len(tgt), src_lengths)
    return float(((pred == tgt) | ~mask).all(axis=0).mean())


def train(steps: int = 1000, hidden: int = 64, seed: int = 0, log=print):
    rng = np.random.default_rng(seed)
    model = Seq2Seq(len(VOCAB), len(VOCAB), hidden, cell="gru", embedding_dim=16, bos_id=BOS, eos_id=EOS, rng=seed)
    opt = seqnn.Adam(model.parameters(), lr=0.005)
    test = random_batch(500, np.random.default_rng(seed + 1))
    for step in range(1, steps + 1):
        src, tgt, src_lengths, mask = random_batch(64, rng)
        loss = train_step(model, (src, model.teacher_forcing_inputs(tgt), src_lengths), tgt, mask=mask,
                          optimizer=opt, clip_norm=5.0).loss
        if log and step % 250 == 0:
            log(f"step {step:5d}: loss {loss:.3f}, held-out sequence accuracy {sequence_accuracy(model, *test):.3f}")
    return model, sequence_accuracy(model, *test)


def main(argv=None):
    parser = argparse.ArgumentParser(description="Encoder-decoder: reverse digit sequences.",
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--steps", type=positive_int, default=1000, help="training steps, each on a fresh batch")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    model, acc = train(args.steps)
    for digits in ["314159", "2718", "605"]:
        src = VOCAB.encode(digits)[:, None]
        out = model.greedy_decode(src, len(digits) + 1)[:, 0]
        text = VOCAB.decode(out[out != EOS])
        print(f"  {digits} -> {text}   {'ok' if text == digits[::-1] else 'wrong'}")
    print(f"held-out sequence accuracy {acc:.3f} (target {TARGET_ACCURACY}); {time.perf_counter() - start:.1f} s")


if __name__ == "__main__":
    main()
