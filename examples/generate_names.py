"""One-to-many: a character-level LSTM learns names, then invents new ones.

90 % of the names are joined into one stream separated by newlines and learned with
truncated BPTT (chunks of 20 characters, the state carried from chunk to
chunk). Generation starts from a newline and samples one character at a time,
feeding each back in, until the next newline. Temperature sets the boldness:
low gives safe, common-looking names; high gives strange ones. The other 10 %
measure how well the model predicts names it has never seen (perplexity).

    python examples/generate_names.py       # a few seconds
"""

from __future__ import annotations

import argparse
import math
import time

import numpy as np

import seqnn
from seqnn.app.options import nonneg_int, positive_int  # the command line's readers: a bad value is one line
from seqnn.data import Vocabulary, batchify
from seqnn.models import CharLM
from seqnn.sample import generate
from seqnn.train import truncated_bptt

NAMES = """
amelia olivia isla emily poppy ava isabella jessica lily sophie grace sophia mia evie ruby ella
scarlett isabelle chloe sienna freya phoebe charlotte daisy alice florence eva sofia millie lucy
evelyn elsie rosie imogen lola matilda elizabeth layla holly lilly molly erin ellie maisie maya
abigail eliza georgia jasmine esme willow bella annabelle ivy amber emilia emma summer hannah eleanor
harriet rose amelie lexi megan gracie zara lacey martha anna violet darcey maria maryam brooke
aisha katie leah thea darcie hollie amy mollie heidi lottie bethany francesca faith harper nancy
beatrice isabel darcy lydia sarah sara julia victoria zoe robyn oliver jack harry jacob charlie
thomas george oscar james william noah alfie joshua muhammad henry leo archie ethan joseph freddie
samuel alexander logan daniel isaac max mohammed benjamin mason lucas edward harrison jake dylan
riley finley theo sebastian adam zachary arthur toby jayden luke harley lewis tyler harvey matthew
david reuben michael elijah kian tommy mohammad blake luca theodore stanley jenson nathan charles
frankie jude teddy louie louis ryan hugo bobby elliott dexter ollie alex liam kai gabriel connor
aaron frederick callum elliot albert leon ronnie rory jamie austin seth ibrahim owen caleb ellis
sonny robert joey felix finlay jackson
""".split()
TARGET_PERPLEXITY = 11.0    # on held-out names; knowing nothing scores 26 (the vocabulary), letters alone ~16


def stream(names) -> str:
    return "\n" + "\n".join(names) + "\n"


def perplexity(model, vocab, names) -> float:
    """exp(mean cross-entropy) of predicting every character of ``names`` (one stream, B = 1)."""
    ids = vocab.encode(stream(names))[:, None]
    logits, _ = model.forward(ids[:-1])
    return math.exp(seqnn.softmax_cross_entropy(logits, ids[1:])[0])


def unigram_perplexity(training, held_out) -> float:
    """The baseline that ignores order: predict every character from letter frequencies alone."""
    counts = {}
    for ch in stream(training)[1:]:
        counts[ch] = counts.get(ch, 0) + 1
    total = sum(counts.values())
    text = stream(held_out)[1:]
    return math.exp(-sum(math.log(counts.get(ch, 0.5) / total) for ch in text) / len(text))


def split_names(seed: int):
    order = np.random.default_rng(seed).permutation(len(NAMES))
    return [NAMES[i] for i in order[len(NAMES) // 10:]], [NAMES[i] for i in order[:len(NAMES) // 10]]


def train(epochs: int = 25, hidden: int = 32, seed: int = 0, log=print):
    """Train on 90 % of the names; return (model, vocab, perplexity on the other 10 %)."""
    training, held_out = split_names(seed)
    vocab = Vocabulary(stream(NAMES))
    data = batchify(vocab.encode(stream(training)), 8)               # 8 parallel streams, (T, 8)
    model = CharLM(len(vocab), hidden, cell="lstm", forget_bias=1.0, rng=seed)
    opt = seqnn.Adam(model.parameters(), lr=0.01)
    state = None
    for epoch in range(epochs):
        history = truncated_bptt(model, data[:-1], data[1:], k=20, optimizer=opt, clip_norm=5.0, state=state)
        state = history.state                                        # the streams go on where they stopped
        if log and (epoch % 5 == 4 or epoch == 0):
            log(f"epoch {epoch + 1:2d}: training loss {np.mean(history.losses):.3f}, "
                f"held-out perplexity {perplexity(model, vocab, held_out):.2f}")
    return model, vocab, perplexity(model, vocab, held_out)


def sample_names(model, vocab, n: int, temperature: float, rng) -> list[str]:
    names = []
    for _ in range(n):
        ids = generate(model, vocab.encode("\n"), 12, temperature=temperature, rng=rng)
        names.append(vocab.decode(ids).split("\n")[0])
    return names


def main(argv=None):
    parser = argparse.ArgumentParser(description="One-to-many: generate names with an LSTM.",
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--epochs", type=positive_int, default=25, help="passes over the list of names")
    parser.add_argument("--seed", type=nonneg_int, default=0, help="seeds the weights, the batches and the samples")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    model, vocab, held_out_perplexity = train(args.epochs, seed=args.seed)
    rng = np.random.default_rng(args.seed)
    for temperature in (0.5, 1.0, 1.5):
        names = sample_names(model, vocab, 8, temperature, rng)
        new = sum(name not in NAMES for name in names)
        print(f"temperature {temperature}: {', '.join(names)}   ({new} of 8 not in the training list)")
    print(f"held-out perplexity {held_out_perplexity:.2f} (target < {TARGET_PERPLEXITY}; knowing nothing "
          f"gives {len(vocab)}, letter frequencies alone {unigram_perplexity(*split_names(args.seed)):.2f}); "
          f"{time.perf_counter() - start:.1f} s")


if __name__ == "__main__":
    main()
