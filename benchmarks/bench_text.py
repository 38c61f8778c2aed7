"""How long a big text takes to reach the first training step, and how much memory it needs on the way.

For each size (1, 10 and 50 MB by default) a text is made by repeating the
bundled corpus with two non-ASCII characters in it (an em dash and an e with
an acute accent, as a Project Gutenberg text has), so that Python holds it two
bytes per character, as it would a real book. Each size runs in a fresh process
(peak memory is the process's own: ``ru_maxrss``, numpy included), which does
what ``seqnn train`` does before its first step, timed part by part:

    read      read_text: the bytes, decoded, line endings normalised
    hash      sha256 of the text (once; a resume and evaluate compare it)
    vocab     Vocabulary(text): the distinct characters
    encode    the text as ids
    build     split, batchify, the default model (2 x 256 LSTM), Adam, StreamTrainer
    step      the first training step (batch 32 x 100 characters)

``--resume`` and ``seqnn evaluate`` pay read + hash + encode (the vocabulary
comes from the checkpoint). Each size runs ``--repeat`` times (3), each in a new
process, and the median of each part is shown. Prints MB/s of the text work,
seconds to the first step counted two ways (from the moment the process starts,
as a person running ``seqnn train big.txt`` waits, interpreter and imports
included; and from the text's first byte), the peak memory, and the ratio of the
largest size to the smallest both ways (the goal: at most 4x, peak under 600 MB).

    python benchmarks/bench_text.py                  # 1, 10, 50 MB; about a minute
    python benchmarks/bench_text.py --sizes 1 10 --repeat 1     # quicker
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time


def make_text(path: str, megabytes: float) -> None:
    from seqnn.app.runsetup import corpus_path
    base = corpus_path().read_text(encoding="utf-8").replace("--", "\u2014").replace("cafe", "caf\u00e9")
    target = int(megabytes * 1_000_000)
    data = base.encode("utf-8")
    with open(path, "wb") as f:
        written = 0
        while written < target:
            piece = data[:target - written]
            piece = piece[:len(piece.decode("utf-8", errors="ignore").encode("utf-8"))]   # whole characters
            f.write(piece)
            written += len(piece)


def child(path: str) -> None:
    """One size, in this fresh process: the parts of reaching the first step, timed."""
    import numpy as np

    from seqnn.data import Vocabulary, batchify, read_text
    from seqnn.models import CharLM
    from seqnn.optim import Adam
    from seqnn.app.options import new_options
    from seqnn.app.runsetup import encode_known, sha256, split
    from seqnn.train import StreamTrainer

    opts = new_options({"steps": 1})
    times = {}
    t = time.perf_counter()

    def lap(name):
        nonlocal t
        now = time.perf_counter()
        times[name], t = now - t, now

    text = read_text([path])
    lap("read")
    sha256(text)
    lap("hash")
    vocab = Vocabulary(text)
    lap("vocab")
    ids = encode_known(vocab, text, "TEXT")
    lap("encode")
    train_ids, _ = split(ids, opts["val_fraction"], opts["batch"], opts["seq_len"])
    model = CharLM(len(vocab), opts["hidden"], opts["cell"], num_layers=opts["layers"], dropout=opts["dropout"],
                   dtype=np.float32, rng=opts["seed"], forget_bias=1.0)
    trainer = StreamTrainer(model, batchify(train_ids, opts["batch"]), opts["seq_len"],
                            Adam(model.parameters(), lr=opts["lr"]), opts["clip"])
    lap("build")
    trainer.step()
    lap("step")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * (1 if sys.platform == "darwin" else 1024)
    print(json.dumps({"chars": len(text), "dtype": str(ids.dtype), "times": times, "peak": peak,
                      "first_step_at": time.time()}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=float, nargs="+", default=[1, 10, 50], help="text sizes in MB "
                        "(default: 1 10 50)")
    parser.add_argument("--repeat", type=int, default=3, help="processes per size; the median is shown "
                        "(default: 3)")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return child(args.child)
    parts = ("read", "hash", "vocab", "encode", "build", "step")
    print(f"{'MB':>5} {'chars':>11} {'ids':>6} | " + " ".join(f"{p:>6}" for p in parts) +
          f" | {'text MB/s':>9} {'to step s':>9} {'from start s':>12} {'resume s':>8} | {'peak MB':>7}")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for mb in args.sizes:
            path = os.path.join(tmp, f"text-{mb:g}MB.txt")
            make_text(path, mb)
            runs = []
            for _ in range(args.repeat):
                started = time.time()
                out = subprocess.run([sys.executable, __file__, "--child", path], capture_output=True, text=True,
                                     check=True).stdout
                r = json.loads(out.strip().splitlines()[-1])
                r["from_start"] = r["first_step_at"] - started
                runs.append(r)
            tm = {p: statistics.median(r["times"][p] for r in runs) for p in parts}
            total = statistics.median(sum(r["times"].values()) for r in runs)
            from_start = statistics.median(r["from_start"] for r in runs)
            peak = max(r["peak"] for r in runs)
            text_s = tm["read"] + tm["hash"] + tm["vocab"] + tm["encode"]
            resume = tm["read"] + tm["hash"] + tm["encode"]
            rows.append((mb, total, from_start, peak))
            print(f"{mb:>5g} {runs[0]['chars']:>11,} {runs[0]['dtype']:>6} | " + " ".join(f"{tm[p]:>6.2f}" for p in
                  parts) + f" | {os.path.getsize(path) / 1e6 / text_s:>9.0f} {total:>9.2f} {from_start:>12.2f} "
                  f"{resume:>8.2f} | {peak / 1e6:>7.0f}", flush=True)
    if len(rows) > 1:
        (small, t_small, s_small, _), (big, t_big, s_big, peak_big) = min(rows), max(rows)
        print(f"\n{big:g} MB reaches the first step in {s_big / s_small:.2f}x the time {small:g} MB does, from the "
              f"process's start ({t_big / t_small:.2f}x from the text's first byte; the goal: at most 4x); its peak "
              f"memory is {peak_big / 1e6:.0f} MB (the goal: under 600 MB)")


if __name__ == "__main__":
    main()
