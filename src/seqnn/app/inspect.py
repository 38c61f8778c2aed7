"""``seqnn inspect``: a trained model looked inside, on a text, every claim beside an untrained control.

The analysis is the lecture's (``seqnn.probe``: activations, saturation, units
that track features, connectivity and reach; ``seqnn.ngram``: the n-gram
baseline); this floor reads the run, picks the text, builds the control (the
same network before training), and writes what a person looks at: ``index.html``
(``seqnn.app.page``: one self-contained page that explores), ``saturation.png``
and ``reach.png``, and the terminal summary.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

import numpy as np

from .._files import write_atomic
from .._memory import available_memory, size
from ..features import FEATURES, regex_feature
from ..ngram import best_order, by_kind, kind_of, ngram_losses
from ..probe import (CHUNK_BYTES, OBJECTIVES, Reach, activations, connectivity, connectivity_bytes_per_position,
                     feature_units, reach, saturation, unit_claims)
from . import plots
from .folder import load_charlm
from .options import RunError
from .page import gate_lines, render_page, verdict
from .runsetup import encode_known, load_text, text_splits, untrained_like

MAX_CHARS = 20_000          # the page holds every character's connectivity: 1 MB at 20,000 characters and 50 lags
MAX_UNITS, MAX_LAGS = 20, 200
AT_LAGS = (10, 20, 50)      # the lags the reach is told at
NGRAM_ORDERS, NGRAM_CHARS = 5, 2_000_000      # n-gram models of up to 5 characters, fitted on up to 2 M characters


@dataclass
class Look:
    """One model's view of the text: ``conn`` (T - 1, lags + 1) its connectivity, ``bits`` (T - 1,) the loss of each
    prediction in bits, ``reach`` the spread of ``conn``, ``control`` the same spread for the model untrained."""

    label: str
    conn: np.ndarray
    bits: np.ndarray
    reach: Reach
    control: Reach


@dataclass
class Report:
    """Everything the page and the summary show."""

    text: str
    described: str
    cell: str
    of: str
    looks: list                                         # the model first, then --compare's
    claims: list                                        # probe.Claim, one per feature
    units: list                                         # (probe.Tracker, values (T,)) to colour by
    features: dict                                      # name -> values (T,)
    top: tuple                                          # (indices (T, 5), probabilities (T, 5))
    tokens: list
    ngram: np.ndarray | None                            # (orders, T - 1) bits, or None without a training text
    table: list = field(default_factory=list)           # ngram.by_kind's rows
    sat: dict = field(default_factory=dict)             # probe.saturation's fractions
    images: dict = field(default_factory=dict)          # name -> PNG bytes
    notes: list = field(default_factory=list)           # what was changed from what was asked, in words


def inspect(path: str, text_paths=(), *, out: str | None = None, chars: int = 3000, units: int = 3, lags: int = 50,
            of: str = "loss", compare=(), features=()) -> list:
    """``seqnn inspect``: look inside the model saved at ``path`` (a run's folder or checkpoint) on a text.

    The text: ``text_paths``, or the run's validation split; its first ``chars``
    characters. ``units``: units per feature to colour by; ``lags``: how far
    back the connectivity goes; ``of``: "loss" or "logit", what it is the
    gradient of; ``compare``: other runs, shown beside it; ``features``:
    "NAME=REGEX" strings, features added to the built-in ones. Writes
    ``out``/index.html, saturation.png and reach.png; returns the terminal summary's lines.
    """
    if not 3 <= chars <= MAX_CHARS:
        raise RunError(f"--chars: expected a number of characters in [3, {MAX_CHARS:,}] (the page holds every "
                       f"character's connectivity), got {chars}")
    if not 1 <= units <= MAX_UNITS:
        raise RunError(f"--units: expected a number of units per feature in [1, {MAX_UNITS}], got {units}")
    if not 1 <= lags <= MAX_LAGS:
        raise RunError(f"--lags: expected a number of characters back in [1, {MAX_LAGS}], got {lags}")
    if of not in OBJECTIVES:
        raise RunError(f"--gradient-of: expected one of {', '.join(OBJECTIVES)}, got {of!r}")
    report, needed, used = look(path, text_paths, chars, units, lags, of, compare,
                                {**FEATURES, **parse_features(features)})
    folder = out or os.path.join(used if os.path.isdir(used) else os.path.dirname(used) or ".", "inspect")
    os.makedirs(folder, exist_ok=True)
    report.images = _images(report, folder)
    lines = summary(report)
    page = render_page(report, AT_LAGS)
    write_atomic(os.path.join(folder, "index.html"), lambda f: f.write(page.encode("utf-8")))
    return lines + [f"memory: about {size(needed)} estimated",
                    f"wrote {os.path.join(folder, 'index.html')} (one self-contained page: open it in a browser)"
                    + "".join(f", {os.path.join(folder, p)}" for p in report.images)]


def look(path: str, text_paths, chars: int, units: int, lags: int, of: str, compare, features: dict):
    """What ``inspect`` shows, computed: (``Report``, the memory estimate in bytes, the checkpoint used). The
    arguments as ``inspect`` takes them, checked; ``features``: {name: text -> values}."""
    model, vocab, training, used, _ = load_charlm(path)
    others = [load_charlm(p) for p in compare]
    text, described, train_ids = choose_text(vocab, training, used, text_paths, chars)
    ids = encode_known(vocab, text, "TEXT")
    if len(text) < 4:
        raise RunError(f"TEXT: expected at least 4 characters (a unit is chosen on one half and measured on the "
                       f"other), got {len(text)}")
    notes = [] if lags <= len(text) - 2 else [f"only {len(text)} characters: the connectivity goes {len(text) - 2} "
                                                f"back, not --lags {lags}"]
    lags = min(lags, len(text) - 2)                 # a window of lags + 1 characters, and one to predict
    other_ids = [encode_known(o[1], text, f"--compare {p}") for o, p in zip(others, compare)]
    needed = memory_estimate(model, len(text), lags, [o[0] for o in others],
                             0 if train_ids is None else min(len(train_ids), NGRAM_CHARS), len(features), units)
    free = available_memory()
    if free is not None and needed > free:
        raise RunError(f"looking at {len(text):,} characters {lags} back needs about {size(needed)}, more than the "
                       f"{size(free)} this machine has available; lower --chars or --lags")

    acts = activations(model, ids)
    control = untrained_like(model, training, used)
    control_acts = activations(control, ids)
    claims = unit_claims(acts, control_acts, text, features)
    looks = [_look(model, ids, acts, control, control_acts, lags, of, label(model, used))]
    del control_acts
    for (other, _, other_training, other_used, _), o_ids in zip(others, other_ids):
        other_control = untrained_like(other, other_training, other_used)
        looks.append(_look(other, o_ids, activations(other, o_ids), other_control,
                           activations(other_control, o_ids), lags, of, label(other, other_used)))
    trackers = feature_units(acts, text, features, top=units)
    chosen, seen = [], set()
    for tr in trackers:
        if tr.r != 0 and (tr.layer, tr.part, tr.unit) not in seen:      # r = 0: a feature constant here
            seen.add((tr.layer, tr.part, tr.unit))
            chosen.append((tr, acts.layers[tr.layer][tr.part][:, tr.unit].astype(np.float64)))
    top = np.argsort(-acts.probs, axis=1, kind="stable")[:, :5]
    report = Report(text, described, acts.cell, of, looks, claims, chosen,
                    {name: np.asarray(f(text), dtype=np.float64) for name, f in features.items()},
                    (top, np.take_along_axis(acts.probs, top, axis=1)), list(vocab.tokens), None)
    if train_ids is not None:
        report.ngram = ngram_losses(train_ids[:NGRAM_CHARS], ids, len(vocab), NGRAM_ORDERS)
        report.table = by_kind(looks[0].bits, report.ngram, kind_of(text[1:]))
    report.sat = saturation(acts)
    report.notes = notes
    return report, needed, used


def choose_text(vocab, training: dict | None, used: str, text_paths, chars: int):
    """(the text to look at, the text in words, the run's training ids or None): the first ``chars`` characters of
    ``text_paths``, or of the run's validation split; the n-gram models are fitted on the run's training split,
    when its text can still be read."""
    if not text_paths:
        train_ids, val_ids, described = text_splits(vocab, training, used)
        return vocab.decode(val_ids[:chars]), f"the validation split of {described} (held out)", train_ids
    text, _, _ = load_text(text_paths)
    try:
        train_ids = text_splits(vocab, training, used)[0]
    except (RunError, ValueError):                  # no training record, or its text has moved or changed
        train_ids = None
    return text[:chars], ", ".join(os.path.basename(str(p)) for p in text_paths), train_ids


def parse_features(given) -> dict:
    """``--feature NAME=REGEX`` strings -> {name: feature}, each checked here: a name, a regular expression that
    compiles, no name twice."""
    found: dict = {}
    for item in given:
        name, eq, pattern = item.partition("=")
        name = name.strip()
        if not eq or not name or not pattern:
            raise RunError(f"--feature: expected NAME=REGEX (e.g. --feature 'digit=[0-9]'), got {item!r}")
        if name in found or name in FEATURES:
            raise RunError(f"--feature: the name {name!r} is already taken; give each feature its own name")
        try:
            found[name] = regex_feature(pattern)
        except Exception as e:          # re.error, or a pattern too deep to compile
            raise RunError(f"--feature {name}: {pattern!r} is not a regular expression Python reads ({e})") from None
    return found


def label(model, used: str) -> str:
    """The model's kind and its checkpoint's last two path parts (``lstm/last.npz``): no machine paths on a page."""
    parts = os.path.normpath(os.path.abspath(used)).split(os.sep)
    return f"{model.rnn.kind.upper()} ({'/'.join(parts[-2:])})"


def _look(model, ids, acts, control, control_acts, lags: int, of: str, name: str) -> Look:
    conn = connectivity(model, ids, acts, lags, of)
    bits = -np.log2(np.maximum(acts.probs[np.arange(len(ids) - 1), ids[1:]], 1e-300))
    return Look(name, conn, bits, reach(conn), reach(connectivity(control, ids, control_acts, lags, of)))


def memory_estimate(model, chars: int, lags: int, others: list, ngram_chars: int, n_features: int,
                    units: int) -> int:
    """Bytes ``inspect`` needs at its peak, estimated before anything is allocated: the largest of its stages.

    While a control is read: the model's activations (every h, c and gate, the
    probabilities), 1.4 times as much while they are recorded (measured), and
    a compared model's and its control's; the backward pass's chunk of
    positions and each model's connectivity; the correlations' or the n-gram
    counts' arrays; and the page, about six copies of its data while it is
    written (measured).
    """
    def acts_bytes(m):
        names = {"lstm": 6, "gru": 4, "rnn": 1}[m.rnn.kind]
        return chars * (m.rnn.num_layers * names * m.rnn.hidden_size * np.dtype(m.dtype).itemsize
                        + 2 * m.vocab_size * 8)
    models = [model, *others]
    conns = chars * (lags + 1) * 8
    chunk = min(CHUNK_BYTES, chars * max(connectivity_bytes_per_position(m, lags) for m in models))
    pairs = [1.4 * acts_bytes(model), acts_bytes(model) + chunk] + [2 * acts_bytes(o) + chunk for o in others]
    reading = acts_bytes(model) + max(pairs) + conns * len(models)
    counting = acts_bytes(model) + conns * len(models) + max(4 * chars // 2 * (model.rnn.hidden_size + n_features) * 8,
                                                            ngram_chars * 8 * 10)
    data = chars * (lags + 1) * len(models) + chars * (units * n_features + n_features + 30 + 4 * len(models))
    return int(max(reading, counting, 6 * data))


def _images(report: Report, folder: str) -> dict:
    """Write saturation.png (gated cells) and reach.png into ``folder``, where matplotlib is installed; returns
    {name: the PNG's bytes}, for the page to embed."""
    curves = {}
    for look in report.looks:
        curves[look.label] = look.reach
        curves[f"{look.label}, untrained"] = look.control
    draw = {"reach.png": lambda path: plots.plot_reach(curves, path)}
    if report.sat:
        draw = {"saturation.png": lambda path: plots.plot_saturation(report.sat, path, f"{report.cell.upper()}: "
                                                                                      "gate saturation"), **draw}
    images = {}
    try:
        for name, plot in draw.items():
            plot(os.path.join(folder, name))
            with open(os.path.join(folder, name), "rb") as f:
                images[name] = f.read()
    except ImportError:
        pass
    return images


def spread(r: Reach, k: int) -> str:
    q25, median, q75 = r.at(k)
    return f"{median:.1e} [{q25:.1e}, {q75:.1e}]"


def summary(report: Report) -> list:
    """The terminal summary: saturation, each feature's unit beside its controls, the reach at fixed lags beside
    the control's, and the per-character loss against the n-gram models by kind of character."""
    lines = [f"{len(report.text):,} characters of {report.described}", *report.notes]
    if report.sat:
        lines.append("gate saturation (mean over the units of the fraction of steps below 0.1 | above 0.9):")
        lines += [f"  {line}" for line in gate_lines(report.sat)]
    else:
        lines += gate_lines(report.sat)
    lines.append("units that track a feature (chosen on the text's first half, r on the second; a detector only "
                 "when |r| is above both nulls: the untrained network's r, and r with the feature shuffled in blocks):")
    for c in report.claims:
        lines.append(f"  {c.feature}: layer {c.layer + 1}, {c.part}[{c.unit}], r = {c.r:+.2f}; untrained "
                     f"{c.control_r:+.2f}, shuffled {c.shuffled_r:.2f}: {verdict(c)}")
    first = report.looks[0].reach
    lags = [k for k in AT_LAGS if k < len(first.median)]
    lines.append(f"how far back predictions look: ||d{report.of}_t/dx_(t-k)|| relative to k = 0, median [quartiles] "
                 f"over {first.positions:,} positions, each model beside itself untrained")
    width = max(len(look.label) for look in report.looks) + 2
    lines.append(" " * (width + 2) + "".join(f"{f'k = {k}':<27}" for k in lags))
    for look in report.looks:
        for name, r in ((look.label, look.reach), ("  untrained", look.control)):
            lines.append(f"  {name:<{width}}" + "".join(f"{spread(r, k):<27}" for k in lags))
    if report.ngram is None:
        lines.append("per-character loss: no n-gram baseline (the model holds no training record to fit one on)")
    else:
        lines.append(f"per-character loss, bits, of {report.looks[0].label} and of n-gram models fitted on the "
                     "training text:")
        best = best_order(report.ngram)
        lines.append(f"  {'predicted character':<22}{'count':>7}{'network':>9}" + "".join(
            f"{f'{n}-gram':>8}" for n in range(1, len(report.ngram) + 1)) + f"  network better than the {best}-gram")
        for kind, count, bits, ngram, better in report.table:
            lines.append(f"  {kind:<22}{count:>7}{bits:>9.2f}" + "".join(f"{b:>8.2f}" for b in ngram)
                         + f"  {better:.0%}")
    return lines
