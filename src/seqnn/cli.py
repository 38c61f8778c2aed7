"""The command line: ``seqnn train``, ``seqnn sample``, ``seqnn evaluate`` (also ``python -m seqnn``).

It only composes what lies below it: ``data.read_text`` and ``Vocabulary`` for
the text, ``CharLM`` for the model, ``train.StreamTrainer`` (truncated BPTT, one
chunk per step) and ``train.evaluate`` for training and validation,
``sample.generate`` for text, ``io`` for checkpoints, ``viz`` for the loss plot.

A training run writes into one folder (``--out``)::

    last.npz      the latest checkpoint: model, vocabulary, optimizer state, data position,
                  carried hidden state, random generator states, options, history
    best.npz      the same, at the lowest validation loss so far
    metrics.csv   one row per step: step, time, train loss, val loss, val bpc, chars/s, grad norm
    loss.png      training and validation curves (when matplotlib is installed)

``seqnn train --resume DIR`` continues from ``DIR/last.npz``; a run stopped at
step n and resumed gives the same parameters, losses and samples, to the bit,
as a run that never stopped.
"""

from __future__ import annotations

from typing import Any

import argparse
import csv
import hashlib
import math
import os
import shutil
import signal
import sys
import threading
import time
from dataclasses import dataclass
from importlib import resources

import numpy as np

from . import io, viz
from ._version import __version__
from .data import Vocabulary, batchify, read_text
from .models import CharLM
from .optim import SGD, Adagrad, Adam, RMSProp
from .sample import generate
from .train import StreamTrainer, evaluate

CORPUS = "Alice's Adventures in Wonderland (Lewis Carroll, 1865; public domain)"
OPTIMIZERS = {"sgd": (SGD, 1.0), "adagrad": (Adagrad, 0.1), "rmsprop": (RMSProp, 2e-3), "adam": (Adam, 5e-3)}
# Defaults chosen by two-minute runs on the bundled corpus (docs/train-your-text.md): one layer of 256 overfits
# the 141k training characters after about 900 steps (2.29 bits/char at best); two layers with dropout 0.3
# reach 2.18 in the same two minutes and keep improving. dropout None: 0.3 with two or more layers, else 0.
DEFAULTS = dict(cell="lstm", hidden=256, layers=2, dropout=None, seq_len=100, batch=32, optimizer="adam", lr=None,
                clip=5.0, steps=None, epochs=None, minutes=None, val_fraction=0.05, eval_every=100, eval_chars=100_000,
                sample_chars=200, log_every=50, dtype="float32", seed=1)
ARCHITECTURE = ("cell", "hidden", "layers", "dropout", "seq_len", "batch", "optimizer", "val_fraction", "dtype", "seed")
STOP_RULES = ("steps", "epochs", "minutes")
CSV_COLUMNS = ["step", "time", "train_loss", "val_loss", "val_bpc", "chars_per_s", "grad_norm"]
LN2 = math.log(2.0)


class CLIError(Exception):
    """A user's mistake: printed as one line, exit status 1, no traceback."""


# --- argument types: a bad value is argparse's one-line error naming the option ---------------------------
def _number(kind, low, low_ok, high=None, what=""):
    def parse(text):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}") from None
        if not math.isfinite(value) or value < low or (value == low and not low_ok) or (high is not None
                                                                                        and value >= high):
            raise argparse.ArgumentTypeError(f"expected {what}, got {text}")
        return value
    return parse


positive_int = _number(int, 1, True, what="a positive integer")
positive_float = _number(float, 0.0, False, what="a positive number")
nonneg_float = _number(float, 0.0, True, what="a number >= 0")
nonneg_int = _number(int, 0, True, what="an integer >= 0")
open_fraction = _number(float, 0.0, False, 1.0, what="a fraction strictly between 0 and 1")


class HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Shows "(default: ...)" for options whose default is a value; the others say theirs in words."""

    def _get_help_string(self, action):
        if action.default is None or action.default is False or "default:" in (action.help or ""):
            return action.help
        return super()._get_help_string(action)


class Parser(argparse.ArgumentParser):
    """argparse, with a bad option reported as one line (naming the option) instead of the usage block."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="seqnn", description="Train a character-level language model on any text, sample from it, evaluate it.",
        epilog="Start with `seqnn train --minutes 2` (the bundled corpus), then `seqnn sample run`. "
               "`seqnn COMMAND --help` explains each command.")
    parser.add_argument("--version", action="version", version=f"seqnn {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    fmt = HelpFormatter

    t = sub.add_parser("train", formatter_class=fmt, help="train a character-level language model (CharLM)",
                       description="Train a character-level language model (CharLM) with truncated BPTT on UTF-8 "
                       "text files, or on the bundled corpus (Alice in Wonderland) when no file is given. The last "
                       "--val-fraction of the text is held out for validation. Shows progress while it trains, "
                       "writes checkpoints (last.npz, best.npz), metrics.csv and loss.png into --out, and stops "
                       "cleanly on Ctrl-C; --resume continues a run exactly where it stopped.",
                       epilog="Example: seqnn train --minutes 2 --out run; then seqnn sample run --prime 'Alice'.")
    t.add_argument("text", nargs="*", metavar="TEXT", help="UTF-8 text files, joined in order (default: the bundled "
                   "corpus, Alice's Adventures in Wonderland)")
    g = t.add_argument_group("model")
    g.add_argument("--cell", choices=["rnn", "lstm", "gru"], help=f"recurrent cell (default: {DEFAULTS['cell']})")
    g.add_argument("--hidden", type=positive_int, help=f"hidden size H (default: {DEFAULTS['hidden']})")
    g.add_argument("--layers", type=positive_int, help=f"stacked layers (default: {DEFAULTS['layers']})")
    g.add_argument("--dropout", type=_number(float, 0.0, True, 1.0, what="a probability in [0, 1)"),
                   help="dropout between stacked layers, needs --layers 2 or more (default: 0.3 with 2 or more "
                   "layers, else 0)")
    g.add_argument("--dtype", choices=["float32", "float64"], help="float32 for speed, float64 for exactness "
                   f"(default: {DEFAULTS['dtype']})")
    g = t.add_argument_group("data and optimisation")
    g.add_argument("--seq-len", type=positive_int, help="truncation length k: characters per chunk, the gradient is "
                   f"cut between chunks (default: {DEFAULTS['seq_len']})")
    g.add_argument("--batch", type=positive_int, help=f"parallel streams B (default: {DEFAULTS['batch']})")
    g.add_argument("--val-fraction", type=open_fraction, help="the tail of the text held out for validation "
                   f"(default: {DEFAULTS['val_fraction']})")
    g.add_argument("--optimizer", choices=sorted(OPTIMIZERS), help=f"(default: {DEFAULTS['optimizer']})")
    g.add_argument("--lr", type=positive_float, help="learning rate (default: adam 0.005, rmsprop 0.002, "
                   "adagrad 0.1, sgd 1.0)")
    g.add_argument("--clip", type=nonneg_float, help="clip the global gradient norm to this; 0 turns clipping off "
                   f"(default: {DEFAULTS['clip']})")
    g.add_argument("--seed", type=nonneg_int,
                   help=f"seeds the weights, dropout and samples (default: {DEFAULTS['seed']})")
    g = t.add_argument_group("when to stop (the first rule reached; none given: --epochs 20)")
    g.add_argument("--steps", type=positive_int, help="stop at this step (counted from the start of the run)")
    g.add_argument("--epochs", type=positive_int, help="stop after this many passes over the training text")
    g.add_argument("--minutes", type=positive_float, help="stop after this many minutes of this invocation")
    g = t.add_argument_group("watching and saving")
    g.add_argument("--eval-every", type=positive_int, help="validate, sample and save every this many steps "
                   f"(default: {DEFAULTS['eval_every']})")
    g.add_argument("--eval-chars", type=nonneg_int, help="validate on at most this many characters of the held-out "
                   f"text, 0 for all (default: {DEFAULTS['eval_chars']})")
    g.add_argument("--sample-chars", type=nonneg_int, help="characters of sample text shown at each validation, 0 for "
                   f"none (default: {DEFAULTS['sample_chars']})")
    g.add_argument("--log-every", type=positive_int, help="when the output is not a terminal, print a progress line "
                   f"every this many steps (default: {DEFAULTS['log_every']})")
    g.add_argument("--out", metavar="DIR", help="folder for checkpoints, metrics.csv and loss.png (default: run)")
    g.add_argument("--resume", metavar="DIR", help="continue the run saved in DIR (its last.npz) with its own options; "
                   "only the stopping rule, --lr, --clip and the watching options may change")
    g.add_argument("--overwrite", action="store_true", help="start afresh in --out even if it holds a run")
    t.set_defaults(func=cmd_train)

    s = sub.add_parser("sample", formatter_class=fmt, help="generate text from a trained model",
                       description="Generate text from a model that seqnn train saved. The prime text is read by "
                       "the model first (as in char-rnn), then each next character is drawn from the model's "
                       "distribution, sharpened or flattened by --temperature; --temperature 0 always takes the most "
                       "likely character (greedy).",
                       epilog="Example: seqnn sample run/best.npz --prime 'The Queen' --length 300 --temperature 0.8")
    s.add_argument("checkpoint", metavar="CHECKPOINT", help="a .npz that seqnn train wrote, or its folder "
                   "(then best.npz, else last.npz)")
    p = s.add_mutually_exclusive_group()
    p.add_argument("--prime", metavar="TEXT", help="text to start from (default: a newline, not printed)")
    p.add_argument("--prime-file", metavar="FILE", help="read the prime text from a UTF-8 file")
    s.add_argument("--length", type=positive_int, default=500, help="characters to generate")
    s.add_argument("--temperature", type=nonneg_float, default=1.0, help="0 greedy; < 1 safer, > 1 wilder")
    s.add_argument("--top-k", type=positive_int, help="draw only from the k most likely characters (default: all)")
    s.add_argument("--seed", type=nonneg_int, default=0, help="the same seed gives the same text")
    s.set_defaults(func=cmd_sample)

    e = sub.add_parser("evaluate", formatter_class=fmt, help="loss, perplexity and bits per character on a text",
                       description="Measure a trained model on a text: the mean cross-entropy in nats per "
                       "character, the perplexity exp(loss) and the bits per character loss / ln 2. With no TEXT, "
                       "the held-out validation text of the run that trained it.",
                       epilog="Example: seqnn evaluate run/best.npz my_notes.txt")
    e.add_argument("checkpoint", metavar="CHECKPOINT", help="a .npz that seqnn train wrote, or its folder")
    e.add_argument("text", nargs="*", metavar="TEXT", help="UTF-8 text files (default: the run's validation text)")
    e.add_argument("--seq-len", type=positive_int, help="chunk length for reading (default: the training seq-len)")
    e.add_argument("--batch", type=positive_int, default=32, help="parallel streams while reading")
    e.set_defaults(func=cmd_evaluate)
    return parser


# --- the text -------------------------------------------------------------------------------------------------
def _corpus_path():
    return resources.files("seqnn") / "corpus" / "alice.txt"


def load_text(paths):
    """(text, description, stored paths) of the given files, or of the bundled corpus when there are none."""
    if paths:
        text = read_text(paths)                       # the same reader for a user's file and the corpus
        return text, ", ".join(paths), [os.path.abspath(p) for p in paths]
    with resources.as_file(_corpus_path()) as path:
        text = read_text([path])
    return text, f"the bundled corpus, {CORPUS}", []


def split(ids: np.ndarray, val_fraction: float, batch: int, seq_len: int):
    """(train ids, validation ids): the last ``val_fraction`` of the stream is held out."""
    n_val = max(2, round(len(ids) * val_fraction))
    train_ids, val_ids = ids[:len(ids) - n_val], ids[len(ids) - n_val:]
    need = batch * (seq_len + 1)
    if len(train_ids) < need:
        raise CLIError(f"the text is too short: {len(ids):,} characters leave {len(train_ids):,} for training after "
                       f"--val-fraction {val_fraction}, and one batch of --batch {batch} x (--seq-len {seq_len} + 1) "
                       f"needs {need:,}; give a longer text or a smaller --batch or --seq-len")
    return train_ids, val_ids


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def check_same_text(text: str, described: str, trained_on: dict, what: str) -> None:
    """Refuse a text that is not the one a run trained on (``trained_on``: a checkpoint's text record)."""
    if _sha256(text) != trained_on["sha256"]:
        raise CLIError(f"{what}: the text ({described}) is not the text this run trained on "
                       f"({trained_on['chars']:,} characters, sha256 {trained_on['sha256'][:12]}...)")


# --- what a person watches ----------------------------------------------------------------------------------
def _clock(seconds: float) -> str:
    seconds = max(0, int(round(seconds)))
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


class Progress:
    """One status line: redrawn in place on a terminal, printed every ``log_every`` steps otherwise."""

    def __init__(self, stream, log_every: int):
        self.stream, self.log_every = stream, log_every
        self.tty = stream.isatty()
        self.drawn, self.last_draw = False, 0.0

    def status(self, step: int, line: str) -> None:
        if self.tty:
            now = time.monotonic()
            if now - self.last_draw >= 0.1:
                width = shutil.get_terminal_size((100, 20)).columns - 1
                self.stream.write("\r" + line[:width] + "\x1b[K")
                self.stream.flush()
                self.drawn, self.last_draw = True, now
        elif step % self.log_every == 0:
            self.say(line)

    def say(self, text: str) -> None:
        """A permanent line (or block) above the status line."""
        if self.drawn:
            self.stream.write("\r\x1b[K")
            self.drawn = False
        self.stream.write(text + "\n")
        self.stream.flush()


class RunLog:
    """The history of a run (every step, every validation) and its two views, metrics.csv and loss.png."""

    KEYS = ("step", "time", "loss", "grad_norm", "chars_per_s", "val_step", "val_loss")

    def __init__(self, folder: str, saved: dict | None = None):
        self.folder = folder
        self.data: dict[str, list] = {k: [] for k in self.KEYS}
        if saved is not None:
            self.data = {k: np.asarray(saved[k]).tolist() for k in self.KEYS}
        self.csv_path = os.path.join(folder, "metrics.csv")
        with open(self.csv_path, "w", newline="") as f:       # rewritten from the history: no stale rows
            writer = csv.writer(f)
            writer.writerow(CSV_COLUMNS)
            val = dict(zip(self.data["val_step"], self.data["val_loss"]))
            for k, step in enumerate(self.data["step"]):
                writer.writerow(self._row(k, val.get(step)))
        self._file = open(self.csv_path, "a", newline="")
        self._csv = csv.writer(self._file)
        self.plot_note: str | None = None

    def _row(self, k, val_loss):
        d = self.data
        val = ["", ""] if val_loss is None else [f"{val_loss:.6f}", f"{val_loss / LN2:.6f}"]
        return [d["step"][k], f"{d['time'][k]:.3f}", f"{d['loss'][k]:.6f}", *val, f"{d['chars_per_s'][k]:.0f}",
                f"{d['grad_norm'][k]:.6g}"]

    def add_step(self, step, elapsed, loss, grad_norm, chars_per_s, val_loss=None) -> None:
        for key, value in zip(self.KEYS, (step, elapsed, loss, grad_norm, chars_per_s)):
            self.data[key].append(value)
        if val_loss is not None:
            self.data["val_step"].append(step)
            self.data["val_loss"].append(val_loss)
        self._csv.writerow(self._row(len(self.data["step"]) - 1, val_loss))

    def state(self) -> dict:
        return {k: np.asarray(v, dtype=np.int64 if k in ("step", "val_step") else np.float64)
                for k, v in self.data.items()}

    def flush(self) -> None:
        self._file.flush()

    def close(self) -> None:
        self._file.close()

    def plot(self) -> str:
        """Draw loss.png; returns a one-line note on where it went (or why not)."""
        path = os.path.join(self.folder, "loss.png")
        try:
            viz.plot_training(self.data["step"], np.asarray(self.data["loss"]) / LN2, self.data["val_step"],
                              np.asarray(self.data["val_loss"]) / LN2, path)
        except ImportError:
            return "loss.png: matplotlib is not installed, so no plot (pip install matplotlib); metrics.csv has it all"
        return f"loss curves: {path}"


# --- checkpoints ------------------------------------------------------------------------------------------------
def resolve_checkpoint(path: str) -> str:
    if os.path.isdir(path):
        for name in ("best.npz", "last.npz"):
            if os.path.isfile(os.path.join(path, name)):
                return os.path.join(path, name)
        raise CLIError(f"{path}: holds no best.npz or last.npz")
    if not os.path.isfile(path):
        raise CLIError(f"{path}: no such checkpoint")
    return path


def load_charlm(path: str):
    """(model, vocab, training or None) from a checkpoint that seqnn train wrote."""
    model, vocab, training = io.load_checkpoint(path)
    if not isinstance(model, CharLM):
        raise CLIError(f"{path}: holds a {type(model).__name__}; expected a CharLM (a model from seqnn train)")
    if vocab is None:
        raise CLIError(f"{path}: holds no vocabulary, so its ids cannot be turned into characters")
    return model, vocab, training


def encode_known(vocab: Vocabulary, text: str, what: str) -> np.ndarray:
    unknown = sorted(set(text) - set(vocab.tokens))
    if unknown:
        shown = ", ".join(repr(c) for c in unknown[:10]) + (" ..." if len(unknown) > 10 else "")
        raise CLIError(f"{what}: {len(unknown)} character(s) the model's vocabulary does not have: {shown} "
                       f"(it knows {len(vocab)}: {''.join(vocab.tokens)!r})")
    return vocab.encode(text)


# --- seqnn train ------------------------------------------------------------------------------------------------
def new_options(**given) -> dict:
    """A new run's options: ``given`` (option name -> value) over ``DEFAULTS``, with the rules that tie them."""
    unknown = sorted(set(given) - set(DEFAULTS))
    if unknown:
        raise TypeError(f"given: unknown options {unknown}")
    opts = {**DEFAULTS, **{k: v for k, v in given.items() if v is not None}}
    if opts["lr"] is None:
        opts["lr"] = OPTIMIZERS[opts["optimizer"]][1]
    if opts["steps"] is None and opts["epochs"] is None and opts["minutes"] is None:
        opts["epochs"] = 20
    if opts["dropout"] is None:
        opts["dropout"] = 0.3 if opts["layers"] > 1 else 0.0
    elif opts["dropout"] and opts["layers"] == 1:
        raise CLIError("--dropout acts between stacked layers, so with --layers 1 it would do nothing; "
                       "use --layers 2 or more")
    return opts


def _options(args):
    """(options, checkpoint to resume or None): a new run's options, or the changes asked of a resumed one."""
    given = {k: getattr(args, k) for k in DEFAULTS if getattr(args, k) is not None}
    if args.resume is None:
        return new_options(**given), None
    if args.out is not None and os.path.abspath(args.out) != os.path.abspath(args.resume):
        raise CLIError("--out: a resumed run stays in its own folder (--resume DIR); leave --out out")
    path = os.path.join(args.resume, "last.npz")
    if not os.path.isfile(path):
        raise CLIError(f"--resume: {path} does not exist; is {args.resume} the --out folder of a seqnn train run?")
    fixed = [k for k in ARCHITECTURE if k in given]
    if fixed:
        raise CLIError(f"--resume: {', '.join('--' + k.replace('_', '-') for k in fixed)} cannot change when "
                       "resuming (the checkpoint fixes the model and the data); start a new run in another --out")
    return given, path


@dataclass
class Run:
    """What one training run is made of, built the same way for a new run and a resumed one."""

    opts: dict
    text: str
    described: str              # the text, in words
    text_info: dict             # stored in checkpoints: file paths, sha256, length
    vocab: Vocabulary
    model: CharLM
    trainer: StreamTrainer
    n_train: int
    val_ids: np.ndarray


def make_run(opts: dict, text_paths) -> Run:
    """Read the text, split off validation, build the CharLM, its optimizer and the StreamTrainer."""
    text, described, stored_paths = load_text(text_paths)
    vocab = Vocabulary(text)
    train_ids, val_ids = split(vocab.encode(text), opts["val_fraction"], opts["batch"], opts["seq_len"])
    extra: dict[str, Any] = {"forget_bias": 1.0} if opts["cell"] == "lstm" else {}
    model = CharLM(len(vocab), opts["hidden"], opts["cell"], num_layers=opts["layers"], dropout=opts["dropout"],
                   dtype=np.dtype(opts["dtype"]), rng=opts["seed"], **extra)
    optimizer = OPTIMIZERS[opts["optimizer"]][0](model.parameters(), lr=opts["lr"])
    trainer = StreamTrainer(model, batchify(train_ids, opts["batch"]), opts["seq_len"], optimizer,
                            opts["clip"] or None)
    text_info = {"files": stored_paths, "sha256": _sha256(text), "chars": len(text)}
    return Run(opts, text, described, text_info, vocab, model, trainer, len(train_ids), val_ids)


class Session:
    """One invocation of ``seqnn train`` on a run: the loop, validation, checkpoints and what is shown."""

    def __init__(self, run: Run, folder: str, saved: dict | None):
        self.run, self.folder, self.opts = run, folder, run.opts
        cpe = run.trainer.chunks_per_epoch
        self.target = min([n for n in (self.opts["steps"], self.opts["epochs"] and self.opts["epochs"] * cpe) if n]
                          or [math.inf])
        self.rules = " or ".join(f"{self.opts[k]} {k}" for k in STOP_RULES if self.opts[k])
        if run.trainer.steps >= self.target:
            raise CLIError(f"the run is already at step {run.trainer.steps}, where its rule ({self.rules}) stops "
                           "it; pass a larger --steps or --epochs, or --minutes, to train further")
        self.show = Progress(sys.stdout, self.opts["log_every"])
        self.log = RunLog(folder, saved["log"] if saved else None)
        self.best: dict[str, Any] = ({"loss": saved["best_loss"], "step": saved["best_step"]} if saved
                                     else {"loss": None, "step": None})
        self.elapsed = float(saved["elapsed"]) if saved else 0.0     # training time of the whole run, all sessions
        n = self.opts["eval_chars"]
        self.eval_ids = run.val_ids[:max(2, n)] if n else run.val_ids
        self.interrupts = 0

    def header(self, resumed_from: str | None) -> None:
        o, run = self.opts, self.run
        say = self.show.say
        say(f"seqnn train: {o['cell'].upper()}, {o['layers']} layer{'s' * (o['layers'] > 1)} x {o['hidden']} hidden, "
            f"{len(run.vocab)}-character vocabulary, {run.model.num_parameters():,} parameters, {o['dtype']}")
        say(f"text: {run.described}: {run.text_info['chars']:,} characters, {run.n_train:,} for training, "
            f"{len(run.val_ids):,} held out (validation on {len(self.eval_ids):,})")
        say(f"each step: {o['batch']} streams x {o['seq_len']} characters (truncated BPTT), "
            f"{run.trainer.chunks_per_epoch} steps per epoch; {o['optimizer']} lr {o['lr']:g}, clip "
            f"{o['clip'] or 'off'}; stop at {self.rules}")
        t = run.trainer
        say(f"resuming {resumed_from} at step {t.steps} (epoch {t.epoch}, chunk {t.chunk})" if resumed_from else
            f"writing to {self.folder}/: last.npz, best.npz, metrics.csv, loss.png; Ctrl-C stops and saves")

    # --- checkpoints and validation ---------------------------------------------------------------------------
    def checkpoint(self, name: str) -> None:
        state = {"trainer": self.run.trainer.state_dict(), "options": self.opts, "text": self.run.text_info,
                 "log": self.log.state(), "best_loss": self.best["loss"], "best_step": self.best["step"],
                 "elapsed": self.elapsed, "seqnn_version": __version__}
        io.save(self.run.model, os.path.join(self.folder, name), self.run.vocab, training=state)

    def validate(self):
        """(validation loss, whether it is the best so far)."""
        val = evaluate(self.run.model, self.eval_ids, self.opts["seq_len"], self.opts["batch"])
        is_best = self.best["loss"] is None or val < self.best["loss"]
        if is_best:
            self.best.update(loss=val, step=self.run.trainer.steps)
        return val, is_best

    def report(self, val: float, is_best: bool) -> None:
        """Save last (and best), then show the validation, a sample and where the plot went."""
        step = self.run.trainer.steps
        self.checkpoint("last.npz")
        if is_best:
            self.checkpoint("best.npz")
        self.log.flush()
        mark = (" (best so far, saved best.npz)" if is_best else
                f" (best {self.best['loss'] / LN2:.3f} at step {self.best['step']})")
        self.show.say(f"step {step}: validation {val:.4f} nats/char = {val / LN2:.3f} bits/char{mark}")
        if self.opts["sample_chars"]:
            rng = np.random.default_rng([self.opts["seed"], step])      # a function of the step: resumable
            self.show.say(_indent(sample_text(self.run.model, self.run.vocab, "\n", self.opts["sample_chars"],
                                              0.8, None, rng)))
        note = self.log.plot()
        if note != self.log.plot_note:
            self.show.say(note)
            self.log.plot_note = note

    # --- the loop ---------------------------------------------------------------------------------------------
    def on_interrupt(self, signum, frame) -> None:
        """The first Ctrl-C lets the step finish, then the run saves and stops; a second stops at once."""
        self.interrupts += 1
        if self.interrupts > 1:
            raise KeyboardInterrupt
        self.show.say("Ctrl-C: stopping after this step (press it again to stop at once, without saving)")

    def train(self) -> int:
        """Train until the stopping rule or Ctrl-C; returns the exit status (0 done, 130 interrupted)."""
        main_thread = threading.current_thread() is threading.main_thread()
        previous = signal.signal(signal.SIGINT, self.on_interrupt) if main_thread else None
        try:
            self._loop()
        except KeyboardInterrupt:
            self.show.say(f"stopped at once, without saving; {self.folder}/last.npz is from the last validation")
            return 130
        finally:
            self.log.close()
            if previous is not None:
                signal.signal(signal.SIGINT, previous)
        if self.interrupts:
            self.checkpoint("last.npz")
            self.show.say(f"interrupted at step {self.run.trainer.steps}; saved {self.folder}/last.npz. "
                          f"Continue with: seqnn train --resume {self.folder}")
            return 130
        self.show.say(f"done: step {self.run.trainer.steps}, {_clock(self.elapsed)} of training in all; best "
                      f"validation {self.best['loss'] / LN2:.3f} bits/char at step {self.best['step']} "
                      f"({self.folder}/best.npz). Try: seqnn sample {self.folder} --prime 'The'")
        return 0

    def _loop(self) -> None:
        trainer, opts = self.run.trainer, self.opts
        start, elapsed0, first_step = time.monotonic(), self.elapsed, trainer.steps
        deadline = start + opts["minutes"] * 60 if opts["minutes"] else math.inf
        recent: list = []                                    # (characters, seconds) of the last 20 steps
        last_val = self.log.data["val_loss"][-1] if self.log.data["val_loss"] else None
        while not self.interrupts:
            t0 = time.monotonic()
            loss, norm, chars = self._step()
            step_time = time.monotonic() - t0
            recent = (recent + [(chars, step_time)])[-20:]
            finishing = trainer.steps >= self.target or time.monotonic() >= deadline
            val = is_best = None
            if trainer.steps % opts["eval_every"] == 0 or finishing:
                val, is_best = self.validate()
                last_val = val
            self.elapsed = elapsed0 + time.monotonic() - start
            self.log.add_step(trainer.steps, self.elapsed, loss, norm, chars / max(step_time, 1e-9), val)
            if val is not None:
                self.report(val, bool(is_best))
            if finishing:
                return
            # honest numbers: characters trained on per second of training steps; time left by the stopping rule
            cps = sum(c for c, _ in recent) / max(sum(t for _, t in recent), 1e-9)
            per_step = (time.monotonic() - start) / (trainer.steps - first_step)
            left = min((self.target - trainer.steps) * per_step, deadline - time.monotonic())
            of = "" if self.target == math.inf else f"/{self.target}"
            val_text = f"val {last_val / LN2:.3f} bpc" if last_val is not None else "val -"
            self.show.status(trainer.steps, f"step {trainer.steps}{of} | epoch "
                             f"{trainer.epoch + trainer.chunk / trainer.chunks_per_epoch:.2f} | loss {loss:.3f} | "
                             f"{val_text} | {cps:,.0f} chars/s | {_clock(left)} left")

    def _step(self):
        trainer = self.run.trainer
        try:
            return trainer.step()
        except FloatingPointError as err:
            last = os.path.join(self.folder, "last.npz")
            where = (f"the last good checkpoint, {last} (step {_saved_step(last)}), is unchanged"
                     if os.path.isfile(last) else "no checkpoint had been saved yet")
            raise CLIError(f"training diverged at step {trainer.steps + 1} (epoch {trainer.epoch}): {err}; "
                           f"{where}. Try a smaller --lr or --clip") from None


def cmd_train(args) -> int:
    opts, resume_path = _options(args)
    saved = None
    if resume_path is not None:
        _, _, saved = load_charlm(resume_path)
        if saved is None or "trainer" not in saved:
            raise CLIError(f"--resume: {resume_path} is a model file without a training state")
        changes, opts = opts, dict(saved["options"])
        if any(k in changes for k in STOP_RULES):              # a new stopping rule replaces the saved one
            opts.update(dict.fromkeys(STOP_RULES))
        opts.update(changes)
        text_paths, folder = args.text or saved["text"]["files"], args.resume
    else:
        text_paths, folder = args.text, args.out or "run"
        if os.path.exists(folder) and not os.path.isdir(folder):
            raise CLIError(f"--out: {folder} is a file; expected a folder for the run (it is created if missing)")
        if os.path.exists(os.path.join(folder, "last.npz")) and not args.overwrite:
            raise CLIError(f"--out: {folder} already holds a run; continue it with --resume {folder}, "
                           "or pass --overwrite to start afresh there")
    run = make_run(opts, text_paths)
    if saved is not None:
        check_same_text(run.text, run.described, saved["text"], "--resume")
        io.load(resume_path, into=run.model)
        run.trainer.load_state_dict(saved["trainer"])
        run.trainer.optimizer.lr, run.trainer.clip_norm = opts["lr"], opts["clip"] or None
    os.makedirs(folder, exist_ok=True)
    session = Session(run, folder, saved)
    session.header(resume_path)
    return session.train()


def _saved_step(path: str):
    try:
        return io.load_checkpoint(path)[2]["trainer"]["steps"]
    except (ValueError, KeyError, TypeError, OSError):
        return "?"


def _indent(text: str) -> str:
    return "\n".join("    " + line for line in text.split("\n"))


# --- seqnn sample ----------------------------------------------------------------------------------------------
def sample_text(model, vocab, prime: str, length: int, temperature: float, top_k, rng) -> str:
    """``length`` characters after ``prime``, in evaluation mode (dropout off); temperature 0 is greedy."""
    was_training = model.training
    model.eval()
    try:
        ids = generate(model, encode_known(vocab, prime, "--prime"), length, greedy=temperature == 0,
                       temperature=temperature or 1.0, top_k=top_k, rng=rng)
    finally:
        model.train(was_training)
    return vocab.decode(ids)


def cmd_sample(args) -> int:
    path = resolve_checkpoint(args.checkpoint)
    model, vocab, _ = load_charlm(path)
    given = args.prime_file is not None or args.prime is not None       # a prime of the user's is printed too
    if args.prime_file is not None:
        prime = read_text([args.prime_file])
    elif args.prime is None:                           # a newline, or the first token of a vocabulary without one
        prime = "\n" if "\n" in vocab.index else vocab.tokens[0]
    else:
        prime = args.prime
    if prime == "":
        raise CLIError("--prime: expected at least one character, got an empty string")
    if args.top_k is not None and args.top_k > len(vocab):
        raise CLIError(f"--top-k: expected at most {len(vocab)} (the vocabulary's size), got {args.top_k}")
    text = sample_text(model, vocab, prime, args.length, args.temperature, args.top_k, args.seed)
    sys.stdout.write((prime if given else "") + text + "\n")
    return 0


# --- seqnn evaluate ----------------------------------------------------------------------------------------------
def cmd_evaluate(args) -> int:
    path = resolve_checkpoint(args.checkpoint)
    model, vocab, training = load_charlm(path)
    opts = training["options"] if training else {}
    seq_len = args.seq_len or opts.get("seq_len", DEFAULTS["seq_len"])
    if args.text:
        text, described, _ = load_text(args.text)
        ids = encode_known(vocab, text, "TEXT")
    else:
        if not training:
            raise CLIError(f"{path}: holds no training record, so there is no validation text to use; give TEXT")
        text, described, _ = load_text(training["text"]["files"])
        check_same_text(text, described, training["text"], "TEXT (none given)")
        _, ids = split(vocab.encode(text), opts["val_fraction"], opts["batch"], opts["seq_len"])
        described = f"the validation split of {described}"
    if len(ids) < 2:
        raise CLIError("TEXT: expected at least 2 characters (one to predict from another)")
    loss = evaluate(model, ids, seq_len, args.batch)
    sys.stdout.write(f"{path} on {described} ({len(ids):,} characters):\n")
    sys.stdout.write(f"loss {loss:.4f} nats/char | perplexity {math.exp(loss):.3f} | {loss / LN2:.4f} bits/char\n")
    return 0


# --- entry points -----------------------------------------------------------------------------------------------
def main(argv=None) -> int:
    """Run the command line on ``argv`` (default: sys.argv[1:]); returns the exit status."""
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as done:                         # --help, --version, or a bad option (already printed)
        return done.code if isinstance(done.code, int) else 0 if done.code is None else 2
    try:
        return args.func(args)
    except BrokenPipeError:                            # e.g. `seqnn sample run | head`
        return 0
    except (CLIError, ValueError, TypeError, OSError) as err:
        print(f"seqnn {args.command}: error: {err}", file=sys.stderr)
        return 1


def run() -> None:
    """The ``seqnn`` console script."""
    sys.exit(main())
