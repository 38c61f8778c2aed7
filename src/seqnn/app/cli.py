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


import argparse
import os
import shlex
import signal
import sys
import threading
import time
from contextlib import suppress

from .._version import __version__
from .options import COMMANDS, PROGRAM, TRAIN, RunError, flag


class Parser(argparse.ArgumentParser):
    """argparse, with a bad option reported as one line (naming the option) instead of the usage block."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


class CommandParser(Parser):
    """A command's parser: its positional arguments (text files) may stand anywhere among its options, as in
    ``seqnn train a.txt --steps 100 b.txt`` (argparse's intermixed parsing)."""

    _inside = False

    def parse_known_args(self, args=None, namespace=None):
        if self._inside:                                 # the intermixed parsing calls this twice itself
            return super().parse_known_args(args, namespace)
        self._inside = True
        try:
            return self.parse_known_intermixed_args(args, namespace)
        finally:
            self._inside = False


def add_options(parser, table, defaults: bool = True) -> None:
    """One argparse option per row of ``table``, in the row's group, its default in its help; ``defaults=False``
    leaves every default None in the parser (so that ``seqnn train --resume`` knows what was given)."""
    groups: dict = {}
    for row in table:
        key = ("alone", row.alone) if row.alone else row.group
        if key not in groups:
            groups[key] = (parser.add_mutually_exclusive_group() if row.alone else
                           parser.add_argument_group(row.group) if row.group else parser)
        if row.default is False:                       # a switch: given or not
            groups[key].add_argument(flag(row.name), action="store_true", help=row.help,
                                     default=row.default if defaults else None)
            continue
        shown = "" if row.default is None or "default:" in row.help else f" (default: {row.default})"
        groups[key].add_argument(flag(row.name), type=row.type, choices=row.choices, help=row.help + shown,
                                 metavar=row.metavar, default=row.default if defaults else None,
                                 action="append" if row.many else "store")


def build_parser() -> argparse.ArgumentParser:
    """The parser of every command, made from the tables of ``options``: ``COMMANDS`` and their option tables."""
    description, epilog = PROGRAM
    parser = Parser(prog="seqnn", description=description, epilog=epilog)
    parser.add_argument("--version", action="version", version=f"seqnn {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND", parser_class=CommandParser)
    debug = CommandParser(add_help=False)
    debug.add_argument("--debug", action="store_true", help="on an unexpected error, show the whole traceback")
    for command in COMMANDS:
        p = sub.add_parser(command.name, parents=[debug], help=command.help, description=command.description,
                           epilog=command.epilog or None)
        for row in command.arguments:
            p.add_argument(row.name, metavar=row.metavar, nargs="*" if row.many else None, help=row.help)
        for table in command.tables:
            add_options(p, table, defaults=not command.given_only)
        p.set_defaults(func=RUNS[command.name])
    return parser


# --- the commands: each imports the library when it runs (inside main's guard) -----------------------------------
def cmd_train(args) -> int:
    from .run import train
    given = {row.name: getattr(args, row.name) for row in TRAIN if getattr(args, row.name) is not None}
    return train(given, args.text, out=args.out, resume=args.resume, overwrite=bool(args.overwrite),
                 init_from=args.init_from)


def cmd_sample(args) -> int:
    import numpy as np

    from ..data import read_text
    from ..sample import stream_text
    from .folder import load_charlm
    from .runsetup import default_prime, encode_known, suggested_prime
    from .threads import blas_threads, resolve
    model, vocab, _, _, notes = load_charlm(args.checkpoint)
    for note in notes:
        print(f"seqnn sample: note: {note}", file=sys.stderr)
    given = args.prime_file is not None or args.prime is not None       # a prime of the user's is printed too
    if args.tunes is None and args.out is not None:
        raise RunError("--out: is the folder of --tunes; give --tunes N as well (text goes to the standard output)")
    if args.tunes is not None:
        if given:
            raise RunError("--prime: a tune starts where the model starts one (after a blank line and X:); leave "
                           "out --prime and --prime-file with --tunes")
        return cmd_tunes(model, vocab, args)
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
                text = show(out, stream_text(model, vocab, ids, args.length, temperature=args.temperature,
                                             top_k=args.top_k, top_p=args.top_p, rng=rng))
                if degenerate(text):
                    print(f"seqnn sample: note: the text is {degenerate(text)}: at --temperature {args.temperature:g} "
                          "the model keeps taking its likeliest next character; start it from text it knows "
                          f"(--prime {shlex.quote(suggested_prime(vocab, ''))}), or raise --temperature",
                          file=sys.stderr)
    except KeyboardInterrupt:                          # Ctrl-C: the text so far ends with a newline too
        out.write("\n")
        out.flush()
        raise
    except BrokenPipeError:
        raise
    except OSError as err:                             # a full disk under `> file`: say where the text was going
        raise OSError(err.errno, err.strerror, err.filename or "the standard output") from None
    return 0


def show(out, characters) -> str:
    """Write characters as they come (each line, and at least every 0.1 s), then a newline; returns them."""
    flushed, shown = time.monotonic(), []
    for c in characters:
        out.write(c)
        shown.append(c)
        if c == "\n" or time.monotonic() - flushed > 0.1:
            out.flush()
            flushed = time.monotonic()
    out.write("\n")
    out.flush()
    return "".join(shown)


def degenerate(text: str) -> str | None:
    """What is wrong with a sample that says nothing (only white space, or one character over and over), or None."""
    if len(text) < 20 or (text.strip() and len(set(text)) > 1):
        return None
    return "only white space" if not text.strip() else f"one character, {text[0]!r}, over and over"


def cmd_tunes(model, vocab, args) -> int:
    import numpy as np

    from .threads import blas_threads, resolve
    from .tunes import sample_tunes
    with blas_threads(resolve(args.threads)[0]):
        for line in sample_tunes(model, vocab, args.tunes, args.out or "tunes", np.random.default_rng(args.seed),
                                 args.temperature, args.top_k, args.top_p):
            print(line, flush=True)
    return 0


def cmd_play(args) -> int:
    from .tunes import play
    for line in play(args.file, args.out, args.tune):
        print(line)
    return 0


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
    opts = saved_options(training.get("options"), path) if training else DEFAULTS
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
                        lags=args.lags, of=args.gradient_of, compare=args.compare or (), features=args.feature or ())
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
    import json

    from ..course.grade import all_right, exercise_files, grade_files, record, report_lines
    jobs = (os.cpu_count() or 1) if args.jobs == "auto" else args.jobs
    if vars(args)["class"]:
        from ..course.gradebook import grade_class, summary, write_csv
        path = args.csv or os.path.join(args.target, "grades.csv")
        if not os.path.isdir(os.path.dirname(os.path.abspath(path))):
            raise RunError(f"--csv: the folder of {path} does not exist")
        book = grade_class(args.target, args.time_limit, jobs)
        write_csv(book, path)
        print(json.dumps(book, indent=1) if args.json else "\n".join(summary(book)))
        print(f"seqnn grade: wrote the gradebook {path}", file=sys.stderr if args.json else sys.stdout)
        return 0
    if args.csv:
        raise RunError("--csv: a gradebook is written for a class only; add --class (DEST: one folder per student)")
    grades = grade_files(exercise_files(args.target), args.time_limit, jobs)
    print(json.dumps(record(grades), indent=1) if args.json else "\n".join(report_lines(grades)))
    return 0 if all_right(grades) else 1


RUNS = {"train": cmd_train, "sample": cmd_sample, "evaluate": cmd_evaluate, "inspect": cmd_inspect,
        "play": cmd_play, "exercises": cmd_exercises, "grade": cmd_grade}


# --- entry points -----------------------------------------------------------------------------------------------
def main(argv=None) -> int:
    """Run the command line on ``argv`` (default: sys.argv[1:]); returns the exit status."""
    command, debug = "", False
    try:
        try:
            if threading.current_thread() is threading.main_thread():
                signal.signal(signal.SIGINT, signal.default_int_handler)   # Ctrl-C is KeyboardInterrupt, below
            try:
                args = build_parser().parse_args(argv)
            except SystemExit as done:                 # --help, --version, or a bad option (already printed)
                return done.code if isinstance(done.code, int) else 0 if done.code is None else 2
            command, debug = f" {args.command}", args.debug
            return args.func(args)
        except Exception as err:
            if _during_ctrl_c(err):                    # a clean-up that failed because Ctrl-C cut its work short
                raise KeyboardInterrupt from None
            raise
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
    except OSError as err:                             # a full disk, a read-only folder: the file, in words
        _say(f"seqnn{command}: error: {err.filename}: {err.strerror}" if err.filename and err.strerror else
             f"seqnn{command}: error: {err.strerror or err}")
        return 1
    except (RunError, ValueError, TypeError) as err:
        _say(f"seqnn{command}: error: {err}")
        return 1
    except Exception as err:                           # noqa: BLE001  (a bug: one line, the traceback on request)
        if debug:
            raise
        _say(f"seqnn{command}: internal error: {type(err).__name__}: {err} (a bug in seqnn; run it again with "
             "--debug for the whole traceback)")
        return 1


def _during_ctrl_c(err: BaseException | None) -> bool:
    """Was ``err`` raised while a KeyboardInterrupt was being handled? (argparse's intermixed parsing, cut short
    by Ctrl-C, fails in its ``finally`` with an AttributeError: the Ctrl-C is what happened.)"""
    seen: set = set()
    while err is not None and id(err) not in seen:
        if isinstance(err, KeyboardInterrupt):
            return True
        seen.add(id(err))
        err = err.__context__
    return False


def _say(line: str) -> None:
    with suppress(OSError, ValueError):                # what was printed so far comes first
        sys.stdout.flush()
    print(line, file=sys.stderr)
