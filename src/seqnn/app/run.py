"""One training run of ``seqnn train``: build it, own its folder, train, and lose nothing however it ends.

The run knows no maths: it takes a ``runsetup.Run`` (the text, a ``CharLM``, its
optimizer and ``seqnn.train.StreamTrainer``) and calls the training step. A run
writes into one folder (``folder``)::

    last.npz      the latest checkpoint: model, vocabulary, optimizer state, data position,
                  carried hidden state, random generator states, options, history, run id
    best.npz      the same, at this run's lowest validation loss so far
    metrics.csv   one row per step (runlog.RunLog); loss.png the curves
    .seqnn-lock   the OS lock of the one process training in this folder

How a run ends, and what it leaves (last.npz and best.npz are always whole:
``io.save`` writes a temporary file and renames it):

- the stopping rule: exit 0;
- Ctrl-C, SIGTERM or SIGHUP: the step finishes, last.npz is saved and the way to
  go on is printed; exit 130, 143 or 129. A second signal stops at once;
- divergence, NaN or inf (the step refuses to update) or ``Divergence``'s rule:
  exit 1, the checkpoints as they were;
- a failed write (a full disk, a read-only folder): exit 1, naming the file; the
  checkpoints already there are intact.

A run stopped at step n and resumed gives the same parameters, losses and
samples, to the bit, as a run that never stopped.
"""

from __future__ import annotations

from typing import Any

import math
import os
import shlex
import signal
import statistics
import sys
import threading
import time
import uuid
from collections import deque
from contextlib import suppress

import numpy as np

from .. import io
from .._version import __version__
from ..models import CharLM
from ..sample import stream_text
from ..train import DivergedError, evaluate
from .folder import cannot_write, claimed, clear, holds_best, intact, load_charlm, other_intact
from .options import DEFAULTS, FIXED, MODEL_OPTIONS, STOP_RULES, RunError, check_rules, flag, new_options
from .runlog import LN2, Pace, Progress, RunLog, clock, writing
from .runsetup import Run, checked_record, default_prime, make_run, make_schedule, stop_rules, suggested_prime
from .threads import blas_threads, resolve


# --- divergence with finite numbers -------------------------------------------------------------------------------
class Divergence:
    """The rule that stops a run which has blown up while its numbers stay finite.

    Guessing uniformly among V characters costs ln V nats per character: a
    model that knows nothing pays that. A run is stopped when the median training
    loss of its last ``window`` steps, or a validation loss, exceeds twice that,
    2 ln V: far worse than knowing nothing. (NaN and inf stop the training step
    itself, before it updates anything.)
    """

    def __init__(self, vocab_size: int, history=(), window: int = 20):
        self.limit = 2 * math.log(vocab_size)
        self.recent: deque = deque(history, maxlen=window)

    def train_loss(self, loss: float) -> str | None:
        self.recent.append(loss)
        median = statistics.median(self.recent)
        if len(self.recent) == self.recent.maxlen and median > self.limit:
            return (f"the median training loss of the last {self.recent.maxlen} steps is {median:,.4g} nats/char, "
                    f"more than twice what guessing uniformly costs (2 ln V = {self.limit:.2f})")
        return None

    def val_loss(self, val: float) -> str | None:
        if val > self.limit:
            return (f"the validation loss is {val:,.4g} nats/char, more than twice what guessing uniformly costs "
                    f"(2 ln V = {self.limit:.2f})")
        return None


# --- one invocation of seqnn train on a run ----------------------------------------------------------------------
SIGNALS: dict[int, str] = {signal.SIGINT: "Ctrl-C", signal.SIGTERM: "SIGTERM"}
if hasattr(signal, "SIGHUP"):                            # not on Windows
    SIGNALS[signal.SIGHUP] = "SIGHUP"


class StopNow(BaseException):
    """A second stopping signal: stop at once, without saving."""

    def __init__(self, signum: int):
        super().__init__(signum)
        self.signum = signum


class Session:
    """One invocation of ``seqnn train`` on a run: the loop, validation, checkpoints, signals and what is shown."""

    def __init__(self, run: Run, folder: str, saved: dict | None, run_id: str):
        self.run, self.folder, self.opts, self.run_id = run, folder, run.opts, run_id
        self.target, self.rules = run.target, stop_rules(self.opts)
        if run.trainer.steps >= self.target:
            raise RunError(f"the run is already at step {run.trainer.steps}, where its rule ({self.rules}) stops "
                           "it; pass a larger --steps or --epochs, or --minutes, to train further")
        self.show = Progress(sys.stdout, self.opts["log_seconds"], self.opts["quiet"])
        self.log = RunLog(folder, saved["log"] if saved else None)
        self.best: dict[str, Any] = ({"loss": saved["best_loss"], "step": saved["best_step"]} if saved
                                     else {"loss": None, "step": None})
        self.elapsed = float(saved["elapsed"]) if saved else 0.0     # training time of the whole run, all sessions
        n = self.opts["eval_chars"]
        self.eval_ids = run.val_ids[:max(2, n)] if n else run.val_ids
        self.divergence = Divergence(len(run.vocab), self.log.data["loss"])
        self.signals: list[int] = []
        self.threads, self.threads_chosen = resolve(self.opts["threads"])
        self.opening: list[str] = []                         # notes shown before the header

    def mend_best(self) -> None:
        """best.npz must be the checkpoint the run's record names as its best. A run stopped between a
        validation's two saves (last.npz written, best.npz not yet) leaves an older one: this checkpoint holds
        the best step then, and best.npz is written again from it; a best.npz that is not this run's best at all
        is set aside (the next validation writes one)."""
        step, path = self.best["step"], os.path.join(self.folder, "best.npz")
        if step is None:
            return
        try:
            record = io.read_record(path) if os.path.isfile(path) else None
        except ValueError:
            record = None
        if holds_best(record, {"run_id": self.run_id, "best_step": step}):
            return
        if step == self.run.trainer.steps:
            self.checkpoint("best.npz")
            self.opening.append(f"note: {path} did not hold this run's best, step {step} (the run stopped between "
                                "saving last.npz and best.npz); written again from last.npz, which holds it")
        else:
            self.best.update(loss=None, step=None)
            self.opening.append(f"note: {path} does not hold this run's best, step {step}; the next validation writes "
                                "it")

    def compare_schedule(self, before) -> None:
        """A resumed run whose learning rates change (a new --lr, or a longer run that stretches the cosine) says
        so, with the rate of its next step."""
        now, step = self.run.trainer.optimizer.lr_schedule, self.run.trainer.steps
        if now.describe() != before.describe() or now(step) != before(step):
            self.opening.append(f"note: the learning-rate schedule changes: it was {before.describe()}, it is "
                                f"{now.describe()}; step {step + 1} takes lr {now(step):.3g} (it would have taken "
                                f"{before(step):.3g})")

    def header(self, resumed_from: str | None) -> None:
        o, run, t = self.opts, self.run, self.run.trainer
        say = self.show.say
        say(f"seqnn train: {o['cell'].upper()}, {o['layers']} layer{'s' * (o['layers'] > 1)} x {o['hidden']} hidden, "
            f"{len(run.vocab)}-character vocabulary, {run.model.num_parameters():,} parameters, {o['dtype']}")
        say(f"text: {run.described}: {run.text_info['chars']:,} characters, {run.n_train:,} for training, "
            f"{len(run.val_ids):,} held out (validation on {len(self.eval_ids):,})")
        say(f"each step: {o['batch']} streams x {o['seq_len']} characters (truncated BPTT), "
            f"{t.chunks_per_epoch} steps per epoch; {o['optimizer']} lr {o['lr']:g} "
            f"({t.optimizer.lr_schedule.describe()}), "
            f"clip {o['clip'] or 'off'}; stop at {self.rules}; {self.threads} BLAS thread{'s' * (self.threads > 1)} "
            f"({self.threads_chosen})")
        say(f"resuming {resumed_from} at step {t.steps} (epoch {t.epoch}, chunk {t.chunk})" if resumed_from else
            f"writing to {self.folder}/: last.npz, best.npz, metrics.csv, loss.png; Ctrl-C stops and saves")

    # --- checkpoints and validation ---------------------------------------------------------------------------
    def checkpoint(self, name: str) -> None:
        state = {"trainer": self.run.trainer.state_dict(), "options": self.opts, "text": self.run.text_info,
                 "log": self.log.state(), "best_loss": self.best["loss"], "best_step": self.best["step"],
                 "elapsed": self.elapsed, "run_id": self.run_id, "seqnn_version": __version__}
        with writing(os.path.join(self.folder, name)):        # a failed write names the file
            io.save(self.run.model, os.path.join(self.folder, name), self.run.vocab, training=state)

    def validate(self):
        """(validation loss, whether it is the best so far)."""
        val = evaluate(self.run.model, self.eval_ids, self.opts["seq_len"], self.opts["batch"])
        return val, self.best["loss"] is None or val < self.best["loss"]

    def report(self, val: float, is_best: bool) -> None:
        """Save last (and best), then show the validation, a sample and where the plot went."""
        step = self.run.trainer.steps
        if is_best:
            self.best.update(loss=val, step=step)
        self.checkpoint("last.npz")
        if is_best:
            self.checkpoint("best.npz")
        self.log.flush()
        mark = (" (best so far, saved best.npz)" if is_best else
                f" (best {self.best['loss'] / LN2:.3f} at step {self.best['step']})")
        self.show.say(f"step {step}: validation {val:.4f} nats/char = {val / LN2:.3f} bits/char{mark}")
        if self.opts["sample_chars"]:
            rng = np.random.default_rng([self.opts["seed"], step])      # a function of the step: resumable
            prime = self.run.vocab.encode(default_prime(self.run.vocab))
            text = ""
            for c in stream_text(self.run.model, self.run.vocab, prime, self.opts["sample_chars"], temperature=0.8,
                                 rng=rng):
                if self.signals:                                        # Ctrl-C: the sample stops at once
                    break
                text += c
            self.show.say("\n".join("    " + line for line in text.split("\n")))
        note = self.log.plot()
        if note != self.log.plot_note:
            self.show.say(note)
            self.log.plot_note = note

    # --- the loop ---------------------------------------------------------------------------------------------
    def on_signal(self, signum, frame) -> None:
        """The first Ctrl-C, SIGTERM or SIGHUP lets the step finish, then the run saves and stops; a second stops
        at once."""
        self.signals.append(signum)
        if len(self.signals) > 1:
            raise StopNow(signum)
        again = ("press it again to stop" if signum == signal.SIGINT else f"a second {SIGNALS[signum]} stops")
        self.tell(f"{SIGNALS[signum]}: stopping after this step ({again} at once, without saving)")

    def output_closed(self) -> int:
        """The standard output was closed (``seqnn train ... | head``): the run stops as a signal stops it, with
        last.npz saved (at step 0 too), and says how to continue on the standard error; exit 141 (128 + SIGPIPE)."""
        with suppress(OSError, ValueError):                  # nothing more goes to the closed output
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        self.checkpoint("last.npz")
        print(f"seqnn train: the output was closed (its reader ended); stopped at step {self.run.trainer.steps} and "
              f"saved {self.folder}/last.npz. Continue with: seqnn train --resume {self.folder}", file=sys.stderr)
        return 141

    def tell(self, line: str) -> None:
        """A line about the run's end, which must not itself end the run (a closed terminal, a signal mid-write)."""
        try:
            self.show.say(line)
        except (OSError, RuntimeError):
            pass

    def train(self, resumed_from: str | None = None) -> int:
        """Show the header, then train until the stopping rule or a signal; returns the exit status (0 done,
        128 + the signal; 141 when the output was closed)."""
        handlers = {}
        if threading.current_thread() is threading.main_thread():
            handlers = {signum: signal.signal(signum, self.on_signal) for signum in SIGNALS}
        try:
            for line in self.opening:
                self.show.say(line)
            self.header(resumed_from)
            with blas_threads(self.threads):
                self._loop()
            if self.signals:
                self.checkpoint("last.npz")
                self.tell(f"{SIGNALS[self.signals[0]]}: interrupted at step {self.run.trainer.steps}; saved "
                          f"{self.folder}/last.npz. Continue with: seqnn train --resume {self.folder}")
                return 128 + self.signals[0]
        except StopNow as stop:
            self.tell(f"{SIGNALS[stop.signum]} again: stopped at once, without saving; {intact(self.folder)}. "
                      f"Continue with: seqnn train --resume {self.folder}")
            return 128 + stop.signum
        except BrokenPipeError:                              # the reader of the output ended: not a disk error
            return self.output_closed()
        except OSError as err:                               # a checkpoint, metrics.csv or loss.png
            raise RunError(cannot_write(err.filename or self.folder, err, self.folder)) from None
        finally:
            self.log.close()
            for signum, previous in handlers.items():
                signal.signal(signum, previous)
        tunes = self.run.text.startswith("X:")                     # tunes in ABC notation: hear them
        prime = shlex.quote(suggested_prime(self.run.vocab, self.run.text))
        try_this = "--tunes 4 --out tunes" if tunes else f"--prime {prime}"
        self.show.say(f"done: step {self.run.trainer.steps}, {clock(self.elapsed)} of training in all; best "
                      f"validation {self.best['loss'] / LN2:.3f} bits/char at step {self.best['step']} "
                      f"({self.folder}/best.npz). Try: seqnn sample {shlex.quote(self.folder)} {try_this}")
        return 0

    def _loop(self) -> None:
        trainer, opts = self.run.trainer, self.opts
        start, elapsed0 = time.monotonic(), self.elapsed
        deadline = start + opts["minutes"] * 60 if opts["minutes"] else math.inf
        pace = Pace(trainer.steps, self.target, deadline)
        last_val = self.log.data["val_loss"][-1] if self.log.data["val_loss"] else None
        while not self.signals:
            t0 = time.monotonic()
            try:
                loss, norm, chars = trainer.step()
            except DivergedError as err:
                raise RunError(self.diverged(str(err))) from None
            step_time = time.monotonic() - t0
            pace.add(chars, step_time)
            finishing = trainer.steps >= self.target or time.monotonic() >= deadline
            why = self.divergence.train_loss(loss)
            val = is_best = None
            if not why and (trainer.steps % opts["eval_every"] == 0 or finishing):
                val, is_best = self.validate()
                why, last_val = self.divergence.val_loss(val), val
            if why:
                raise RunError(self.diverged(f"step {trainer.steps}: {why}"))
            self.elapsed = elapsed0 + time.monotonic() - start
            self.log.add_step(trainer.steps, self.elapsed, loss, norm, chars / max(step_time, 1e-9),
                              trainer.optimizer.lr, val)
            if not finishing:                                # the status line first, then what validation found
                self.show.status(self.status_line(loss, last_val, pace), force=val is not None)
            if val is not None:
                self.report(val, bool(is_best))
            if finishing:
                return

    def status_line(self, loss: float, last_val: float | None, pace: Pace) -> dict:
        """The fields of the status line, in order (``Progress`` drops the least needed on a narrow terminal).
        Both losses in bits per character; metrics.csv keeps nats too."""
        t = self.run.trainer
        of = "" if self.target == math.inf else f"/{self.target}"
        return {"step": f"step {t.steps}{of}", "epoch": f"epoch {t.epoch + t.chunk / t.chunks_per_epoch:.2f}",
                "loss": f"loss {loss / LN2:.3f} bpc", "lr": f"lr {t.optimizer.lr:.3g}",
                "val": f"val {last_val / LN2:.3f} bpc" if last_val is not None else "val -",
                "speed": f"{pace.chars_per_second():,.0f} chars/s", "left": f"{clock(pace.left(t.steps))} left"}

    def diverged(self, why: str) -> str:
        return (f"training diverged at {why}; {intact(self.folder)}. Try a smaller --lr (now {self.opts['lr']:g}) "
                f"or --clip (now {self.opts['clip'] or 'off'})")


# --- seqnn train: a new run, or a saved one continued ---------------------------------------------------------------
def train(given: dict, text_paths=(), *, out: str | None = None, resume: str | None = None,
          overwrite: bool = False, init_from: str | None = None) -> int:
    """``seqnn train``: a new run in ``out`` (default "run"), or the run saved at ``resume`` continued.

    ``given``: the options the user gave (name -> value); ``resume``: a run's
    folder (its last.npz) or a checkpoint file in it; ``init_from``: a trained
    model a new run starts from (fine-tuning). Returns the exit status. Every
    option is checked, the text read and the model built before anything in the
    folder is removed: ``overwrite`` replaces a run only by one that starts.
    """
    if resume is not None:
        if overwrite or init_from is not None:
            option = "--overwrite" if overwrite else "--init-from"
            raise RunError(f"{option}: a resumed run goes on in its own folder with its own model, so there is "
                           f"nothing to start afresh; leave out {option} (or --resume, to start a new run in --out)")
        return _continue(given, text_paths, resume, out)
    if text_paths and given.get("corpus") is not None:
        raise RunError(f"--corpus {given['corpus']}: names the bundled text learned when no TEXT is given, and "
                       f"TEXT is given ({text_paths[0]}); leave one of them out")
    model = vocab = None
    if init_from is not None:
        model, vocab, given = fine_tuning(init_from, given)
    opts = new_options(given)
    folder = out or "run"
    if os.path.exists(folder) and not os.path.isdir(folder):
        raise RunError(f"--out: {folder} is a file; expected a folder for the run (it is created if missing)")
    with claimed(folder):
        if not overwrite and any(os.path.exists(os.path.join(folder, n)) for n in ("last.npz", "best.npz")):
            raise RunError(f"--out: {folder} already holds a run; continue it with --resume {folder}, "
                           "or pass --overwrite to start afresh there")
        run = make_run(opts, text_paths, model=model, vocab=vocab, say=lambda line: print(line, flush=True))
        cleared = clear(folder) if overwrite else []
        session = Session(run, folder, None, uuid.uuid4().hex)
        if init_from is not None:
            session.opening.append(f"--init-from: the weights of {init_from}; this run fine-tunes them")
        if cleared:
            session.opening.append(f"--overwrite: removed the previous run's {', '.join(cleared)} from {folder}/")
        return session.train()


def fine_tuning(init_from: str, given: dict):
    """(model, vocab, options) of a new run that starts from the trained model at ``init_from``: the model keeps
    what makes it (its cell, sizes, dropout, dtype); asking for other values of them is refused; its random
    generators (dropout) start from the run's --seed."""
    model, vocab, _, _, _ = load_charlm(init_from)
    own = {name: model.config[key] for name, key in MODEL_OPTIONS.items()}
    other = [f"{flag(name)} {given[name]}" for name, value in own.items() if name in given and given[name] != value]
    if other:
        raise RunError(f"--init-from: {init_from} holds a {own['layers']} x {own['hidden']} {own['cell'].upper()} "
                       f"({own['dtype']}, dropout {own['dropout']}); {', '.join(other)} would make another model: "
                       "leave them out, or train a new model")
    seed = np.random.default_rng(given.get("seed", DEFAULTS["seed"]))
    for g in model.generators():
        g.bit_generator.state = type(g.bit_generator)(seed.integers(2 ** 63)).state
    return model, vocab, {**given, **own}


def _continue(given: dict, text_paths, resume: str, out: str | None) -> int:
    if os.path.isdir(resume) or not resume.endswith(".npz"):
        folder, checkpoint = resume, os.path.join(resume, "last.npz")
    else:
        folder, checkpoint = os.path.dirname(resume) or ".", resume
    if out is not None and os.path.abspath(out) != os.path.abspath(folder):
        raise RunError("--out: a resumed run stays in its own folder (--resume DIR); leave --out out")
    fixed = [k for k in FIXED if k in given]
    if fixed:
        raise RunError(f"--resume: {', '.join(map(flag, fixed))} cannot change when resuming (the checkpoint fixes "
                       "the model and the data); start a new run in another --out")
    if not os.path.isfile(checkpoint):
        raise RunError(f"--resume: {checkpoint} does not exist; is {folder} the --out folder of a seqnn train run?")
    with claimed(folder, create=False):
        try:
            model, vocab, saved = io.load_checkpoint(checkpoint)
        except ValueError as err:
            raise RunError(f"--resume: {err}{other_intact(checkpoint)}") from None
        if not isinstance(model, CharLM) or vocab is None or not isinstance(saved, dict) or "trainer" not in saved:
            raise RunError(f"--resume: {checkpoint} is a model file without a training state")
        opts = checked_record(saved, model, f"--resume: {checkpoint}", other_intact(checkpoint))
        saved_opts = dict(opts)                              # the run as it was saved, before what is given now
        if any(k in given for k in STOP_RULES):              # a new stopping rule replaces the saved one
            opts.update(dict.fromkeys(STOP_RULES))
        opts.update(given)
        check_rules(opts, given)
        run = make_run(opts, text_paths or saved["text"]["files"], model=model, vocab=vocab, trained_on=saved["text"])
        try:
            run.trainer.load_state_dict(saved["trainer"])  # the position, the optimizer's state, the generators
        except (ValueError, TypeError, KeyError) as err:
            raise RunError(f"--resume: {checkpoint}: the training record is damaged ({err})"
                           f"{other_intact(checkpoint)}") from None
        session = Session(run, folder, saved, saved["run_id"])
        session.mend_best()
        session.compare_schedule(make_schedule(saved_opts, run.trainer.chunks_per_epoch))
        return session.train(checkpoint)
