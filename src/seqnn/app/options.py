"""The command line's options as tables: one row per option makes its parser entry and its default.

A row says the option's name (``seq_len`` is ``--seq-len``), how its text is
read, its default, its help, and for ``seqnn train`` whether a resumed run may
change it (the model, the data and the seeds are fixed by the checkpoint).
Adding an option is adding a row; ``seqnn.app.cli`` builds the parser from
these tables and ``seqnn.app.run`` takes its defaults from them.

Only the standard library is imported here, so that the command line can parse
(and answer ``--help``) before numpy loads.
"""

from __future__ import annotations

from typing import Any, Callable

import argparse
import math
from dataclasses import dataclass


class RunError(Exception):
    """A mistake in what was asked, or a run that cannot go on: one line, exit status 1, no traceback."""


# --- how an option's text is read: a bad value is argparse's one-line error naming the option -----------------
def number(kind, low, low_ok: bool = True, high=None, high_ok: bool = False, what: str = "", why: str = ""):
    """A reader of numbers of ``kind`` in [low, high] (ends open or closed), with ``why`` for a too-large one."""
    def read(text):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}") from None
        if not math.isfinite(value) or value < low or (value == low and not low_ok):
            raise argparse.ArgumentTypeError(f"expected {what}, got {text}")
        if high is not None and (value > high or (value == high and not high_ok)):
            raise argparse.ArgumentTypeError(f"expected {what}{why}, got {text}")
        return value
    return read


positive_int = number(int, 1, what="a positive integer")
nonneg_int = number(int, 0, what="an integer >= 0")
positive_float = number(float, 0.0, low_ok=False, what="a positive number")
nonneg_float = number(float, 0.0, what="a number >= 0")


def thread_count(text: str):
    """``--threads``: "auto" or a positive integer."""
    return "auto" if text == "auto" else number(int, 1, what='"auto" or a positive integer')(text)


MAX_HIDDEN, MAX_LAYERS = 16_384, 64
hidden_size = number(int, 1, high=MAX_HIDDEN, high_ok=True, what=f"an integer in [1, {MAX_HIDDEN:,}]",
                     why=" (one LSTM layer of 16,384 holds 2.1 billion weights, 8.6 GB in float32, before its "
                         "gradients and the optimizer's state)")
layer_count = number(int, 1, high=MAX_LAYERS, high_ok=True, what=f"an integer in [1, {MAX_LAYERS}]",
                     why=" (every layer adds a time loop to each step; char-rnn's models had 2 or 3)")
MAX_SAMPLE = 10_000
sample_length = number(int, 0, high=MAX_SAMPLE, high_ok=True, what=f"an integer in [0, {MAX_SAMPLE:,}]",
                       why=" (a sample is shown at every validation; for a longer text: seqnn sample RUN --length N)")


@dataclass(frozen=True)
class Option:
    """One row of an option table."""

    name: str
    default: Any
    help: str
    type: Callable | None = None
    choices: tuple | None = None
    group: str = ""
    resume: bool = True
    """May ``seqnn train --resume`` change it? False for what fixes the model, the data or the seeds."""
    many: bool = False
    """May it be given several times (its value is then the list)?"""
    metavar: str | None = None
    alone: str = ""
    """Options that share a name here exclude each other (``--prime`` or ``--prime-file``)."""


MODEL, DATA, STOP, WATCH, MACHINE = ("model", "data and optimisation", "when to stop (the first rule reached; none "
                                     "given: --epochs 20)", "watching and saving", "this machine")
THREADS = Option("threads", "auto", "threads for numpy's matrix products (BLAS); auto: the cores idle when the "
                 "command starts (on a busy machine fewer threads are faster)", thread_count, group=MACHINE)
DEFAULT_LR = {"sgd": 1.0, "adagrad": 0.1, "rmsprop": 2e-3, "adam": 5e-3}

# Defaults chosen by two-minute runs on the bundled corpus (docs/train-your-text.md): one layer of 256 overfits
# the 141k training characters after about 900 steps (2.29 bits/char at best); two layers with dropout 0.3
# reach 2.18 in the same two minutes and keep improving.
TRAIN = [
    Option("cell", "lstm", "recurrent cell", choices=("rnn", "lstm", "gru"), group=MODEL, resume=False),
    Option("hidden", 256, "hidden size H", hidden_size, group=MODEL, resume=False),
    Option("layers", 2, "stacked layers", layer_count, group=MODEL, resume=False),
    Option("dropout", None, "dropout between stacked layers, needs --layers 2 or more (default: 0.3 with 2 or more "
           "layers, else 0)", number(float, 0.0, high=1.0, what="a probability in [0, 1)"), group=MODEL,
           resume=False),
    Option("dtype", "float32", "float32 for speed, float64 for exactness", choices=("float32", "float64"),
           group=MODEL, resume=False),
    Option("corpus", "alice", "the bundled text learned when no TEXT is given: alice (the book) or tunes (804 folk "
           "tunes in ABC notation: then seqnn sample RUN --tunes N writes tunes you can hear)",
           choices=("alice", "tunes"), group=DATA, resume=False),
    Option("seq_len", 100, "truncation length k: characters per chunk, the gradient is cut between chunks",
           positive_int, group=DATA, resume=False),
    Option("batch", 32, "parallel streams B", positive_int, group=DATA, resume=False),
    Option("val_fraction", 0.05, "the tail of the text held out for validation",
           number(float, 0.0, low_ok=False, high=1.0, what="a fraction strictly between 0 and 1"), group=DATA,
           resume=False),
    Option("optimizer", "adam", "the update rule", choices=tuple(sorted(DEFAULT_LR)), group=DATA, resume=False),
    Option("lr", None, "learning rate (default: adam 0.005, rmsprop 0.002, adagrad 0.1, sgd 1.0)", positive_float,
           group=DATA),
    Option("clip", 5.0, "clip the global gradient norm to this; 0 turns clipping off", nonneg_float, group=DATA),
    Option("lr_schedule", "constant", "how the learning rate moves: constant; cosine, down a half cosine to lr/10 "
           "at the last step (nanoGPT; needs --steps or --epochs); step, times --lr-decay after each epoch from "
           "--lr-decay-after on (char-rnn)", choices=("constant", "cosine", "step"), group=DATA),
    Option("warmup", 0, "the first this many steps raise the learning rate linearly to --lr, then the schedule "
           "starts", nonneg_int, group=DATA),
    Option("lr_decay", 0.97, "--lr-schedule step: the factor after each epoch",
           number(float, 0.0, low_ok=False, high=1.0, high_ok=True, what="a factor in (0, 1]"), group=DATA),
    Option("lr_decay_after", 10, "--lr-schedule step: the epoch (from 1) after which the decay starts",
           positive_int, group=DATA),
    Option("seed", 1, "seeds the weights, dropout and samples", nonneg_int, group=DATA, resume=False),
    Option("steps", None, "stop at this step (counted from the start of the run)", positive_int, group=STOP),
    Option("epochs", None, "stop after this many passes over the training text", positive_int, group=STOP),
    Option("minutes", None, "stop after this many minutes of this invocation", positive_float, group=STOP),
    Option("eval_every", 100, "validate, sample and save every this many steps", positive_int, group=WATCH),
    Option("eval_chars", 100_000, "validate on at most this many characters of the held-out text, 0 for all",
           nonneg_int, group=WATCH),
    Option("sample_chars", 200, "characters of sample text shown at each validation, 0 for none (at most "
           f"{MAX_SAMPLE:,})", sample_length,
           group=WATCH),
    Option("log_seconds", 10.0, "when the output is not a terminal (a log file, CI, a notebook), print a progress "
           "line at the first step, at every validation and every this many seconds, 0 for every step",
           nonneg_float, group=WATCH),
    Option("quiet", False, "no progress line (the header, validations, samples and the end still print)",
           group=WATCH),
    THREADS,
]
SAMPLE = [
    Option("prime", None, "text to start from (default: a newline, not printed)", metavar="TEXT", alone="prime"),
    Option("prime_file", None, "read the prime text from a UTF-8 file", metavar="FILE", alone="prime"),
    Option("length", 500, "characters to generate", positive_int),
    Option("temperature", 1.0, "0 greedy; < 1 safer, > 1 wilder", nonneg_float),
    Option("top_k", None, "draw only from the k most likely characters (default: all)", positive_int),
    Option("top_p", None, "nucleus sampling: draw only from the fewest most likely characters whose probabilities "
           "add up to P, after --temperature and --top-k (default: 1, all)",
           number(float, 0.0, low_ok=False, high=1.0, high_ok=True, what="a probability in (0, 1]")),
    Option("num_samples", 1, "how many texts, one after another, each under a line '--- sample i of N ---'",
           positive_int),
    Option("seed", 0, "the same seed gives the same text (and the same N texts)", nonneg_int),
    Option("tunes", None, "write N tunes instead (a model trained on ABC notation: seqnn train --corpus tunes): "
           "each as DIR/tune-K.abc and, when it can be read, tune-K.wav, with its title and whether it is well "
           "formed; a tune ends at its blank line", positive_int, metavar="N"),
    Option("out", None, "with --tunes: the folder for the tunes (default: tunes)", metavar="DIR"),
    THREADS,
]
PLAY = [
    Option("out", None, "the WAV file to write (default: FILE with .wav)", metavar="WAV"),
    Option("tune", 1, "which tune of the file: 1 the first, 2 the second, ...", positive_int, metavar="N"),
]
EVALUATE = [
    Option("seq_len", None, "chunk length for reading (default: the run's --seq-len)", positive_int),
    Option("batch", None, "parallel streams while reading (default: the run's --batch; 32 for a model without "
           "a training record)", positive_int),
    Option("eval_chars", None, "with no TEXT, read at most this many characters of the validation text, 0 for all "
           "(default: the run's --eval-chars, so the loss is the one training reported)", nonneg_int),
    THREADS,
]

INSPECT = [
    Option("out", None, "folder for index.html, saturation.png and reach.png (default: RUN/inspect)"),
    Option("chars", 3000, "characters of the text to look at (at most 20,000: the page holds each one's "
           "connectivity)", positive_int),
    Option("units", 3, "units per feature on the page, to colour by and to match spans with (at most 20)",
           positive_int),
    Option("lags", 50, "how many characters back the connectivity of each prediction is taken (at most 200; the "
           "time grows with it)", positive_int),
    Option("gradient_of", "loss", "what the connectivity is the gradient of: the prediction's loss, or the target's "
           "logit", choices=("loss", "logit")),
    Option("feature", None, "a feature of your own: 1 on the characters a regular expression matches (e.g. "
           "--feature 'digit=[0-9]'); give it again for more", many=True, metavar="NAME=REGEX"),
    Option("compare", None, "another run (a folder or .npz): its connectivity, loss and reach beside the model's; "
           "give it again for more runs", many=True),
    THREADS,
]

RUN_FOLDER = [                   # seqnn train's folder: where the run is, not how it trains (so not in DEFAULTS)
    Option("out", None, "folder for checkpoints, metrics.csv and loss.png (default: run)", metavar="DIR",
           group="the run's folder"),
    Option("resume", None, "continue the run saved in DIR (its last.npz, or DIR/best.npz) with its own options; only "
           "the stopping rule, --lr, --clip and the watching options may change", metavar="DIR",
           group="the run's folder"),
    Option("overwrite", False, "start afresh in --out even if it holds a run: its checkpoints, metrics.csv and "
           "loss.png are removed before the first step", group="the run's folder"),
    Option("init_from", None, "start a new run from the weights of a trained model (a run's folder or a .npz): "
           "fine-tuning it on TEXT; the model keeps its cell, sizes, dropout, dtype and vocabulary",
           metavar="RUN", group="the run's folder"),
]
MODEL_OPTIONS = {"cell": "cell", "hidden": "hidden_size", "layers": "num_layers", "dropout": "dropout",
                 "dtype": "dtype"}
"""The options that make the model, and the names of its config that hold them."""
EXERCISES = [Option("solutions", False, "write the worked solutions instead (for teachers)")]
GRADE = [
    Option("class", False, "grade a class: DEST holds one folder per student (DEST/alice/lstm_step.py, ...); "
           "writes the gradebook DEST/grades.csv (a row per student, a column per part) and prints each score"),
    Option("csv", None, "with --class: write the gradebook to FILE instead", metavar="FILE"),
    Option("json", False, "print the grades as JSON instead (each part's points and message, the total; with "
           "--class, every student's): for a learning platform"),
    Option("time_limit", 60.0, "seconds each exercise file may run, its parts together", positive_float,
           metavar="S"),
    Option("jobs", "auto", 'files graded at once, each in a process of its own: "auto" (one per core) or N',
           thread_count, metavar="N"),
]


# --- the commands: what each one's --help says, its positional arguments and its option table -------------------
@dataclass(frozen=True)
class Command:
    """One row of the command table; ``seqnn.app.cli`` makes a sub-command of each."""

    name: str
    help: str
    description: str
    epilog: str
    arguments: tuple
    """Its positional arguments, as Option rows (``many``: any number of them)."""
    tables: tuple
    """Its option tables (a row added to one later is an option of the command too)."""
    given_only: bool = False
    """Leave every default None in the parser, so that ``seqnn train --resume`` knows what was given."""


TEXTS = Option("text", None, "UTF-8 text files (default: the run's validation text)", metavar="TEXT", many=True)
PROGRAM = ("Train a character-level language model on any text, sample from it, evaluate it.",
           "Start with `seqnn train --minutes 2` (the bundled corpus), then `seqnn sample run`. "
           "`seqnn COMMAND --help` explains each command.")
COMMANDS = [
    Command("train", "train a character-level language model (CharLM)",
            "Train a character-level language model (CharLM) with truncated BPTT on UTF-8 text files, or on the "
            "bundled corpus (Alice in Wonderland) when no file is given. The last --val-fraction of the text is held "
            "out for validation. Shows progress while it trains, writes checkpoints (last.npz, best.npz), "
            "metrics.csv and loss.png into --out, and stops cleanly on Ctrl-C, SIGTERM or SIGHUP; --resume continues "
            "a run exactly where it stopped. One trainer per folder; a run whose loss goes far above guessing "
            "uniformly (2 ln V) stops as diverged.",
            "Example: seqnn train --minutes 2 --out run; then seqnn sample run --prime 'Alice'.",
            (Option("text", None, "UTF-8 text files, joined in order (default: the bundled corpus, Alice's "
                    "Adventures in Wonderland)", metavar="TEXT", many=True),), (TRAIN, RUN_FOLDER), given_only=True),
    Command("sample", "generate text from a trained model",
            "Generate text from a model that seqnn train saved, printed as it is generated. The prime text is read "
            "by the model first (as in char-rnn), then each next character is drawn from the model's distribution, "
            "sharpened or flattened by --temperature; --temperature 0 always takes the most likely character "
            "(greedy).",
            "Example: seqnn sample run/best.npz --prime 'The Queen' --length 300 --temperature 0.8",
            (Option("checkpoint", None, "a .npz that seqnn train wrote, or its folder (then best.npz when it belongs "
                    "to the same run as last.npz, else last.npz)", metavar="CHECKPOINT"),), (SAMPLE,)),
    Command("evaluate", "loss, perplexity and bits per character on a text",
            "Measure a trained model on a text: the mean cross-entropy in nats per character, the perplexity "
            "exp(loss) and the bits per character loss / ln 2. With no TEXT, the held-out validation text of the "
            "run that trained it.",
            "Example: seqnn evaluate run/best.npz my_notes.txt",
            (Option("checkpoint", None, "a .npz that seqnn train wrote, or its folder", metavar="CHECKPOINT"), TEXTS),
            (EVALUATE,)),
    Command("inspect", "look inside a trained model: connectivity, units, gates, loss against n-grams",
            "Look inside a model that seqnn train saved, on a text (default: the run's validation text, held out), "
            "every claim beside the same network untrained: which units track features of the text (quotations, "
            "bracket depth, indentation, ...; chosen on one half of the text, measured on the other), how often "
            "each gate is saturated (below 0.1 or above 0.9), how strongly each prediction depends on each earlier "
            "character (its connectivity; its quartiles at 10, 20 and 50 characters back), and where the model "
            "predicts better or worse than n-gram models of its training text. Writes one self-contained page, "
            "DIR/index.html, to explore it (hover a character: the earlier ones shaded by their gradient, the top-5 "
            "next characters; colour by a unit or the loss; find spans where chosen units are on), saturation.png "
            "and reach.png, and prints a summary.",
            "Example: seqnn inspect run --compare rnn-run --feature 'digit=[0-9]'",
            (Option("checkpoint", None, "a run's folder or a .npz that seqnn train wrote", metavar="RUN"), TEXTS),
            (INSPECT,)),
    Command("play", "hear a tune in ABC notation: write it as a WAV file",
            "Read a tune in ABC notation (docs/music.md says which part of ABC) and write it as a WAV file: each "
            "note a tone in equal temperament (A4 = 440 Hz) for its length at the tune's tempo (Q:, default "
            "1/4=120), repeats played out, chords played, quoted text and decorations skipped. Says the tune's "
            "title, length and whether it is well formed (its headers there, every bar the meter's length).",
            "Example: seqnn play tunes/tune-1.abc --out tune-1.wav",
            (Option("file", None, "a text file of tunes in ABC notation", metavar="FILE"),), (PLAY,)),
    Command("exercises", "write exercises for a course into a folder",
            "Write fifteen exercises into DEST, each a Python file with the lecture's equations and shapes in its "
            "docstring and a # TODO where the maths goes: the tanh RNN, LSTM and GRU steps (forward and backward), "
            "softmax and cross-entropy, backpropagation through time, clipping by the global norm, sampling with "
            "temperature and top-k, an embedding, the output layer with a masked sequence loss, a gradient check, "
            "the optimizers (SGD, momentum, Adagrad, Adam), truncated BPTT, a GRU through time, generation, and a "
            "whole training loop. A file already in DEST is never overwritten. The chapters' notebooks hold the "
            "same exercises, each checked in its cell (seqnn.course.check).",
            "Then: seqnn grade DEST (or python DEST/lstm_step.py for one file). Teachers: docs/teaching.md",
            (Option("dest", None, "the folder (created if missing)", metavar="DEST"),), (EXERCISES,)),
    Command("grade", "grade exercises, or a whole class: which part is wrong, and why",
            "Grade the exercises in DEST (or one file). Each file runs in a child process of its own (a fresh "
            "folder, limits on time, memory and file size, no other processes, no network, no seqnn), which only "
            "returns what its functions return: every comparison and the score are made outside it. Every part "
            "is compared with seqnn's own code on seeded inputs, each backward is checked against finite "
            "differences of its own forward, and a wrong answer is named: the array, the gate (dW_hh[f]), the time "
            "step, the shape, the dtype, an input changed in place, or the classic mistake it is, with the docs "
            "section to read. Exit status 0 only when every part is right (with --class: when the gradebook is "
            "written).",
            "Example: seqnn grade submissions --class --time-limit 20 (submissions/alice/, submissions/bob/, ...). "
            "Teachers: docs/teaching.md",
            (Option("target", None, "a folder of exercises, one exercise file, or with --class a folder of student "
                    "folders", metavar="DEST"),), (GRADE,)),
]

DEFAULTS = {o.name: o.default for o in TRAIN}
FIXED = tuple(o.name for o in TRAIN if not o.resume)
STOP_RULES = ("steps", "epochs", "minutes")


def flag(name: str) -> str:
    return "--" + name.replace("_", "-")


def new_options(given: dict) -> dict:
    """A new run's options: ``given`` (name -> value) over the defaults, with the rules that tie them."""
    unknown = sorted(set(given) - set(DEFAULTS))
    if unknown:
        raise TypeError(f"given: unknown options {unknown}")
    opts = {**DEFAULTS, **{k: v for k, v in given.items() if v is not None}}
    if opts["lr"] is None:
        opts["lr"] = DEFAULT_LR[opts["optimizer"]]
    if opts["steps"] is None and opts["epochs"] is None and opts["minutes"] is None:
        opts["epochs"] = 20
    if opts["dropout"] is None:
        opts["dropout"] = 0.3 if opts["layers"] > 1 else 0.0
    check_rules(opts, given)
    return opts


def check_rules(opts: dict, given: dict) -> None:
    """The rules that tie a run's options (``given``: what was asked this time), checked before anything is
    read, built or removed."""
    if opts["dropout"] and opts["layers"] == 1:
        raise RunError("--dropout acts between stacked layers, so with --layers 1 it would do nothing; "
                       "use --layers 2 or more")
    decay = [flag(name) for name in ("lr_decay", "lr_decay_after") if given.get(name) is not None]
    if decay and opts["lr_schedule"] != "step":
        raise RunError(f"{' and '.join(decay)} shape the step schedule only, and this run's is "
                       f"{opts['lr_schedule']}: add --lr-schedule step, or leave {' and '.join(decay)} out")
    if opts["lr_schedule"] == "cosine" and not opts["steps"] and not opts["epochs"]:
        raise RunError("--lr-schedule cosine decays over the run's length, which --minutes alone does not fix; "
                       "give --steps or --epochs as well")


def saved_options(saved: Any, where: str) -> dict:
    """A checkpoint's options (``where``: the checkpoint, for messages): every option of a run, each a value its
    row accepts; a damaged or crafted record is refused, naming the option."""
    if not isinstance(saved, dict):
        raise RunError(f"{where}: its options are not a mapping; it was not written by seqnn train")
    missing = [name for name in DEFAULTS if name not in saved]
    if missing:
        raise RunError(f"{where}: its options lack {', '.join(map(flag, missing))}, so it was not written by this "
                       "version of seqnn train; start a new run")
    for row in TRAIN:
        if not _fits(row, saved[row.name]):
            raise RunError(f"{where}: its option {flag(row.name)} is {saved[row.name]!r:.60}, which "
                           f"{flag(row.name)} does not take: the training record is damaged")
    return {name: saved[name] for name in DEFAULTS}


def _fits(row: Option, value) -> bool:
    """Is ``value`` one that ``row`` gives a run (what its reader makes of its own text)?"""
    if value is None:
        return row.name in STOP_RULES                     # a rule not given; every other option has a value
    if row.default is False:
        return isinstance(value, bool)
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        return False
    if row.choices is not None:
        return value in row.choices
    try:
        read = row.type(str(value)) if row.type is not None else None
    except (argparse.ArgumentTypeError, ValueError):
        return False
    return read == value and isinstance(read, str) == isinstance(value, str)
