"""The numbers and pictures of docs/inside.md: three cells x three seeds, each looked inside beside its control.

Trains (unless the runs are there) an LSTM, a GRU and a tanh RNN with ``seqnn
train``'s defaults otherwise (2 layers x 256, dropout 0.3, Adam 0.005) for the
same number of steps on the bundled book, with seeds 0, 1 and 2. Looks inside
each run as ``seqnn inspect`` does (``seqnn.app.inspect.look``: 3,000 characters
of the validation text, held out; 50 characters back), each beside its own
untrained control, and prints the tables of docs/inside.md: which units pass
their controls, seed by seed; the connectivity at 10, 20 and 50 characters back;
the per-character loss against n-gram models. With ``--docs``, draws the
pictures into docs/img/ and writes the pages of seed 0 (the LSTM, the GRU and
the RNN beside it) into DIR/page.

    python experiments/inside.py --out /tmp/inside            # trains nine runs: about 12 minutes on 2 cores
    python experiments/inside.py --out /tmp/inside --docs     # then the pictures
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess

import numpy as np

from seqnn.app import inspect, plots
from seqnn.app.cli import main as seqnn
from seqnn.features import FEATURES
from seqnn.ngram import best_order

CELLS, SEEDS = ("lstm", "gru", "rnn"), (0, 1, 2)
DOCS_IMG = os.path.join(os.path.dirname(__file__), "..", "docs", "img")


def train(out: str, steps: int) -> None:
    """The nine runs, two at a time (one BLAS thread each); a run already there is kept."""
    jobs = []
    for seed in SEEDS:
        for cell in CELLS:
            run = os.path.join(out, f"{cell}-s{seed}")
            if not os.path.exists(os.path.join(run, "last.npz")):
                jobs.append(["seqnn", "train", "--cell", cell, "--seed", str(seed), "--steps", str(steps),
                             "--threads", "1", "--out", run, "--quiet"])
    running: list = []
    for job in jobs:
        if len(running) == 2:
            assert running.pop(0).wait() == 0
        running.append(subprocess.Popen(job))
    assert all(p.wait() == 0 for p in running)


def looked(out: str) -> dict:
    """{(cell, seed): Report}, as seqnn inspect computes it."""
    reports = {}
    for seed in SEEDS:
        for cell in CELLS:
            reports[cell, seed] = inspect.look(os.path.join(out, f"{cell}-s{seed}"), (), 3000, 3, 50, "loss", (),
                                               dict(FEATURES))[0]
    return reports


def tables(reports: dict) -> None:
    print("## units: r on the held-out half (untrained control's r); * a detector, above both nulls")
    print("| cell | feature | " + " | ".join(f"seed {s}" for s in SEEDS) + " |")
    print("|---|---|" + "---|" * len(SEEDS))
    for cell in CELLS:
        for f, feature in enumerate(FEATURES):
            cells = []
            for seed in SEEDS:
                c = reports[cell, seed].claims[f]
                cells.append(f"{c.r:+.2f}{'*' if c.detector else ''} ({c.control_r:+.2f})" if c.measurable else "-")
            print(f"| {cell.upper()} | {feature} | " + " | ".join(cells) + " |")
    shuffled = [c.shuffled_r for report in reports.values() for c in report.claims if c.measurable]
    decided = sum(c.shuffled_r > abs(c.control_r) for report in reports.values() for c in report.claims)
    print(f"shuffled null: |r| {min(shuffled):.2f} to {max(shuffled):.2f}; above the control's in {decided} of "
          f"{len(shuffled)} claims")
    print("\n## connectivity relative to k = 0: median [q25, q75] over positions")
    print("| cell | k | " + " | ".join(f"seed {s}" for s in SEEDS) + " | untrained (seed 0) |")
    print("|---|---|" + "---|" * (len(SEEDS) + 1))
    for cell in CELLS:
        for k in inspect.AT_LAGS:
            row = [inspect.spread(reports[cell, seed].looks[0].reach, k) for seed in SEEDS]
            control = inspect.spread(reports[cell, 0].looks[0].control, k)
            print(f"| {cell.upper()} | {k} | " + " | ".join(row) + f" | {control} |")
    print("\n## bits per character on the 3,000 held-out characters")
    for cell in CELLS:
        print(f"| {cell.upper()} | " + " | ".join(f"{reports[cell, s].looks[0].bits.mean():.3f}" for s in SEEDS) + " |")
    print("\n## per-character loss by kind, seed 0 (network | 1..5-gram | network better than the best n-gram)")
    for cell in CELLS:
        best = best_order(reports[cell, 0].ngram)
        print(f"### {cell.upper()} (the best n-gram: {best})")
        for kind, count, bits, ngram, better in reports[cell, 0].table:
            print(f"| {kind} | {count} | {bits:.2f} | " + " | ".join(f"{b:.2f}" for b in ngram) + f" | {better:.0%} |")


def draw_text(rows: list, path: str, title: str, width: int = 90) -> None:
    """Lines of (character, RGB colour) as a picture, the characters laid out as the page's <pre> lays them."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.patches import Rectangle

    lines = []
    for label, cells in rows:
        lines.append([(ch, None) for ch in label])
        line, col = [], 0
        for ch, colour in cells:
            if ch == "\n" or col == width:
                lines.append(line)
                line, col = [], 0
                if ch == "\n":
                    continue
            line.append((ch, colour))
            col += 1
        lines.append(line)
    height = len(lines) * 0.2 + 0.5
    fig = Figure(figsize=(width * 0.095, height), dpi=110)
    FigureCanvasAgg(fig)
    ax = fig.add_axes((0, 0, 1, 1 - 0.35 / height))
    ax.set_xlim(0, width)
    ax.set_ylim(len(lines), 0)
    ax.axis("off")
    for y, line in enumerate(lines):
        for x, (ch, colour) in enumerate(line):
            if colour is not None:
                ax.add_patch(Rectangle((x, y), 1, 1, color=colour, linewidth=0))
            ax.text(x + 0.5, y + 0.55, ch, ha="center", va="center", family="monospace", fontsize=8,
                    weight="bold" if colour is None else "normal")
    fig.suptitle(title, fontsize=9)
    fig.savefig(path)


def unit_colour(v: float) -> tuple:
    """The page's colours for a unit: blue positive, orange negative, white at 0 (v in [-1, 1])."""
    to = (60, 110, 220) if v >= 0 else (235, 130, 30)
    return tuple((255 + (c - 255) * abs(v)) / 255 for c in to)


def shade(a: float) -> tuple:
    """The page's connectivity shade: white to purple (a in [0, 1])."""
    return tuple((255 + (c - 255) * a) / 255 for c in (110, 40, 170))


def pictures(reports: dict, out: str) -> None:
    r0 = {cell: reports[cell, 0] for cell in CELLS}
    curves = {f"{cell.upper()}": r0[cell].looks[0].reach for cell in CELLS}
    curves.update({f"{cell.upper()}, untrained": r0[cell].looks[0].control for cell in CELLS})
    plots.plot_reach(curves, os.path.join(DOCS_IMG, "inside-reach.png"))
    plots.plot_saturation(r0["lstm"].sat, os.path.join(DOCS_IMG, "inside-saturation.png"), "LSTM: gate saturation")
    text = r0["lstm"].text
    quote = r0["lstm"].claims[0]
    tracker, values = next((tr, v) for tr, v in r0["lstm"].units if tr.feature == "inside a quotation")
    scale = np.abs(values).max()
    draw_text([("", [(ch, unit_colour(v / scale)) for ch, v in zip(text[:900], values[:900])])],
              os.path.join(DOCS_IMG, "inside-unit-quote.png"),
              f"LSTM, seed 0, layer {tracker.layer + 1}, {tracker.part}[{tracker.unit}]: inside a quotation, "
              f"r = {tracker.r:+.2f} over these 3,000 characters (the untrained control's best: "
              f"{quote.control_r:+.2f})")
    t = closing_quote(text)
    rows = []
    for cell in CELLS:
        conn = r0[cell].looks[0].conn[t]
        rel = np.log10(np.maximum(conn / np.nanmax(conn), 1e-12)) / 4 + 1
        start = t - (len(conn) - 1)
        rows.append((f"{cell.upper()} (seed 0), predicting {text[t + 1]!r}:",
                     [(text[s], shade(float(np.clip(rel[t - s], 0, 1)))) for s in range(start, t + 1)]))
    draw_text(rows, os.path.join(DOCS_IMG, "inside-connectivity.png"),
              "one prediction's connectivity, 50 characters back (darker: larger)", width=64)
    page = os.path.join(out, "page")
    assert seqnn(["inspect", os.path.join(out, "lstm-s0"), "--compare", os.path.join(out, "gru-s0"), "--compare",
                  os.path.join(out, "rnn-s0"), "--out", page]) == 0
    chromium = shutil.which("chromium")
    if chromium:                                         # the page's explorer as a browser shows it, t held
        with open(os.path.join(page, "index.html"), encoding="utf-8") as f:
            html = f.read().replace("</head>", "<style>body > *:not(#controls):not(#panels):not(#tip) "
                                    "{ display: none; }</style></head>", 1)      # the explorer alone
        with open(os.path.join(page, "explorer.html"), "w", encoding="utf-8") as f:
            f.write(html)
        url = f"file://{os.path.abspath(page)}/explorer.html#{t}"
        subprocess.run([chromium, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                        "--window-size=1200,640", f"--screenshot={os.path.abspath(DOCS_IMG)}/inside-page.png", url],
                       check=True, capture_output=True, timeout=120)


def closing_quote(text: str) -> int:
    """A position t whose next character closes a quotation opened 20 to 50 characters before."""
    inside = FEATURES["inside a quotation"](text)
    for t in range(50, len(text) - 1):
        if text[t + 1] == "'" and inside[t + 1] and not inside[min(t + 2, len(text) - 1)]:
            opened = t - np.flatnonzero(inside[:t + 1] == 0)[-1]
            if 20 <= opened <= 50:
                return t
    return len(text) // 2


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", required=True, help="folder for the runs (and the pages)")
    parser.add_argument("--steps", type=int, default=601, help="training steps of each run (default: 601)")
    parser.add_argument("--docs", action="store_true", help="draw docs/inside.md's pictures into docs/img")
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)
    train(args.out, args.steps)
    reports = looked(args.out)
    tables(reports)
    if args.docs:
        pictures(reports, args.out)


if __name__ == "__main__":
    main()
