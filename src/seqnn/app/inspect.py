"""``seqnn inspect``: a trained model looked inside, on a text, as a page, two plots and a summary.

The analysis is the lecture's (``seqnn.probe``: activations, saturation, feature
units, gradient reach, predictions); this floor reads the run, picks the text,
and writes what a person looks at: ``index.html`` (the text coloured by each
chosen unit, self-contained and escaped), ``saturation.png``, ``reach.png``.
"""

from __future__ import annotations

import os
from html import escape

import numpy as np

from .._files import write_atomic
from ..probe import Activations, activations, feature_units, gradient_reach, saturation, top_predictions
from . import plots
from .folder import load_charlm
from .options import RunError
from .runsetup import encode_known, load_text, validation_split

MAX_CHARS = 20_000          # every value of 20,000 characters of the default model: 250 MB (float32)
MAX_UNITS = 50


def inspect(path: str, text_paths=(), *, out: str | None = None, chars: int = 3000, units: int = 5, lags: int = 100,
            compare=()) -> list:
    """``seqnn inspect``: look inside the model saved at ``path`` (a run's folder or checkpoint) on a text.

    The text: ``text_paths``, or the run's validation split; its first ``chars``
    characters. Writes ``out``/index.html (the text coloured by the ``units``
    units that track the features best, each character's top-5 predictions on
    hover), saturation.png and reach.png (``lags`` characters back; ``compare``,
    a list of other runs: their curves beside it). Returns the terminal summary's lines.
    """
    if not 1 <= chars <= MAX_CHARS:
        raise RunError(f"--chars: expected a number of characters in [1, {MAX_CHARS:,}] (the activations of every "
                       f"step are kept in memory), got {chars}")
    if not 1 <= units <= MAX_UNITS:
        raise RunError(f"--units: expected a number of units in [1, {MAX_UNITS}], got {units}")
    model, vocab, training, used, _ = load_charlm(path)
    if text_paths:
        text, described, _ = load_text(text_paths)
        text = text[:chars]
    else:
        val_ids, described = validation_split(vocab, training, used)
        text = vocab.decode(val_ids[:chars])
    if len(text) < 3:
        raise RunError(f"TEXT: expected at least 3 characters, got {len(text)}")
    ids = encode_known(vocab, text, "TEXT")
    acts = activations(model, ids)
    sat = saturation(acts)
    per_feature = feature_units(acts, text, top=units)          # `units` trackers per feature, best first
    firsts = per_feature[::units]                                # the best unit of each feature
    chosen, shown = list(firsts), {(tr.layer, tr.part, tr.unit) for tr in firsts}
    for tr in sorted(per_feature, key=lambda tr: -abs(tr.r)):   # then the strongest others, each unit once
        if (tr.layer, tr.part, tr.unit) not in shown:
            chosen.append(tr)
            shown.add((tr.layer, tr.part, tr.unit))
    chosen = chosen[:units]
    K = min(lags, len(ids) - 2)
    curves = {f"{acts.cell.upper()} ({used})": gradient_reach(model, ids, acts, K)}
    for other_path in compare:
        other, other_vocab, _, other_used, _ = load_charlm(other_path)
        other_ids = encode_known(other_vocab, text, f"--compare {other_path}")
        curves[f"{other.rnn.kind.upper()} ({other_used})"] = gradient_reach(
            other, other_ids, activations(other, other_ids), K)
    folder = out or os.path.join(used if os.path.isdir(used) else os.path.dirname(used) or ".", "inspect")
    os.makedirs(folder, exist_ok=True)
    plots = _plots(folder, sat, acts.cell, {label: curve for label, (curve, _) in curves.items()})
    lines = summary(sat, firsts, curves)
    page = render_page(text, acts, chosen, top_predictions(acts, vocab), lines, described, plots)
    write_atomic(os.path.join(folder, "index.html"), lambda f: f.write(page.encode("utf-8")))
    return lines + [f"wrote {os.path.join(folder, 'index.html')} (open it in a browser)"
                    + "".join(f", {os.path.join(folder, p)}" for p in plots)]


def _plots(folder: str, sat: dict, cell: str, curves: dict) -> list:
    """saturation.png (gated cells) and reach.png, where matplotlib is installed; returns the names written."""
    written = []
    try:
        if sat:
            plots.plot_saturation(sat, os.path.join(folder, "saturation.png"), f"{cell.upper()}: gate saturation")
            written.append("saturation.png")
        plots.plot_reach(curves, os.path.join(folder, "reach.png"))
        written.append("reach.png")
    except ImportError:
        pass
    return written


def summary(sat: dict, firsts: list, curves: dict) -> list:
    """The terminal summary: saturation per gate, the best unit per feature with r, and the reach."""
    lines = []
    if sat:
        lines.append("gate saturation (mean over the units of the fraction of steps below 0.1 | above 0.9):")
        for (layer, gate), (left, right) in sat.items():
            lines.append(f"  layer {layer + 1}, {gate}: {left.mean():.2f} | {right.mean():.2f}")
    else:
        lines.append("gate saturation: a vanilla RNN has no gates")
    lines.append("the unit that tracks each feature best (Pearson's r; |r| < 0.3 is weak):")
    for tr in firsts:
        weak = " (weak)" if abs(tr.r) < 0.3 else ""
        lines.append(f"  {tr.feature}: layer {tr.layer + 1}, {tr.part}[{tr.unit}], r = {tr.r:+.2f}{weak}")
    for label, (curve, reach) in curves.items():
        lines.append(f"gradient reach, {label}: " + (f"below 1% of lag 0 after {reach} characters" if reach is not None
                     else f"still above 1% of lag 0 at {len(curve) - 1} characters"))
    return lines


def render_page(text: str, acts: Activations, chosen: list, predictions: list, lines: list, described: str,
                plots: list) -> str:
    """index.html: one self-contained page (inline styles, nothing loaded), the text escaped."""
    blocks = []
    for tr in chosen:
        values = acts.layers[tr.layer][tr.part][:, tr.unit].astype(np.float64)
        scale = max(float(np.abs(values).max()), 1e-12)
        spans = []
        for t, ch in enumerate(text):
            v = values[t] / scale
            colour = (f"rgb({255 - int(155 * v)},{255 - int(100 * v)},255)" if v >= 0 else
                      f"rgb(255,{255 + int(100 * v)},{255 + int(155 * v)})")
            guess = ", ".join(f"{c!r} {p:.2f}" for c, p in predictions[t])
            title = escape(f"{tr.part}[{tr.unit}] = {values[t]:.3f}; next: {guess}")
            spans.append(f'<span style="background:{colour}" title="{title}">{escape(ch)}</span>')
        blocks.append(f"<h3>layer {tr.layer + 1}, {tr.part}[{tr.unit}]: {escape(tr.feature)}, r = {tr.r:+.2f}</h3>\n"
                      f'<pre class="text">{"".join(spans)}</pre>')
    images = "".join(f'<p><img src="{name}" alt="{name}"/></p>\n' for name in plots)
    items = "".join(f"<li>{escape(line)}</li>\n" for line in lines)
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8"/>
<title>seqnn inspect</title>
<style>
body {{ font-family: sans-serif; max-width: 60em; margin: 2em auto; }}
pre.text {{ white-space: pre-wrap; font-family: monospace; line-height: 1.5; border: 1px solid #ddd; padding: 0.5em; }}
pre.text span:hover {{ outline: 1px solid #333; }}
</style>
</head>
<body>
<h1>Inside the network ({escape(acts.cell.upper())})</h1>
<p>{len(text):,} characters of {escape(described)}. Each block colours the text by one unit's value after reading
each character (blue positive, orange negative, scaled to the unit's largest value); hover over a character for the
value and the model's five likeliest next characters.</p>
<ul>
{items}</ul>
{images}{chr(10).join(blocks)}
</body>
</html>
"""
