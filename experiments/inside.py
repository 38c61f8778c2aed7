"""The pictures of docs/inside.md: three models trained with the same budget, looked inside.

Trains (unless given) an LSTM, a GRU and a tanh RNN with ``seqnn train``'s
defaults otherwise (2 layers x 256, dropout 0.3, Adam 0.005) for the same number
of steps on the bundled book, runs ``seqnn inspect`` on the LSTM with the other
two beside it, and draws what a browser shows of the page: the text coloured by
the unit that tracks each of two features, as ``index.html`` colours it.

    python experiments/inside.py --out /tmp/inside                # trains three runs, about 5 minutes here
    python experiments/inside.py --out /tmp/inside --runs lstm=run-a gru=run-b rnn=run-c
"""

from __future__ import annotations

import argparse
import os

import numpy as np

from seqnn import probe
from seqnn.app.cli import main as seqnn
from seqnn.app.folder import load_charlm
from seqnn.app.runsetup import validation_split


def train(out: str, steps: int) -> dict:
    runs = {}
    for cell in ("lstm", "gru", "rnn"):
        runs[cell] = os.path.join(out, cell)
        if not os.path.exists(os.path.join(runs[cell], "last.npz")):
            assert seqnn(["train", "--cell", cell, "--steps", str(steps), "--out", runs[cell], "--quiet"]) == 0
    return runs


def validation_text(path: str, chars: int):
    model, vocab, training, used, _ = load_charlm(path)
    val_ids, _ = validation_split(vocab, training, used)
    return model, vocab, vocab.decode(val_ids[:chars])


def draw_unit(text: str, values: np.ndarray, title: str, path: str, width: int = 90) -> None:
    """The text coloured by one unit's values, as index.html colours it (blue positive, orange negative)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.patches import Rectangle

    rows, row, col = [], [], 0
    for t, ch in enumerate(text):                        # lay the characters out as the page's <pre> does
        if ch == "\n" or col == width:
            rows.append(row)
            row, col = [], 0
            if ch == "\n":
                continue
        row.append((col, ch, t))
        col += 1
    rows.append(row)
    scale = max(float(np.abs(values).max()), 1e-12)
    fig = Figure(figsize=(width * 0.095, len(rows) * 0.2 + 0.5), dpi=110)
    FigureCanvasAgg(fig)
    ax = fig.add_axes((0, 0, 1, 1 - 0.35 / (len(rows) * 0.2 + 0.5)))
    ax.set_xlim(0, width)
    ax.set_ylim(len(rows), 0)
    ax.axis("off")
    for y, row in enumerate(rows):
        for x, ch, t in row:
            v = values[t] / scale
            colour = ((255 - 155 * v) / 255, (255 - 100 * v) / 255, 1.0) if v >= 0 else \
                (1.0, (255 + 100 * v) / 255, (255 + 155 * v) / 255)
            ax.add_patch(Rectangle((x, y), 1, 1, color=colour, linewidth=0))
            ax.text(x + 0.5, y + 0.55, ch, ha="center", va="center", family="monospace", fontsize=8)
    fig.suptitle(title, fontsize=9)
    fig.savefig(path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", required=True, help="folder for the runs and the pictures")
    parser.add_argument("--steps", type=int, default=601, help="training steps of each run (default: 601)")
    parser.add_argument("--runs", nargs="*", default=[], metavar="CELL=RUN", help="use these runs instead")
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)
    runs = dict(r.split("=", 1) for r in args.runs) or train(args.out, args.steps)
    last = {cell: os.path.join(path, "last.npz") for cell, path in runs.items()}
    page = os.path.join(args.out, "page")
    assert seqnn(["inspect", last["lstm"], "--compare", last["gru"], "--compare", last["rnn"], "--out", page]) == 0
    model, vocab, text = validation_text(last["lstm"], 3000)
    acts = probe.activations(model, vocab.encode(text))
    for feature, name in (("inside a quotation", "quote"), ("characters since the line began", "column")):
        (best,) = probe.feature_units(acts, text, {feature: probe.FEATURES[feature]})
        values = acts.layers[best.layer][best.part][:, best.unit]
        draw_unit(text[:900], values[:900], f"LSTM layer {best.layer + 1}, {best.part}[{best.unit}]: {feature}, "
                  f"r = {best.r:+.2f} over 3,000 characters", os.path.join(args.out, f"unit-{name}.png"))
    print(f"wrote {page}/index.html, {page}/saturation.png, {page}/reach.png, {args.out}/unit-quote.png, "
          f"{args.out}/unit-column.png")


if __name__ == "__main__":
    main()
