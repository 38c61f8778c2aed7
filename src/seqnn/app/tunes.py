"""``seqnn play`` (an ABC file's tune as a WAV file) and ``seqnn sample RUN --tunes N`` (tunes a model writes,
each as ABC and WAV, with its title and whether it is well formed)."""

from __future__ import annotations

import os

import numpy as np

from .._files import write_atomic
from ..data import read_text
from ..music import ABCError, Tune, parse_tune, problems, split_tunes
from ..sample import stream_text
from ..sound import RATE, render, write_wav
from .options import RunError
from .runlog import clock

TUNE_CHARS = 3000                 # a generated tune ends at its blank line, or after this many characters


def described(tune: Tune, samples: np.ndarray) -> str:
    """'Title' (X:n), its length, its notes, and whether it is well formed (or its first problem)."""
    found = problems(tune)
    notes = sum(len(bar.notes) for bar in tune.bars)
    health = "well formed" if not found else f"not well formed: {found[0]}" + (
        f" (and {len(found) - 1} more)" if len(found) > 1 else "")
    return f"{tune.title!r} (X:{tune.headers.get('X', '?')}), {clock(len(samples) / RATE)}, {notes} notes, {health}"


def play(path: str, out: str | None = None, number: int = 1) -> list:
    """``seqnn play``: the ``number``-th tune of the ABC file ``path`` as a WAV file (``out``, default: ``path``
    with ``.wav``). Returns the lines to print."""
    text = read_text([path])
    tunes = split_tunes(text)
    if not tunes:
        raise RunError(f"{path}: holds no tune (a tune starts at a line X:1)")
    if number > len(tunes):
        raise RunError(f"--tune {number}: {path} holds {len(tunes)} tune{'s' * (len(tunes) > 1)}")
    start, body = tunes[number - 1]
    try:
        tune = parse_tune(body, start)
    except ABCError as err:
        raise RunError(f"{path}: {err}") from None
    out = out or os.path.splitext(path)[0] + ".wav"
    samples = render(tune)
    write_wav(out, samples)
    return [f"wrote {out}: {described(tune, samples)}"]


def generated_tune(model, vocab, rng, temperature: float, top_k, top_p) -> str:
    """One tune the model writes after a blank line and ``X:``, up to its own blank line (or ``TUNE_CHARS``)."""
    prime = "\n\nX:" if "\n" in vocab.tokens else "X:"
    written = []
    for ch in stream_text(model, vocab, vocab.encode(prime), TUNE_CHARS, temperature=temperature, top_k=top_k,
                          top_p=top_p, rng=rng):
        written.append(ch)
        if ch == "\n" and len(written) > 1 and written[-2] == "\n":
            break
    return "X:" + "".join(written).rstrip("\n") + "\n"


def sample_tunes(model, vocab, n: int, out: str, rng, temperature: float = 1.0, top_k=None, top_p=None) -> list:
    """``seqnn sample RUN --tunes N``: ``n`` tunes written into the folder ``out`` as ``tune-K.abc`` and, when it
    can be read, ``tune-K.wav``. Returns the lines to print, one per tune, and a summary."""
    missing = [ch for ch in "X:\n" if ch not in vocab.tokens]
    if missing:
        raise RunError(f"--tunes: this model never saw {' or '.join(map(repr, missing))}, so it was not trained on "
                       "tunes in ABC notation; train one with seqnn train --corpus tunes")
    if os.path.exists(out) and not os.path.isdir(out):
        raise RunError(f"--out: {out} is a file; expected a folder for the tunes (it is created if missing)")
    os.makedirs(out, exist_ok=True)
    lines, good = [], 0
    for k in range(1, n + 1):
        text = generated_tune(model, vocab, rng, temperature, top_k, top_p)
        text = f"X:{k}\n" + text.split("\n", 1)[1]           # numbered in the order written
        abc = os.path.join(out, f"tune-{k}.abc")
        data = text.encode("utf-8")
        write_atomic(abc, lambda f, data=data: f.write(data))
        try:
            tune = parse_tune(text)
        except ABCError as err:
            lines.append(f"{abc}: cannot be read, so no .wav: {err}")
            continue
        samples = render(tune)
        write_wav(os.path.join(out, f"tune-{k}.wav"), samples)
        good += not problems(tune)
        lines.append(f"{abc}, tune-{k}.wav: {described(tune, samples)}")
    lines.append(f"{good} of {n} tunes well formed; play the .wav files, or read the .abc ones with any ABC tool")
    return lines
