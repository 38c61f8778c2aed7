"""``seqnn inspect``'s page: one self-contained HTML file that explores what the network learned.

Everything is in the file and nothing is fetched: the tables are HTML, the
plots are PNGs embedded as data, and the per-character data (the text, the
units, the features, the top-5 predictions, the losses, the connectivity) is
stored once as JSON and drawn by a small script (``page.js``, beside this file).
To stay small (about 2 MB for 20,000 characters) the numbers are quantised to
one or two characters of a 64-letter alphabet each: 64 levels for colours,
4,096 for the numbers shown (probabilities, bits). No machine path is written:
models are named by their checkpoint's last two path parts.
"""

from __future__ import annotations

import base64
import json
from html import escape
from importlib import resources

import numpy as np

from ..ngram import best_order

ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
MAX_BITS = 32.0                 # losses are stored up to 32 bits (a probability of 2e-10)
DECADES = 4                     # connectivity is shaded over 4 decades below the window's largest gradient


def encode(x, digits: int = 1) -> str:
    """Values in [0, 1] (clipped) as ``digits`` letters each of ``ALPHABET``: 64 ** digits levels."""
    top = 64 ** digits - 1
    q = np.rint(np.clip(np.nan_to_num(np.asarray(x, dtype=np.float64).ravel()), 0, 1) * top).astype(np.int64)
    letters = np.array(list(ALPHABET))
    columns = [letters[(q // 64 ** (digits - 1 - j)) % 64] for j in range(digits)]
    return "".join(np.stack(columns, axis=1).ravel()) if len(q) else ""


def encode_connectivity(conn: np.ndarray) -> str:
    """(P, lags + 1) gradient norms as one letter each: log10 of the value relative to its row's largest, over
    ``DECADES`` decades; "." where the lag is before the text."""
    conn = np.asarray(conn, dtype=np.float64)
    peak = np.nanmax(np.where(np.isnan(conn), 0, conn), axis=1, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        level = (np.log10(conn / np.where(peak > 0, peak, 1.0)) + DECADES) / DECADES
    letters = np.array(list(encode(level, 1)))
    letters[np.isnan(conn).ravel()] = "."
    return "".join(letters)


def largest(v: np.ndarray) -> float:
    """The largest |value| of ``v``, the scale its colours go to (1e-12 for all zeros: no division by 0)."""
    return float(max(np.abs(v).max(), 1e-12))


def page_data(report) -> dict:
    """The JSON the script draws from (see ``page.js`` for how it reads it back)."""
    top, probs = report.top
    return {
        "text": report.text,
        "lags": len(report.looks[0].reach.median) - 1,
        "of": report.of,
        "tokens": report.tokens,
        "maxBits": MAX_BITS,
        "decades": DECADES,
        "top": {"ids": encode(top / 4095, 2), "p": encode(probs, 2)},
        "models": [{"label": look.label, "conn": encode_connectivity(look.conn),
                    "bits": encode(look.bits / MAX_BITS, 2)} for look in report.looks],
        "units": [{"label": f"layer {tr.layer + 1}, {tr.part}[{tr.unit}]", "feature": tr.feature, "r": round(tr.r, 3),
                   "scale": largest(v), "values": encode((v / largest(v) + 1) / 2)} for tr, v in report.units],
        "features": [{"name": name, "max": largest(v), "values": encode(v / largest(v))}
                     for name, v in report.features.items()],
        "ngram": None if report.ngram is None else [encode(b / MAX_BITS, 2) for b in report.ngram],
    }


def render_page(report, at_lags) -> str:
    """index.html for ``report`` (``seqnn.app.inspect.Report``)."""
    if len(report.tokens) > 4096:
        raise ValueError(f"tokens: the page stores a token's index in two letters, at most 4,096 tokens; got "
                         f"{len(report.tokens)}")
    data = json.dumps(page_data(report), ensure_ascii=False, separators=(",", ":")).replace("<", "\\u003c")
    script = (resources.files("seqnn.app") / "page.js").read_text(encoding="utf-8")
    images = "".join(f'<figure><img alt="{escape(name)}" src="data:image/png;base64,'
                     f'{base64.b64encode(png).decode("ascii")}"/></figure>\n' for name, png in report.images.items())
    gates = "".join(f"<li>{escape(line)}</li>" for line in gate_lines(report.sat))
    return TEMPLATE.format(cell=escape(report.cell.upper()), chars=f"{len(report.text):,}",
                           described=escape(report.described), claims=_claims(report), reach=_reach(report, at_lags),
                           ngram=_ngram(report), saturation=gates, images=images, data=data, script=script,
                           of=escape(report.of))


def gate_lines(sat: dict) -> list:
    """One line per gate of each layer: the mean over its units of the fraction of steps below 0.1 | above 0.9
    (``seqnn.probe.saturation``'s ``sat``); a vanilla RNN's one line says it has none."""
    if not sat:
        return ["gate saturation: a vanilla RNN has no gates"]
    return [f"layer {layer + 1}, {gate}: {left.mean():.2f} | {right.mean():.2f}"
            for (layer, gate), (left, right) in sat.items()]


def verdict(claim) -> str:
    """A ``seqnn.probe.Claim`` in words."""
    if not claim.measurable:
        return "not measurable (constant on a half)"
    return "a detector" if claim.detector else "not above its controls"


def _claims(report) -> str:
    rows = []
    for c in report.claims:
        rows.append(f"<tr><td>{escape(c.feature)}</td><td>layer {c.layer + 1}, {c.part}[{c.unit}]</td>"
                    f"<td>{c.r:+.2f}</td><td>{c.control_r:+.2f}</td><td>{c.shuffled_r:.2f}</td>"
                    f"<td class=\"{'yes' if c.detector else 'no'}\">{verdict(c)}</td></tr>")
    return "".join(rows)


def _reach(report, at_lags) -> str:
    lags = [k for k in at_lags if k < len(report.looks[0].reach.median)]
    head = "<tr><th>model</th>" + "".join(f"<th>k = {k}</th>" for k in lags) + "</tr>"
    rows = [row for look in report.looks for row in ((look.label, look.reach), (f"{look.label}, untrained",
                                                                                 look.control))]
    body = "".join(f"<tr><td>{escape(name)}</td>" + "".join(
        f"<td>{r.at(k)[1]:.1e} <small>[{r.at(k)[0]:.1e}, {r.at(k)[2]:.1e}]</small></td>" for k in lags) + "</tr>"
        for name, r in rows)
    return f"<table>{head}{body}</table>"


def _ngram(report) -> str:
    if report.ngram is None:
        return ("<p>No n-gram baseline: the model holds no training record (or its text has moved), so there is no "
                "training text to fit one on.</p>")
    orders, best = len(report.ngram), best_order(report.ngram)
    head = ("<tr><th>predicted character</th><th>count</th><th>network</th>"
            + "".join(f"<th>{n}-gram</th>" for n in range(1, orders + 1))
            + f"<th>network better than the {best}-gram</th></tr>")
    body = "".join(f"<tr><td>{escape(kind)}</td><td>{count}</td><td>{bits:.2f}</td>"
                   + "".join(f"<td>{b:.2f}</td>" for b in ngram) + f"<td>{better:.0%}</td></tr>"
                   for kind, count, bits, ngram, better in report.table)
    gap = report.looks[0].bits - report.ngram[best - 1]
    examples = []
    for title, order in ((f"where the network does worst against the {best}-gram", np.argsort(-gap, kind="stable")),
                         ("where it does best", np.argsort(gap, kind="stable"))):
        items = "".join(f"<li><code>{escape(report.text[max(0, t - 24):t + 1])}</code> &#8594; "
                        f"<code>{escape(repr(report.text[t + 1]))}</code>: network {report.looks[0].bits[t]:.1f} bits, "
                        f"{best}-gram {report.ngram[best - 1][t]:.1f}</li>" for t in order[:8])
        examples.append(f"<h4>{title}</h4><ul>{items}</ul>")
    return f"<table>{head}{body}</table>{''.join(examples)}"


TEMPLATE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8"/>
<title>seqnn inspect: inside the {cell}</title>
<style>
body {{ font-family: sans-serif; max-width: 72em; margin: 1.5em auto; padding: 0 1em; }}
table {{ border-collapse: collapse; margin: 0.5em 0 1em; }}
td, th {{ border: 1px solid #ccc; padding: 0.2em 0.5em; text-align: left; font-size: 0.9em; }}
td.yes {{ background: #d8f0d8; }} td.no {{ color: #777; }}
#controls {{ position: sticky; top: 0; background: #fff; padding: 0.4em 0; border-bottom: 1px solid #ddd; z-index: 2; }}
#controls label {{ margin-right: 1em; }}
#legend {{ display: inline-flex; align-items: center; gap: 0.4em; font-size: 0.85em; }}
#legend .bar {{ width: 12em; height: 0.9em; border: 1px solid #999; }}
#panels {{ display: flex; gap: 1em; }}
#panels > div {{ flex: 1; min-width: 0; }}
pre.text {{ white-space: pre-wrap; font-family: monospace; line-height: 1.6; border: 1px solid #ddd; padding: 0.5em; }}
pre.text span {{ cursor: default; }}
pre.text span.at {{ outline: 2px solid #000; }}
pre.text span.match {{ text-decoration: underline 2px #c00; }}
#tip {{ position: fixed; display: none; background: #fffff4; border: 1px solid #999; padding: 0.4em 0.6em;
        font-size: 0.85em; pointer-events: none; z-index: 3; max-width: 30em; }}
#tip table {{ margin: 0.2em 0; }}
#matching {{ border: 1px solid #ddd; padding: 0.5em; margin: 1em 0; }}
#units label {{ display: inline-block; margin-right: 1em; font-size: 0.85em; }}
figure img {{ max-width: 100%; }}
</style>
</head>
<body>
<h1>Inside the network ({cell})</h1>
<p>{chars} characters of {described}. Every claim stands beside a control: the same network untrained.</p>

<h2>Units that track a feature of the text</h2>
<p>For each feature, the unit (of every layer's h, and c for an LSTM) with the largest |r| on the text's first half;
r is its correlation on the second half. The nulls: the untrained network's best unit, chosen and measured the same
way, and the trained network's with the feature shuffled in blocks of 100 characters. A unit is called a detector
only when |r| is above both.</p>
<table><tr><th>feature</th><th>unit</th><th>r</th><th>untrained</th><th>shuffled |r|</th><th>verdict</th></tr>
{claims}</table>

<h2>How far back each prediction looks</h2>
<p>The connectivity of the prediction at t: ||d{of}_t / dx_(t-k)||, the gradient of its {of} with respect to the
input vector k characters back (its norm over the embedding), relative to k = 0. Median over positions, quartiles
in brackets.</p>
{reach}

<h2>Per-character loss against n-gram models</h2>
<p>Bits per predicted character, by kind, for the network and for n-gram models (Witten-Bell, fitted on the
training text).</p>
{ngram}

<h2>Gate saturation</h2>
<ul>{saturation}</ul>
{images}
<h2>Explore</h2>
<p>Hover over a character (click to hold it, again to let go; <code>index.html#1234</code> opens with it held): the
box shows the model's five likeliest next characters and the losses. With <em>colour by: connectivity</em>, the
earlier characters are shaded by how strongly that prediction depends on each (darker: a larger gradient; over
{decades} decades below the window's largest).</p>
<div id="controls">
<label>colour by <select id="colour"></select></label>
<label>feature track <select id="track"></select></label>
<span id="legend"><span class="lo"></span><span class="bar"></span><span class="hi"></span></span>
</div>
<div id="panels"></div>
<div id="matching">
<b>Find matching spans</b> (after LSTMVis): select a span of the text with the mouse; the units that stay on through
it are checked (on: at least the threshold, as a fraction of the unit's largest value, with the sign they have
there). <em>Match</em> finds the other spans where all the checked units are on.
<div><label>threshold <input id="threshold" type="number" min="0" max="1" step="0.05" value="0.3"/></label>
<button id="match" type="button">Match</button> <span id="selection">no span selected</span></div>
<div id="units"></div>
<ol id="matches"></ol>
</div>
<div id="tip"></div>
<script type="application/json" id="data">{data}</script>
<script>
{script}
</script>
</body>
</html>
""".replace("{decades}", str(DECADES))
