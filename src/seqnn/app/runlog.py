"""What a training run shows and keeps of itself: the progress line, metrics.csv and loss.png.

``Progress`` is what a person watches (a status line redrawn in place on a
terminal, plain lines in a log file). ``RunLog`` is the run's history, every
step and every validation, kept in checkpoints and written out as
``metrics.csv`` (one row per step) and ``loss.png``.
"""

from __future__ import annotations

import csv
import math
import os
import shutil
import time
from collections import deque
from contextlib import contextmanager, suppress

import numpy as np

from .._files import open_plain
from . import plots

LN2 = math.log(2.0)
CSV_COLUMNS = ["step", "time", "train_loss", "train_bpc", "val_loss", "val_bpc", "chars_per_s", "grad_norm", "lr"]


def clock(seconds: float) -> str:
    """Seconds as h:mm:ss."""
    seconds = max(0, int(round(seconds)))
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


@contextmanager
def writing(path: str):
    """A failed write (a full disk, a read-only folder) raises ``OSError`` naming ``path``."""
    try:
        yield
    except OSError as err:
        if err.filename is None:
            raise OSError(err.errno, err.strerror or str(err), path) from None
        raise


class Pace:
    """Honest numbers for the status line: characters trained on per second over the last 20 training steps
    (validation not counted), and the time the stopping rule (``target`` step, ``deadline`` on the monotonic
    clock) leaves."""

    def __init__(self, step: int, target: float, deadline: float):
        self.start, self.first_step, self.target, self.deadline = time.monotonic(), step, target, deadline
        self.recent: deque = deque(maxlen=20)            # (characters, seconds) of the last 20 steps

    def add(self, chars: int, seconds: float) -> None:
        self.recent.append((chars, seconds))

    def chars_per_second(self) -> float:
        return sum(c for c, _ in self.recent) / max(sum(t for _, t in self.recent), 1e-9)

    def left(self, step: int) -> float:
        now = time.monotonic()
        per_step = (now - self.start) / max(step - self.first_step, 1)
        return min((self.target - step) * per_step, self.deadline - now)


class Progress:
    """One status line: redrawn in place on a terminal; otherwise (a log file, CI, a notebook) printed as a
    plain line at the first step, then every ``every`` seconds (0: every step) and whenever ``force`` asks
    (a validation). ``quiet``: no status line at all (the permanent lines of ``say`` still print)."""

    def __init__(self, stream, every: float = 10.0, quiet: bool = False):
        self.stream, self.every, self.quiet = stream, every, quiet
        self.tty = stream.isatty()
        self.drawn, self.last_draw = False, -math.inf

    DROP = ("speed", "lr", "epoch", "val", "loss")
    """The fields a narrow terminal loses first: the step and the time left stay."""

    def status(self, fields: dict, force: bool = False) -> None:
        """Show the status line made of ``fields`` (name -> text, in order)."""
        if self.quiet:
            return
        now = time.monotonic()
        if self.tty:
            if now - self.last_draw >= 0.1:
                width = shutil.get_terminal_size((100, 20)).columns - 1
                self.stream.write("\r" + fit(fields, width, self.DROP) + "\x1b[K")
                self.stream.flush()
                self.drawn, self.last_draw = True, now
        elif force or now - self.last_draw >= self.every:
            self.say(" | ".join(fields.values()))
            self.last_draw = now

    def say(self, text: str) -> None:
        """A permanent line (or block) above the status line."""
        if self.drawn:
            self.stream.write("\r\x1b[K")
            self.drawn = False
        self.stream.write(text + "\n")
        self.stream.flush()


def fit(fields: dict, width: int, drop: tuple) -> str:
    """The fields joined by " | ", dropping them in the order of ``drop`` until the line fits ``width``."""
    fields = dict(fields)
    line = " | ".join(fields.values())
    for name in drop:
        if len(line) <= width:
            break
        fields.pop(name, None)
        line = " | ".join(fields.values())
    return line[:width]


class RunLog:
    """The history of a run (every step, every validation) and its two views, metrics.csv and loss.png.

    A write that fails raises ``OSError`` with the file's path as its ``filename``.
    """

    KEYS = ("step", "time", "loss", "grad_norm", "chars_per_s", "lr", "val_step", "val_loss")

    def __init__(self, folder: str, saved: dict | None = None):
        self.folder = folder
        self.data: dict[str, list] = {k: [] for k in self.KEYS}
        if saved is not None:
            self.data = {k: np.asarray(saved[k]).tolist() for k in self.KEYS}
        self.csv_path = os.path.join(folder, "metrics.csv")
        self.plot_path = os.path.join(folder, "loss.png")
        with writing(self.csv_path):
            with open_plain(self.csv_path, "w") as f:         # rewritten from the history: no stale rows
                writer = csv.writer(f)
                writer.writerow(CSV_COLUMNS)
                val = dict(zip(self.data["val_step"], self.data["val_loss"]))
                for k, step in enumerate(self.data["step"]):
                    writer.writerow(self._row(k, val.get(step)))
            self._file = open_plain(self.csv_path, "a")
        self._csv = csv.writer(self._file)
        self.plot_note: str | None = None

    def _row(self, k, val_loss):
        d = self.data
        val = ["", ""] if val_loss is None else [f"{val_loss:.6f}", f"{val_loss / LN2:.6f}"]
        return [d["step"][k], f"{d['time'][k]:.3f}", f"{d['loss'][k]:.6f}", f"{d['loss'][k] / LN2:.6f}", *val,
                f"{d['chars_per_s'][k]:.0f}", f"{d['grad_norm'][k]:.6g}", f"{d['lr'][k]:.6g}"]

    def add_step(self, step, elapsed, loss, grad_norm, chars_per_s, lr, val_loss=None) -> None:
        for key, value in zip(self.KEYS, (step, elapsed, loss, grad_norm, chars_per_s, lr)):
            self.data[key].append(value)
        if val_loss is not None:
            self.data["val_step"].append(step)
            self.data["val_loss"].append(val_loss)
        with writing(self.csv_path):
            self._csv.writerow(self._row(len(self.data["step"]) - 1, val_loss))

    def state(self) -> dict:
        return {k: np.asarray(v, dtype=np.int64 if k in ("step", "val_step") else np.float64)
                for k, v in self.data.items()}

    def flush(self) -> None:
        with writing(self.csv_path):
            self._file.flush()

    def close(self) -> None:
        with suppress(OSError):      # a failed write was reported already
            self._file.close()

    def plot(self) -> str:
        """Draw loss.png; returns a one-line note on where it went (or why not)."""
        try:
            with writing(self.plot_path):
                plots.plot_training(self.data["step"], np.asarray(self.data["loss"]) / LN2, self.data["val_step"],
                                  np.asarray(self.data["val_loss"]) / LN2, self.plot_path)
        except ImportError:
            return "loss.png: matplotlib is not installed, so no plot (pip install matplotlib); metrics.csv has it all"
        return f"loss curves: {self.plot_path}"
