"""A tune made audible: each note a tone in equal temperament (A4 = 440 Hz), for as long as its length at the
tune's tempo, written as a WAV file with the standard library's ``wave``.

The tone is additive: a note of frequency f is the sum of its first harmonics, ``sin(2 pi k f t) / k^2``
(k = 1 .. 8, those below half the sample rate), shaped by an envelope that rises in 5 ms, decays like a plucked
string, and falls to 0 over the last 10 ms of the note (or its last quarter, for a shorter one): a note ends at
its length, a rest is silence, and repeated notes are heard apart. A chord is the sum of its notes. The whole is
scaled so that its loudest sample is 0.8.
"""

from __future__ import annotations

import wave

import numpy as np

from ._files import write_atomic
from .music import Tune, notes_in_time

RATE = 22_050                       # samples per second
HARMONICS = 8


def frequency(midi) -> np.ndarray:
    """Equal temperament: MIDI note 69 (A4) is 440 Hz, and each semitone a factor 2^(1/12)."""
    return 440.0 * 2.0 ** ((np.asarray(midi, dtype=np.float64) - 69) / 12)


def seconds_per_whole(tune: Tune) -> float:
    """How long a whole note lasts at the tune's tempo (Q:, default 1/4 = 120: 2 s)."""
    beat, per_minute = tune.tempo
    return 60.0 / per_minute / float(beat)


def tone(f: float, duration: float, rate: int = RATE) -> np.ndarray:
    """One note of frequency ``f`` Hz lasting ``duration`` seconds: (round(duration * rate),) float64."""
    n = int(round(duration * rate))
    t = np.arange(n) / rate
    wave_ = sum(np.sin(2 * np.pi * k * f * t) / k ** 2 for k in range(1, HARMONICS + 1) if k * f < rate / 2)
    attack, release = min(0.005, duration / 4), min(0.01, duration / 4)
    envelope = np.minimum(1.0, t / attack) * np.exp(-2.5 * t) * np.clip((duration - t) / release, 0.0, 1.0)
    return np.asarray(wave_, dtype=np.float64) * envelope


def render(tune: Tune, rate: int = RATE) -> np.ndarray:
    """The tune as sound: (samples,) float32 in [-0.8, 0.8], repeats played out, at ``rate`` samples a second."""
    whole = seconds_per_whole(tune)
    notes = notes_in_time(tune)
    end = max((float(start + length) for _, start, length in notes), default=0.0)
    out = np.zeros(int(round(end * whole * rate)) + 1)
    for pitches, start, length in notes:
        at = int(round(float(start) * whole * rate))
        for f in frequency(pitches):
            sound = tone(float(f), float(length) * whole, rate)
            out[at:at + len(sound)] += sound[:len(out) - at]
    peak = np.abs(out).max()
    return (out * (0.8 / peak) if peak > 0 else out).astype(np.float32)


def write_wav(path: str, samples: np.ndarray, rate: int = RATE) -> None:
    """``samples`` (float, in [-1, 1]) as a 16-bit mono WAV file at ``path``, written whole or not at all."""
    pcm = (np.clip(samples, -1.0, 1.0) * 32767).astype("<i2").tobytes()

    def write(f):
        with wave.open(f, "wb") as w:
            w.setnchannels(1)
            w.setsampwidth(2)
            w.setframerate(rate)
            w.writeframes(pcm)

    write_atomic(path, write)
