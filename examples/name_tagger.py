"""Many-to-many (synced): mark which words of a sentence are people's names.

As in the lecture's named-entity example, the tag of a word depends on its
context, not only on the word: "will" is a name in "will met alice" and a verb
in "alice will visit rome"; "june" is a name in "june called bob" and a month in
"bob arrives in june". The test sentences also use names never seen in
training: they reach the model as the unknown token <unk>, so only the context
can tell. A bidirectional LSTM reads the sentence both ways, so each tag sees
the words before and after it.

    python examples/name_tagger.py          # a few seconds
"""

from __future__ import annotations

import argparse
import time

import numpy as np

import seqnn
from seqnn.app.options import positive_int  # the command line's readers: a bad value is one line
from seqnn.data import Vocabulary, lengths_to_mask, minibatches, pad_sequences
from seqnn.models import SequenceTagger
from seqnn.train import train_step

TEMPLATES = [
    "N met N in C", "yesterday N called N", "N will visit C on D", "N may call N on D",
    "we saw N and N in C", "N arrives in june", "in june N moved to C", "N said that N will come",
    "the letter from N reached C", "N and N may travel to C in june", "on D N will meet N",
    "N thinks it may rain in C",
]
TRAIN_NAMES = ["alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi", "ivan", "judy",
               "oscar", "peggy", "trent", "victor", "walter", "will", "may", "june"]
NEW_NAMES = ["nina", "omar", "paula", "quinn", "rosa", "sam"]        # never seen in training
CITIES = ["paris", "london", "rome", "berlin", "madrid", "oslo"]
DAYS = ["monday", "tuesday", "friday", "sunday"]
TARGET_ACCURACY = 0.95


def make_sentences(n: int, names, rng):
    """n sentences from the templates: (list of word lists, list of 0/1 tag arrays; 1 = a name)."""
    sentences, tags = [], []
    for _ in range(n):
        words, labels = [], []
        for slot in TEMPLATES[rng.integers(len(TEMPLATES))].split():
            pool = {"N": names, "C": CITIES, "D": DAYS}.get(slot)
            words.append(pool[rng.integers(len(pool))] if pool else slot)
            labels.append(int(slot == "N"))
        sentences.append(words)
        tags.append(np.array(labels))
    return sentences, tags


def encode(vocab, sentences, unk_rate: float = 0.0, rng=None):
    """Words -> padded ids; unknown words (and, in training, a few random ones) -> <unk>."""
    unk = vocab.index["<unk>"]
    seqs = []
    for words in sentences:
        ids = np.array([vocab.index.get(w, unk) for w in words])
        if unk_rate:
            ids[rng.random(len(ids)) < unk_rate] = unk                 # teaches the model to use context
        seqs.append(ids)
    return pad_sequences(seqs)


def evaluate(model, vocab, sentences, tags):
    """Token accuracy, and the fraction of name tokens found."""
    ids, lengths = encode(vocab, sentences)
    gold, _ = pad_sequences(tags, pad_id=-1)
    pred = model.predict(ids, lengths)
    real = gold >= 0
    return float((pred == gold)[real].mean()), float((pred == 1)[gold == 1].mean())


def train(epochs: int = 8, seed: int = 0, log=print):
    rng = np.random.default_rng(seed)
    train_x, train_y = make_sentences(1200, TRAIN_NAMES, rng)
    test_x, test_y = make_sentences(300, TRAIN_NAMES + NEW_NAMES * 3, rng)   # many unseen names
    vocab = Vocabulary([w for s in train_x for w in s], specials=["<pad>", "<unk>"])
    model = SequenceTagger(len(vocab), 2, 24, cell="lstm", embedding_dim=16, bidirectional=True, rng=seed)
    opt = seqnn.Adam(model.parameters(), lr=0.01)
    for epoch in range(epochs):
        losses = []
        for idx in minibatches(len(train_x), 32, rng):
            ids, lengths = encode(vocab, [train_x[i] for i in idx], unk_rate=0.15, rng=rng)
            tags, _ = pad_sequences([train_y[i] for i in idx])
            loss = train_step(model, (ids, lengths), tags, mask=lengths_to_mask(lengths, len(ids)),
                              optimizer=opt, clip_norm=5.0).loss
            losses.append(loss)
        if log:
            acc, found = evaluate(model, vocab, test_x, test_y)
            log(f"epoch {epoch + 1}: loss {np.mean(losses):.3f}, test token accuracy {acc:.3f}, "
                f"names found {found:.3f}")
    return model, vocab, evaluate(model, vocab, test_x, test_y)


def main(argv=None):
    parser = argparse.ArgumentParser(description="Many-to-many tagging: which words are names?",
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--epochs", type=positive_int, default=8, help="passes over the training sentences")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    model, vocab, (acc, found) = train(args.epochs)
    for sentence in ["will met june in rome", "june will visit oslo on friday", "nina arrives in june",
                     "yesterday omar called may"]:
        words = sentence.split()
        ids, lengths = encode(vocab, [words])
        tags = model.predict(ids, lengths)[:, 0]
        print("  " + " ".join(w.upper() if t == 1 else w for w, t in zip(words, tags)) + "   (NAMES in capitals)")
    print(f"test token accuracy {acc:.3f} (target {TARGET_ACCURACY}), names found {found:.3f}; "
          f"{time.perf_counter() - start:.1f} s")


if __name__ == "__main__":
    main()
