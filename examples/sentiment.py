"""Many-to-one: is a short review positive or negative?

The sentences come from a small grammar written below: a subject, a verb, an
optional intensifier, an optional "not", and an adjective. Negation is the
point: "the movie was not bad" is positive although "bad" is a negative word,
so a bag of words cannot solve it; the model must read the words in order.
Every combination is generated. The test set holds a random 15 % of them plus
every sentence with "not quite": the model never sees that phrase while it
trains, so it must compose "not" and "quite" on its own.

    python examples/sentiment.py            # LSTM, about a second
    python examples/sentiment.py --cell gru
"""

from __future__ import annotations

import argparse
import itertools
import time

import numpy as np

import seqnn
from seqnn.app.options import positive_int  # the command line's readers: a bad value is one line
from seqnn.data import Vocabulary, minibatches, pad_sequences
from seqnn.models import SequenceClassifier
from seqnn.train import train_step

SUBJECTS = ["the movie", "the food", "this book", "the service", "the plot", "our trip", "the hotel"]
VERBS = ["was", "is", "felt", "seemed"]
INTENSIFIERS = ["", "really", "very", "quite"]
POSITIVE = ["good", "great", "wonderful", "fun", "lovely"]
NEGATIVE = ["bad", "boring", "awful", "terrible", "dull"]
TARGET_ACCURACY = 0.95


def make_dataset(seed: int = 0):
    """All sentences of the grammar with labels (1 positive, 0 negative) -> (train, test).

    Test: every "not quite ..." sentence (never seen in training) and a random 15 % of the rest.
    """
    sentences, labels, held_out = [], [], []
    for subj, verb, adv, neg, adj in itertools.product(SUBJECTS, VERBS, INTENSIFIERS, ["", "not"],
                                                       POSITIVE + NEGATIVE):
        sentences.append(" ".join(w for w in (subj, verb, neg, adv, adj) if w).split())
        labels.append(int((adj in POSITIVE) != (neg == "not")))      # "not" flips the meaning
        held_out.append(neg == "not" and adv == "quite")
    rng = np.random.default_rng(seed)
    test = np.array(held_out) | (rng.random(len(sentences)) < 0.15)
    labels = np.array(labels)
    pick = lambda mask: ([s for s, m in zip(sentences, mask) if m], labels[mask])   # noqa: E731
    return pick(~test), pick(test)


def encode(vocab, sentences):
    return pad_sequences([vocab.encode(s) for s in sentences])         # ids (T, B), lengths (B,)


def accuracy(model, vocab, sentences, labels) -> float:
    ids, lengths = encode(vocab, sentences)
    return float((model.predict(ids, lengths) == labels).mean())


def train(cell: str = "lstm", epochs: int = 6, hidden: int = 16, seed: int = 0, log=print):
    (train_x, train_y), (test_x, test_y) = make_dataset(seed)
    vocab = Vocabulary(itertools.chain.from_iterable(train_x + test_x), specials=["<pad>"])
    model = SequenceClassifier(len(vocab), 2, hidden, cell=cell, embedding_dim=16, rng=seed)
    opt = seqnn.Adam(model.parameters(), lr=0.01)
    rng = np.random.default_rng(seed)
    for epoch in range(epochs):
        losses = []
        for idx in minibatches(len(train_x), 32, rng):
            ids, lengths = encode(vocab, [train_x[i] for i in idx])
            loss = train_step(model, (ids, lengths), train_y[idx], optimizer=opt, clip_norm=5.0).loss
            losses.append(loss)
        if log:
            log(f"epoch {epoch + 1}: loss {np.mean(losses):.3f}, "
                f"test accuracy {accuracy(model, vocab, test_x, test_y):.3f}")
    return model, vocab, accuracy(model, vocab, test_x, test_y)


def main(argv=None):
    parser = argparse.ArgumentParser(description="Many-to-one sentiment classification with negation.",
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--cell", choices=["rnn", "lstm", "gru"], default="lstm", help="the recurrent cell")
    parser.add_argument("--epochs", type=positive_int, default=6, help="passes over the training sentences")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    (train_x, _), (test_x, _) = make_dataset()
    print(f"{len(train_x)} training and {len(test_x)} test sentences, e.g. {' '.join(train_x[0])!r}")
    model, vocab, acc = train(args.cell, args.epochs)
    for sentence in ["the movie was not bad", "the food was really good", "this book is not very fun"]:
        ids, lengths = encode(vocab, [sentence.split()])
        print(f"  {sentence!r:32} -> {['negative', 'positive'][int(model.predict(ids, lengths)[0])]}")
    (_, _), (test_x, test_y) = make_dataset()
    unseen = [k for k, words in enumerate(test_x) if "not quite" in " ".join(words)]
    unseen_acc = accuracy(model, vocab, [test_x[k] for k in unseen], test_y[unseen])
    print(f"test accuracy {acc:.3f} (target {TARGET_ACCURACY}); on the {len(unseen)} 'not quite' "
          f"sentences, a phrase never seen in training: {unseen_acc:.3f}")
    print(f"({time.perf_counter() - start:.1f} s)")


if __name__ == "__main__":
    main()
