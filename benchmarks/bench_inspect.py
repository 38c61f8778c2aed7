"""How long ``seqnn inspect`` takes on the default model, part by part, beside the model's plain forward pass.

The default model of ``seqnn train`` (2 LSTM layers x 256, float32, the bundled
corpus's 72 characters; random weights: the time does not depend on training)
looks at the first ``--chars`` characters of the bundled book, as ``seqnn
inspect`` does. Each part is timed (median of ``--repeat``):

    forward     the model's own forward over the text, the fast loop: the reference
    record      every layer's h, c and gates, through the readable loop (Recurrent.record)
    saturation  the fraction of saturated steps of every gate and unit
    features    five features of the text, and the correlation of every unit with each
    reach       dE_t/dx_(t-k) for 64 positions, k = 0 .. 100, by the model's backward
    page        the top-5 predictions and index.html

and the ratio of ``record`` to ``forward`` is printed: what naming every value
costs over the fast loop.

    python benchmarks/bench_inspect.py               # a few seconds
    python benchmarks/bench_inspect.py --chars 20000
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

from seqnn import probe
from seqnn.app import inspect as page
from seqnn.data import Vocabulary, read_text
from seqnn.models import CharLM
from seqnn.app.runsetup import corpus_path


def timed(fn, repeat: int):
    times, result = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--chars", type=int, default=3000, help="characters of the book (default: 3000)")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each part; the median (default: 3)")
    args = parser.parse_args()

    text = read_text([corpus_path()])
    vocab = Vocabulary(text)
    text = text[:args.chars]
    ids = vocab.encode(text)
    model = CharLM(len(vocab), 256, "lstm", num_layers=2, dropout=0.3, dtype=np.float32, rng=0, forget_bias=1.0)
    model.eval()

    t_forward, _ = timed(lambda: model.forward(ids[:, None]), args.repeat)
    t_record, acts = timed(lambda: probe.activations(model, ids), args.repeat)
    t_sat, sat = timed(lambda: probe.saturation(acts), args.repeat)
    t_feat, trackers = timed(lambda: probe.feature_units(acts, text), args.repeat)
    t_reach, (curve, reach) = timed(lambda: probe.gradient_reach(model, ids, acts, lags=min(100, len(ids) - 2)),
                                    args.repeat)
    firsts = trackers[:5]
    t_page, _ = timed(lambda: page.render_page(text, acts, firsts, probe.top_predictions(acts, vocab),
                                               page.summary(sat, firsts, {"LSTM": (curve, reach)}), "the book",
                                               []), args.repeat)
    parts = {"forward": t_forward, "record": t_record, "saturation": t_sat, "features": t_feat, "reach": t_reach,
             "page": t_page}
    print(f"default model (2 x 256 LSTM, float32), {len(ids):,} characters; median of {args.repeat}")
    for name, t in parts.items():
        print(f"  {name:<10} {t:7.3f} s")
    total = sum(t for name, t in parts.items() if name != "forward")
    print(f"  {'inspect':<10} {total:7.3f} s (all but the reference forward; plots not included)")
    print(f"record / forward = {t_record / t_forward:.2f} (the readable loop, every value kept, against the fast "
          "loop)")


if __name__ == "__main__":
    main()
