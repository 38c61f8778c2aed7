"""How long ``seqnn inspect`` takes on the default model, part by part, how large its page is, and how much memory
it needs against its own estimate.

The default model of ``seqnn train`` (2 LSTM layers x 256, float32, the bundled
corpus's 72 characters; one training step: the time does not depend on
training) looks at the first ``--chars`` characters of the book, given as TEXT
(its validation split holds only 7,424). Each part is timed (median of ``--repeat``), beside the
model's plain forward pass:

    forward       the model's own forward over the text, the fast loop: the reference
    record        every layer's h, c and gates, through the readable loop (Recurrent.record)
    units         the units chosen on one half and measured on the other, beside the control and shuffles
    connectivity  ||dE_t/dx_(t-k)|| for every position and k = 0 .. --lags, by the model's backward
    n-grams       1- to 5-gram models of the training text, and each character's loss under them

Then the whole command once as it runs, and once more under ``tracemalloc``
(numpy's arrays are traced): its peak memory beside the estimate it prints
(``seqnn.app.inspect.memory_estimate``), and the page's size.

    python benchmarks/bench_inspect.py                   # about a minute
    python benchmarks/bench_inspect.py --chars 20000     # about ten minutes on 2 cores
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
import tracemalloc
from importlib import resources

from seqnn import ngram, probe
from seqnn.app import inspect as look
from seqnn.app.cli import main as seqnn
from seqnn.app.folder import load_charlm
from seqnn.app.runsetup import corpus_path, text_splits, untrained_like
from seqnn.data import read_text


def timed(fn, repeat: int):
    times, result = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--chars", type=int, default=3000, help="characters of the validation text (default: 3000)")
    parser.add_argument("--lags", type=int, default=50, help="characters back (default: 50, as seqnn inspect)")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each fast part; the median (default: 3)")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp, resources.as_file(corpus_path()) as book:
        run = os.path.join(tmp, "run")
        assert seqnn(["train", "--steps", "1", "--out", run, "--quiet"]) == 0
        model, vocab, training, used, _ = load_charlm(run)
        train_ids = text_splits(vocab, training, used)[0]
        text = read_text([book])[:args.chars]                  # the book's start: the validation split is shorter
        ids = vocab.encode(text)
        control = untrained_like(model, training, used)

        t_forward, _ = timed(lambda: model.forward(ids[:, None]), args.repeat)
        t_record, acts = timed(lambda: probe.activations(model, ids), args.repeat)
        acts0 = probe.activations(control, ids)
        t_units, _ = timed(lambda: probe.unit_claims(acts, acts0, text), args.repeat)
        t_conn, _ = timed(lambda: probe.connectivity(model, ids, acts, args.lags), 1)
        t_ngram, _ = timed(lambda: ngram.ngram_losses(train_ids, ids, len(vocab)), args.repeat)
        acts = acts0 = None

        def command():
            return look.inspect(run, [str(book)], chars=args.chars, lags=args.lags, out=os.path.join(tmp, "page"))
        t_all, _ = timed(command, 1)
        tracemalloc.start()
        lines = command()
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        page = os.path.getsize(os.path.join(tmp, "page", "index.html"))
        estimate = float(next(line for line in lines if line.startswith("memory")).split()[2]) * 2 ** 20

    parts = {"forward": t_forward, "record": t_record, "units": t_units, "connectivity": t_conn, "n-grams": t_ngram}
    print(f"default model (2 x 256 LSTM, float32), {len(ids):,} characters, {args.lags} lags back; "
          f"median of {args.repeat} (connectivity: once)")
    for name, t in parts.items():
        print(f"  {name:<13} {t:8.3f} s")
    print(f"  {'inspect':<13} {t_all:8.3f} s: the whole command (the control's record and connectivity, the "
          "page and the plots included)")
    print(f"record / forward = {t_record / t_forward:.2f} (the readable loop, every value kept, against the fast loop)")
    print(f"connectivity: {t_conn / (len(ids) - 1) * 1e3:.2f} ms a position, {args.lags + 1} steps forward and "
          "back each")
    print(f"page: {page / 2 ** 20:.2f} MiB ({page / len(ids):.0f} bytes a character)")
    print(f"peak memory (tracemalloc, a second run of the command): {peak / 2 ** 20:.0f} MiB; its estimate "
          f"{estimate / 2 ** 20:.0f} MiB; peak / estimate = {peak / estimate:.2f}")


if __name__ == "__main__":
    main()
