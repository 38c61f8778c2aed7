"""Characters per second of char-level LSTM language-model training, two comparisons side by side.

1. seqnn against a per-example, per-gate NumPy LSTM in the style of min-char-rnn
   (written below). Both train an LSTM language model with truncated BPTT (chunks
   of 25 characters), hidden size 128, the same text, Adagrad and clipping. The
   reference works on one example at a time with column vectors and a separate
   matrix per gate, as min-char-rnn and many from-scratch tutorials do; seqnn
   stacks the gates, hoists the input products out of the time loop, and trains a
   batch of streams at once. Rows: seqnn with batch 1 (the same work as the
   reference) and with batch 32.

2. The command-line training path (`seqnn train`: ``runsetup.make_run`` builds the
   model, optimizer and ``StreamTrainer`` exactly as the command does) against a
   PyTorch character model of the same size on the same data: the twin gets
   seqnn's initial weights through ``seqnn.interop`` and reads the same batches
   in the same order (truncated BPTT, state carried and detached, reset at each
   epoch), with Adam and global-norm clipping as in seqnn. PyTorch's second bias
   ``bias_hh`` stays fixed at zero (seqnn has one ``b_h``; training both would
   move PyTorch's effective bias twice as fast). Prints characters per second of
   both, their ratio, and both training losses at equal steps.

    python benchmarks/bench_char.py                  # both, about two minutes
    python benchmarks/bench_char.py --only torch     # just the second
"""

from __future__ import annotations

import argparse
import codecs
import contextlib
import io
import os
import statistics
import time

import sys
from pathlib import Path

import numpy as np

import seqnn
from seqnn.data import Vocabulary, batchify
from seqnn.models import CharLM
from seqnn.train import truncated_bptt

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "experiments"))

K = 25          # truncation length
HIDDEN = 128


def corpus() -> str:
    with contextlib.redirect_stdout(io.StringIO()):     # importing `this` prints the Zen of Python
        import this
    return codecs.decode(this.s, "rot13") * 20          # the Zen of Python, ~17k characters


class MinCharLSTM:
    """A per-example LSTM language model in the style of min-char-rnn: column vectors,
    one matrix per gate acting on the concatenation [h; x], Adagrad, value clipping."""

    def __init__(self, V, H, rng):
        self.V, self.H = V, H
        n = H + V
        self.p = {name: rng.standard_normal((H, n)) * 0.01 for name in ("Wf", "Wi", "Wg", "Wo")}
        self.p.update(bf=np.zeros((H, 1)), bi=np.zeros((H, 1)), bg=np.zeros((H, 1)), bo=np.zeros((H, 1)),
                      Wy=rng.standard_normal((V, H)) * 0.01, by=np.zeros((V, 1)))
        self.mem = {k: np.zeros_like(v) for k, v in self.p.items()}

    def step(self, inputs, targets, h, c, lr=0.1):
        p, V, H = self.p, self.V, self.H
        hs, cs, zs, f, i, g, o, ps = {-1: h}, {-1: c}, {}, {}, {}, {}, {}, {}
        loss = 0.0
        for t, (ix, iy) in enumerate(zip(inputs, targets)):
            x = np.zeros((V, 1))
            x[ix] = 1
            zs[t] = np.vstack([hs[t - 1], x])
            f[t] = 1 / (1 + np.exp(-(p["Wf"] @ zs[t] + p["bf"])))
            i[t] = 1 / (1 + np.exp(-(p["Wi"] @ zs[t] + p["bi"])))
            g[t] = np.tanh(p["Wg"] @ zs[t] + p["bg"])
            o[t] = 1 / (1 + np.exp(-(p["Wo"] @ zs[t] + p["bo"])))
            cs[t] = f[t] * cs[t - 1] + i[t] * g[t]
            hs[t] = o[t] * np.tanh(cs[t])
            y = p["Wy"] @ hs[t] + p["by"]
            ps[t] = np.exp(y - y.max()) / np.exp(y - y.max()).sum()
            loss -= np.log(ps[t][iy, 0])
        d = {k: np.zeros_like(v) for k, v in p.items()}
        dh_next, dc_next = np.zeros((H, 1)), np.zeros((H, 1))
        for t in reversed(range(len(inputs))):
            dy = ps[t].copy()
            dy[targets[t]] -= 1
            d["Wy"] += dy @ hs[t].T
            d["by"] += dy
            dh = p["Wy"].T @ dy + dh_next
            tc = np.tanh(cs[t])
            do = dh * tc * o[t] * (1 - o[t])
            dc = dh * o[t] * (1 - tc ** 2) + dc_next
            df = dc * cs[t - 1] * f[t] * (1 - f[t])
            di = dc * g[t] * i[t] * (1 - i[t])
            dg = dc * i[t] * (1 - g[t] ** 2)
            dz = np.zeros_like(zs[t])
            for W, b, dgate in (("Wf", "bf", df), ("Wi", "bi", di), ("Wg", "bg", dg), ("Wo", "bo", do)):
                d[W] += dgate @ zs[t].T
                d[b] += dgate
                dz += p[W].T @ dgate
            dh_next, dc_next = dz[:H], f[t] * dc
        for k in p:
            np.clip(d[k], -5, 5, out=d[k])
            self.mem[k] += d[k] * d[k]
            p[k] -= lr * d[k] / np.sqrt(self.mem[k] + 1e-8)
        return loss / len(inputs), hs[len(inputs) - 1], cs[len(inputs) - 1]


def chars_per_second_reference(ids, V, seconds):
    model = MinCharLSTM(V, HIDDEN, np.random.default_rng(0))
    h, c = np.zeros((HIDDEN, 1)), np.zeros((HIDDEN, 1))
    done, start, pos = 0, time.perf_counter(), 0
    while time.perf_counter() - start < seconds:
        if pos + K + 1 >= len(ids):
            pos, h, c = 0, np.zeros((HIDDEN, 1)), np.zeros((HIDDEN, 1))
        _, h, c = model.step(ids[pos:pos + K], ids[pos + 1:pos + K + 1], h, c)
        pos += K
        done += K
    return done / (time.perf_counter() - start)


def chars_per_second_seqnn(ids, V, B, seconds, dtype):
    data = batchify(ids, B)
    model = CharLM(V, HIDDEN, cell="lstm", dtype=dtype, rng=0)
    opt = seqnn.Adagrad(model.parameters(), lr=0.1)
    done, start, state = 0, time.perf_counter(), None
    while time.perf_counter() - start < seconds:
        history = truncated_bptt(model, data[:-1], data[1:], K, optimizer=opt, clip_norm=5.0, state=state)
        state = history.state
        done += (len(data) - 1) * B
    return done / (time.perf_counter() - start)


def against_min_char_rnn(args):
    text = corpus()
    vocab = Vocabulary(text)
    ids = vocab.encode(text)
    print(f"text: {len(text)} characters, vocabulary {len(vocab)}, hidden {HIDDEN}, chunks of {K}")
    rows = [("min-char-rnn style, batch 1, float64", lambda: chars_per_second_reference(ids, len(vocab), args.seconds))]
    for B, dtype in ((1, np.float64), (32, np.float64), (32, np.float32)):
        rows.append((f"seqnn CharLM, batch {B}, {np.dtype(dtype)}",
                     lambda B=B, dtype=dtype: chars_per_second_seqnn(ids, len(vocab), B, args.seconds, dtype)))
    results = {}
    for _ in range(args.rounds):                          # alternate the rows, median of the rounds
        for name, run in rows:
            time.sleep(0.3)
            results.setdefault(name, []).append(run())
    base = statistics.median(results[rows[0][0]])
    print(f"{'':40} {'chars/s':>10} {'x reference':>12}")
    for name, _ in rows:
        cps = statistics.median(results[name])
        print(f"{name:40} {cps:10.0f} {cps / base:12.1f}")


# --- 2. the command-line training path against PyTorch ---------------------------------------------------------
def against_torch(args):
    try:
        import torch
    except ImportError:
        print("torch is not installed: pip install torch==2.13.0 for the comparison with PyTorch")
        return
    from char_lm import TorchStreamTrainer                 # experiments/char_lm.py: the twin of a StreamTrainer

    from seqnn.app import options, runsetup

    threads = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    torch.set_num_threads(threads)
    opts = options.new_options(dict(cell="lstm", hidden=args.hidden, layers=1, seq_len=args.seq_len,
                                    batch=args.batch, dtype="float32"))    # seqnn train's defaults otherwise
    run = runsetup.make_run(opts, [])                           # the bundled corpus, as `seqnn train` reads it
    trainer, model = run.trainer, run.model
    twin = TorchStreamTrainer(trainer)                     # same weights, same batches, bias_hh kept at zero
    k, cpe = trainer.k, trainer.chunks_per_epoch
    torch_step = twin.step

    print(f"\nseqnn train's path vs PyTorch {torch.__version__} ({threads} threads): LSTM, hidden {args.hidden}, "
          f"seq-len {k}, batch {args.batch}, float32, one-hot input over {model.vocab_size} characters, Adam "
          f"{opts['lr']}, clip {opts['clip']}; the bundled corpus, {cpe} steps per epoch; {args.steps} steps each")
    times = {"seqnn": [], "torch": []}
    losses = {"seqnn": [], "torch": []}
    block = 20                                             # alternate blocks of steps, a pause before each
    while len(losses["seqnn"]) < args.steps:
        n = min(block, args.steps - len(losses["seqnn"]))
        for name, step in (("seqnn", lambda: trainer.step()[0]), ("torch", torch_step)):
            time.sleep(0.3)                                # let the other library's spinning threads settle
            for _ in range(n):
                t0 = time.perf_counter()
                losses[name].append(step())
                times[name].append(time.perf_counter() - t0)
    chars = k * args.batch
    cps = {name: chars / statistics.median(t) for name, t in times.items()}
    print(f"{'':10} {'chars/s':>10} {'ms/step':>9}")
    for name in ("seqnn", "torch"):
        print(f"{name:10} {cps[name]:10.0f} {1000 * statistics.median(times[name]):9.1f}")
    print(f"time per character, seqnn / torch: {cps['torch'] / cps['seqnn']:.2f}  (target: at most 1.3)")
    print(f"{'step':>6} {'seqnn loss':>11} {'torch loss':>11} {'|diff|':>9}")
    for step in sorted({1, 10, 50, 100, 150, args.steps} & set(range(1, args.steps + 1))):
        a, b = losses["seqnn"][step - 1], losses["torch"][step - 1]
        print(f"{step:6d} {a:11.5f} {b:11.5f} {abs(a - b):9.2e}")
    worst = max(abs(a - b) for a, b in zip(losses["seqnn"], losses["torch"]))
    print(f"largest |diff| over all {args.steps} steps: {worst:.2e} nats (target after 200 steps: within 0.02)")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--only", choices=["min-char-rnn", "torch"], help="run one comparison (default: both)")
    parser.add_argument("--seconds", type=float, default=3.0, help="min-char-rnn: training time per measurement")
    parser.add_argument("--rounds", type=int, default=3, help="min-char-rnn: measurements per row (median reported)")
    parser.add_argument("--steps", type=int, default=200, help="torch: training steps of each library")
    parser.add_argument("--hidden", type=int, default=256, help="torch: hidden size")
    parser.add_argument("--seq-len", type=int, default=100, help="torch: truncation length")
    parser.add_argument("--batch", type=int, default=32, help="torch: parallel streams")
    args = parser.parse_args(argv)
    if args.only != "torch":
        against_min_char_rnn(args)
    if args.only != "min-char-rnn":
        against_torch(args)


if __name__ == "__main__":
    main()
