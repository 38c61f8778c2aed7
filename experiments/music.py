"""Music generation, measured: how many of the tunes a network writes are well formed, untrained and after 1, 5
and 20 minutes of `seqnn train --corpus tunes`, and in the MIT lab's setting; their bits per character beside the
book's; and two generated tunes as ABC, WAV and a piano roll for docs/music.md.

    python experiments/music.py train RUNS      # the runs, into the folder RUNS (about an hour on 2 cores: two
                                                # at a time, each on one core with one BLAS thread)
    python experiments/music.py measure RUNS    # the table (100 tunes from each model), and with --docs the
                                                # tunes and the figure in docs/

The runs, as `seqnn train` makes them (the defaults: a 2 x 256 LSTM, dropout 0.3, --seq-len 100, --batch 32,
Adam 0.005, float32): --minutes 1, 5 and 20 on the tunes; the MIT lab's setting, one LSTM layer of 1024 units,
--batch 8, --seq-len 100, --lr 0.005, 3,000 steps (the lab also embeds the characters in 256 dimensions, which
`seqnn train` does not: its input is one-hot, 83 wide); and the book (--minutes 5) for its bits per character.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
SEQNN = [sys.executable, "-m", "seqnn"]
RUNS = {                             # folder -> seqnn train's options
    "tunes-1min": ["--corpus", "tunes", "--minutes", "1"],
    "tunes-5min": ["--corpus", "tunes", "--minutes", "5"],
    "tunes-20min": ["--corpus", "tunes", "--minutes", "20"],
    "mit-setting": ["--corpus", "tunes", "--layers", "1", "--hidden", "1024", "--batch", "8", "--seq-len", "100",
                    "--lr", "0.005", "--steps", "3000", "--eval-every", "250"],
    "alice-5min": ["--minutes", "5"],
}
ROWS = {                             # the table's rows: the checkpoint each uses (a run's best.npz, or its last)
    "untrained (the default model, its first weights)": None, "after 1 minute": "tunes-1min/best.npz",
    "after 5 minutes": "tunes-5min/best.npz", "after 20 minutes (its best weights)": "tunes-20min/best.npz",
    "after 20 minutes (its last weights)": "tunes-20min/last.npz",
    "in the MIT lab's setting (1 x 1024, 3,000 steps)": "mit-setting/best.npz"}


def train(runs: Path) -> None:
    """Each run on a core of its own, two at a time (taskset where there is one), with one BLAS thread."""
    runs.mkdir(parents=True, exist_ok=True)
    queues = [["tunes-1min", "tunes-5min", "tunes-20min", "alice-5min"], ["mit-setting"]]
    procs = []
    for core, queue in enumerate(queues):
        script = " && ".join(" ".join([*SEQNN, "train", *RUNS[name], "--threads", "1", "--quiet", "--out",
                                       str(runs / name)]) + f" > {runs / name}.log 2>&1" for name in queue)
        pin = ["taskset", "-c", str(core)] if os.path.exists("/usr/bin/taskset") else []
        procs.append(subprocess.Popen([*pin, "sh", "-c", script]))
    for p in procs:
        p.wait()


def best_bpc(folder: Path) -> float:
    rows = [line.split(",") for line in (folder / "metrics.csv").read_text().splitlines()[1:]]
    return min(float(r[5]) for r in rows if r[5])


def last_bpc(folder: Path) -> float:
    rows = [line.split(",") for line in (folder / "metrics.csv").read_text().splitlines()[1:]]
    return [float(r[5]) for r in rows if r[5]][-1]


def models(runs: Path):
    """(row, model, vocab, its best validation bits per character) for each row of the table."""
    from seqnn.app.folder import load_charlm
    from seqnn.app.runsetup import corpus_path, split
    from seqnn.data import Vocabulary
    from seqnn.models import CharLM
    from seqnn.train import evaluate
    text = corpus_path("tunes").read_text(encoding="utf-8")
    vocab = Vocabulary(text)
    for row, name in ROWS.items():
        if name is None:
            model = CharLM(len(vocab), 256, "lstm", num_layers=2, dropout=0.3, dtype=np.float32, rng=1,
                           forget_bias=1.0)
            _, val = split(vocab.encode(text), 0.05, 32, 100)
            yield row, model, vocab, evaluate(model, val, 100, 32) / np.log(2)
        else:
            model, vocab_, training, _, _ = load_charlm(str(runs / name))
            step = training["trainer"]["steps"] if name.endswith("last.npz") else None
            folder = runs / name.split("/")[0]
            yield row, model, vocab_, (last_bpc(folder) if step else best_bpc(folder))


def copied(tune: str, corpus: str) -> bool:
    """Is the music of ``tune`` (its lines after K:) a training tune's, or a part of one, note for note?"""
    music_lines = tune.split("\nK:", 1)[-1].split("\n", 1)[-1].strip()
    return bool(music_lines) and music_lines in corpus


def measure(runs: Path, n: int, docs: bool) -> None:
    from seqnn import music
    from seqnn.app.runsetup import corpus_path
    from seqnn.app.tunes import generated_tune
    text = corpus_path("tunes").read_text(encoding="utf-8")
    read = well = 0
    for start, body in music.split_tunes(text):
        try:
            tune = music.parse_tune(body, start)
        except music.ABCError:
            continue
        read, well = read + 1, well + music.well_formed(tune)
    total = len(music.split_tunes(text))
    print("| tunes | read | well formed | well formed, not a copy | validation bits/char |\n|---|---|---|---|---|")
    print(f"| the 804 training tunes themselves | {read / total:.1%} | {well / total:.1%} | | |")
    kept = {}
    for row, model, vocab, bpc in models(runs):
        rng = np.random.default_rng(0)
        read_, good = 0, []
        for _ in range(n):
            written = generated_tune(model, vocab, rng, 1.0, None, None)
            try:
                tune = music.parse_tune(written)
            except music.ABCError:
                continue
            read_ += 1
            if music.well_formed(tune):
                good.append(written)
        new = [t for t in good if not copied(t, text)]
        print(f"| {n} tunes written {row} | {read_ / n:.0%} | {len(good) / n:.0%} | {len(new) / n:.0%} | "
              f"{bpc:.3f} |", flush=True)
        kept[row] = good
    if runs.joinpath("alice-5min").exists():
        print(f"\nthe book, 5 minutes (the same model): {best_bpc(runs / 'alice-5min'):.3f} bits/char")
    if docs:
        fresh = [t for t in kept.get("after 5 minutes", []) if not copied(t, text)]
        write_docs(fresh or next(v for v in kept.values() if v))


def write_docs(tunes: list) -> None:
    """Two of the well-formed tunes as docs/music/tune-K.abc and .wav (11,025 samples a second), and their piano
    rolls as docs/img/music_pianoroll.png."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from seqnn import music, sound
    out = ROOT / "docs" / "music"
    out.mkdir(exist_ok=True)
    fig, axes = plt.subplots(2, 1, figsize=(10, 5.5))
    for k, (text, ax) in enumerate(zip(tunes[:2], axes), 1):
        text = f"X:{k}\n" + text.split("\n", 1)[1]
        (out / f"tune-{k}.abc").write_text(text)
        tune = music.parse_tune(text)
        sound.write_wav(str(out / f"tune-{k}.wav"), sound.render(tune, rate=11_025), rate=11_025)
        for pitches, start, length in music.notes_in_time(tune):
            for p in pitches:
                ax.broken_barh([(float(start), float(length) * 0.95)], (p - 0.4, 0.8), color="tab:blue")
        ax.set_title(f"tune {k}: {tune.title!r} ({tune.headers.get('M')}, {tune.headers.get('K')})", fontsize=10)
        ax.set_ylabel("MIDI pitch")
    axes[-1].set_xlabel("time (whole notes), repeats played out")
    fig.tight_layout()
    fig.savefig(ROOT / "docs" / "img" / "music_pianoroll.png", dpi=90)
    print(f"wrote {out}/tune-1.abc, .wav, tune-2.abc, .wav and docs/img/music_pianoroll.png")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("what", choices=("train", "measure"))
    parser.add_argument("runs", type=Path, help="the folder of the runs")
    parser.add_argument("--tunes", type=int, default=100, help="tunes written by each model (measure)")
    parser.add_argument("--docs", action="store_true", help="also write the docs' tunes and figure (measure)")
    args = parser.parse_args(argv)
    if args.what == "train":
        train(args.runs)
    else:
        measure(args.runs, args.tunes, args.docs)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
