"""The command line: ``seqnn train``, ``sample``, ``evaluate``, ``inspect``, ``exercises`` and ``grade`` (also
``python -m seqnn``).

It parses and composes what lies below it: the option tables of ``options``
make the parser; ``run`` trains (a run's folder, its lifecycle, its
checkpoints); ``inspect`` looks inside; ``seqnn.sample`` and
``seqnn.train.evaluate`` do the rest; ``seqnn.course`` writes and grades the
exercises.

It never shows a traceback: a mistake is one line naming the option or file
(exit 1, or 2 for an option argparse refuses), Ctrl-C anywhere is one line
(exit 130), running out of memory is one line, and an unexpected error is one
line that says how to see the whole traceback (``--debug``). The library is
imported inside ``main``, so that even Ctrl-C while numpy loads is one line.
"""

from __future__ import annotations

from typing import Any

import argparse
import os
import sys
import time
from contextlib import suppress

from .._version import __version__
from .options import EVALUATE, INSPECT, SAMPLE, TRAIN, RunError, flag


class Parser(argparse.ArgumentParser):
    """argparse, with a bad option reported as one line (naming the option) instead of the usage block."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def add_options(parser, table, defaults: bool = True) -> None:
    """One argparse option per row of ``table``, in the row's group, its default in its help; ``defaults=False``
    leaves every default None in the parser (so that ``seqnn train --resume`` knows what was given)."""
    groups: dict = {}
    for row in table:
        group = groups.get(row.group) or groups.setdefault(row.group, parser.add_argument_group(row.group)
                                                           if row.group else parser)
        if row.default is False:                       # a switch: given or not
            group.add_argument(flag(row.name), action="store_true", help=row.help,
                               default=row.default if defaults else None)
            continue
        shown = "" if row.default is None or "default:" in row.help else f" (default: {row.default})"
        group.add_argument(flag(row.name), type=row.type, choices=row.choices, help=row.help + shown,
                           default=row.default if defaults else None, action="append" if row.many else "store")


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="seqnn", description="Train a character-level language model on any text, sample from it, evaluate it.",
        epilog="Start with `seqnn train --minutes 2` (the bundled corpus), then `seqnn sample run`. "
               "`seqnn COMMAND --help` explains each command.")
    parser.add_argument("--version", action="version", version=f"seqnn {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    debug = Parser(add_help=False)
    debug.add_argument("--debug", action="store_true", help="on an unexpected error, show the whole traceback")
    common: dict[str, Any] = dict(parents=[debug])

    t = sub.add_parser("train", **common, help="train a character-level language model (CharLM)",
                       description="Train a character-level language model (CharLM) with truncated BPTT on UTF-8 "
                       "text files, or on the bundled corpus (Alice in Wonderland) when no file is given. The last "
                       "--val-fraction of the text is held out for validation. Shows progress while it trains, "
                       "writes checkpoints (last.npz, best.npz), metrics.csv and loss.png into --out, and stops "
                       "cleanly on Ctrl-C, SIGTERM or SIGHUP; --resume continues a run exactly where it stopped. "
                       "One trainer per folder; a run whose loss goes far above guessing uniformly (2 ln V) stops "
                       "as diverged.",
                       epilog="Example: seqnn train --minutes 2 --out run; then seqnn sample run --prime 'Alice'.")
    t.add_argument("text", nargs="*", metavar="TEXT", help="UTF-8 text files, joined in order (default: the bundled "
                   "corpus, Alice's Adventures in Wonderland)")
    add_options(t, TRAIN, defaults=False)
    g = t.add_argument_group("the run's folder")
    g.add_argument("--out", metavar="DIR", help="folder for checkpoints, metrics.csv and loss.png (default: run)")
    g.add_argument("--resume", metavar="DIR", help="continue the run saved in DIR (its last.npz, or DIR/best.npz) "
                   "with its own options; only the stopping rule, --lr, --clip and the watching options may change")
    g.add_argument("--overwrite", action="store_true", help="start afresh in --out even if it holds a run: its "
                   "checkpoints, metrics.csv and loss.png are removed before the first step")
    t.set_defaults(func=cmd_train)

    s = sub.add_parser("sample", **common, help="generate text from a trained model",
                       description="Generate text from a model that seqnn train saved, printed as it is generated. "
                       "The prime text is read by the model first (as in char-rnn), then each next character is "
                       "drawn from the model's distribution, sharpened or flattened by --temperature; "
                       "--temperature 0 always takes the most likely character (greedy).",
                       epilog="Example: seqnn sample run/best.npz --prime 'The Queen' --length 300 --temperature 0.8")
    s.add_argument("checkpoint", metavar="CHECKPOINT", help="a .npz that seqnn train wrote, or its folder (then "
                   "best.npz when it belongs to the same run as last.npz, else last.npz)")
    p = s.add_mutually_exclusive_group()
    p.add_argument("--prime", metavar="TEXT", help="text to start from (default: a newline, not printed)")
    p.add_argument("--prime-file", metavar="FILE", help="read the prime text from a UTF-8 file")
    add_options(s, SAMPLE)
    s.set_defaults(func=cmd_sample)

    e = sub.add_parser("evaluate", **common, help="loss, perplexity and bits per character on a text",
                       description="Measure a trained model on a text: the mean cross-entropy in nats per "
                       "character, the perplexity exp(loss) and the bits per character loss / ln 2. With no TEXT, "
                       "the held-out validation text of the run that trained it.",
                       epilog="Example: seqnn evaluate run/best.npz my_notes.txt")
    e.add_argument("checkpoint", metavar="CHECKPOINT", help="a .npz that seqnn train wrote, or its folder")
    e.add_argument("text", nargs="*", metavar="TEXT", help="UTF-8 text files (default: the run's validation text)")
    add_options(e, EVALUATE)
    e.set_defaults(func=cmd_evaluate)

    i = sub.add_parser("inspect", **common, help="look inside a trained model: units, gates, gradient reach",
                       description="Look inside a model that seqnn train saved, on a text (default: the run's "
                       "validation text): which units track features of the text (inside a quotation, the "
                       "position in the line, ...), how often each gate is saturated (below 0.1 or above 0.9), "
                       "and how far back the gradient of each prediction reaches. Writes a page, DIR/index.html, "
                       "with the text coloured by each unit (hover a character for the unit's value and the top-5 "
                       "next characters), saturation.png and reach.png, and prints a summary.",
                       epilog="Example: seqnn inspect run --compare rnn-run (the reach of both on one plot)")
    i.add_argument("checkpoint", metavar="RUN", help="a run's folder or a .npz that seqnn train wrote")
    i.add_argument("text", nargs="*", metavar="TEXT", help="UTF-8 text files (default: the run's validation text)")
    add_options(i, INSPECT)
    i.set_defaults(func=cmd_inspect)

    x = sub.add_parser("exercises", **common, help="write exercises for a course into a folder",
                       description="Write seven exercises into DEST, each a Python file with the lecture's equations "
                       "and shapes in its docstring and a # TODO where the maths goes: the tanh RNN, LSTM and GRU "
                       "steps (forward and backward), softmax and cross-entropy, backpropagation through time, "
                       "clipping by the global norm, sampling with temperature and top-k. A file already in DEST "
                       "is never overwritten.",
                       epilog="Then: seqnn grade DEST (or python DEST/lstm_step.py for one file). Teachers: "
                       "docs/teaching.md")
    x.add_argument("dest", metavar="DEST", help="the folder (created if missing)")
    x.add_argument("--solutions", action="store_true", help="write the worked solutions instead (for teachers)")
    x.set_defaults(func=cmd_exercises)

    r = sub.add_parser("grade", **common, help="grade exercises: which part is wrong, and why",
                       description="Grade the exercises in DEST (or one file): each file runs in its own process "
                       "with a time limit; every part is compared with seqnn's own code on seeded inputs, each "
                       "backward is checked against finite differences of its own forward, and a wrong answer is "
                       "named: the array, the gate (dW_hh[f]), the time step, the shape, or the classic mistake it "
                       "is, with the docs section to read. Exit status 0 only when every part is right.")
    r.add_argument("target", metavar="DEST", help="a folder of exercises, or one exercise file")
    r.set_defaults(func=cmd_grade)
    return parser


# --- the commands: each imports the library when it runs (inside main's guard) -----------------------------------
def cmd_train(args) -> int:
    from .run import train
    given = {row.name: getattr(args, row.name) for row in TRAIN if getattr(args, row.name) is not None}
    return train(given, args.text, out=args.out, resume=args.resume, overwrite=args.overwrite)


def cmd_sample(args) -> int:
    import numpy as np

    from ..data import read_text
    from ..sample import stream_text
    from .folder import load_charlm
    from .runsetup import default_prime, encode_known
    from .threads import blas_threads, resolve
    model, vocab, _, _, notes = load_charlm(args.checkpoint)
    for note in notes:
        print(f"seqnn sample: note: {note}", file=sys.stderr)
    given = args.prime_file is not None or args.prime is not None       # a prime of the user's is printed too
    if args.prime_file is not None:
        prime = read_text([args.prime_file])
    elif args.prime is None:                           # a newline, or the first token of a vocabulary without one
        prime = default_prime(vocab)
    else:
        prime = args.prime
    if prime == "":
        raise RunError("--prime: expected at least one character, got an empty string")
    if args.top_k is not None and args.top_k > len(vocab):
        raise RunError(f"--top-k: expected at most {len(vocab)} (the vocabulary's size), got {args.top_k}")
    if args.num_samples > 1 and args.temperature == 0:
        print(f"seqnn sample: note: --temperature 0 is greedy, so the {args.num_samples} samples are the same text",
              file=sys.stderr)
    ids, rng = encode_known(vocab, prime, "--prime"), np.random.default_rng(args.seed)   # one generator: N texts
    out = sys.stdout
    try:
        with blas_threads(resolve(args.threads)[0]):
            for k in range(args.num_samples):
                if args.num_samples > 1:
                    out.write(("\n" if k else "") + f"--- sample {k + 1} of {args.num_samples} ---\n")
                out.write(prime if given else "")
                out.flush()
                show(out, stream_text(model, vocab, ids, args.length, temperature=args.temperature, top_k=args.top_k,
                                      top_p=args.top_p, rng=rng))
    except KeyboardInterrupt:                          # Ctrl-C: the text so far ends with a newline too
        out.write("\n")
        out.flush()
        raise
    return 0


def show(out, characters) -> None:
    """Write characters as they come (each line, and at least every 0.1 s), then a newline."""
    flushed = time.monotonic()
    for c in characters:
        out.write(c)
        if c == "\n" or time.monotonic() - flushed > 0.1:
            out.flush()
            flushed = time.monotonic()
    out.write("\n")
    out.flush()


def cmd_evaluate(args) -> int:
    import math

    from ..train import evaluate
    from .folder import load_charlm
    from .options import DEFAULTS, saved_options
    from .runlog import LN2
    from .runsetup import encode_known, load_text, validation_split
    from .threads import blas_threads, resolve
    model, vocab, training, path, notes = load_charlm(args.checkpoint)
    for note in notes:
        print(f"seqnn evaluate: note: {note}", file=sys.stderr)
    opts = saved_options(training["options"], path) if training else DEFAULTS
    if args.text:
        text, described, _ = load_text(args.text)
        ids = encode_known(vocab, text, "TEXT")
    else:                                              # what training validated on: the same characters
        ids, described = validation_split(vocab, training, path)
        n = opts["eval_chars"] if args.eval_chars is None else args.eval_chars
        if n and max(2, n) < len(ids):                 # as training's validation: the first n characters
            ids = ids[:max(2, n)]
            described += f", its first {len(ids):,} characters (--eval-chars)"
    if len(ids) < 2:
        raise RunError("TEXT: expected at least 2 characters (one to predict from another)")
    with blas_threads(resolve(args.threads)[0]):
        loss = evaluate(model, ids, args.seq_len or opts["seq_len"], args.batch or opts["batch"])
    sys.stdout.write(f"{path} on {described} ({len(ids):,} characters):\n")
    sys.stdout.write(f"loss {loss:.4f} nats/char | perplexity {math.exp(loss):.3f} | {loss / LN2:.4f} bits/char\n")
    return 0


def cmd_inspect(args) -> int:
    from .inspect import inspect
    from .threads import blas_threads, resolve
    with blas_threads(resolve(args.threads)[0]):
        lines = inspect(args.checkpoint, args.text, out=args.out, chars=args.chars, units=args.units,
                        lags=args.lags, compare=args.compare or ())
    for line in lines:
        print(line)
    return 0


def cmd_exercises(args) -> int:
    from ..course.exercises import write_exercises
    paths = write_exercises(args.dest, solutions=args.solutions)
    print(f"wrote {len(paths)} {'solutions' if args.solutions else 'exercises'} into {args.dest}/: "
          f"{', '.join(os.path.basename(p) for p in paths)}")
    if not args.solutions:
        print(f"fill in each # TODO, then: seqnn grade {args.dest}")
    return 0


def cmd_grade(args) -> int:
    from ..course.grade import grade
    lines, ok = grade(args.target)
    print("\n".join(lines))
    return 0 if ok else 1


# --- entry points -----------------------------------------------------------------------------------------------
def main(argv=None) -> int:
    """Run the command line on ``argv`` (default: sys.argv[1:]); returns the exit status."""
    command, debug = "", False
    try:
        try:
            args = build_parser().parse_args(argv)
        except SystemExit as done:                     # --help, --version, or a bad option (already printed)
            return done.code if isinstance(done.code, int) else 0 if done.code is None else 2
        command, debug = f" {args.command}", args.debug
        return args.func(args)
    except BrokenPipeError:                            # e.g. `seqnn sample run | head`: the reader has enough
        try:
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())   # the flush at exit cannot fail now
        except (OSError, ValueError):
            pass
        return 0
    except KeyboardInterrupt:
        _say(f"seqnn{command}: interrupted (Ctrl-C)")
        return 130
    except MemoryError:
        _say(f"seqnn{command}: error: out of memory; lower --hidden, --layers, --batch or --seq-len, or close "
             "other programs")
        return 1
    except (RunError, ValueError, TypeError, OSError) as err:
        _say(f"seqnn{command}: error: {err}")
        return 1
    except Exception as err:                           # noqa: BLE001  (a bug: one line, the traceback on request)
        if debug:
            raise
        _say(f"seqnn{command}: internal error: {type(err).__name__}: {err} (a bug in seqnn; run it again with "
             "--debug for the whole traceback)")
        return 1


def _say(line: str) -> None:
    with suppress(OSError, ValueError):                # what was printed so far comes first
        sys.stdout.flush()
    print(line, file=sys.stderr)


def run() -> None:
    """The ``seqnn`` console script."""
    sys.exit(main())
