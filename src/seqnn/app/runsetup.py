"""What a training run is made of: its text (read, split, hashed), its model (sized before it is built), its
optimizer with the run's learning-rate schedule, and its ``StreamTrainer``, built the same way for a new run
and a resumed one.

``seqnn.app.run`` drives a run built here; ``seqnn sample``, ``evaluate`` and
``inspect`` read texts through ``load_text``.
"""

from __future__ import annotations

from typing import Any

import hashlib
import math
import os
from dataclasses import dataclass
from importlib import resources

import numpy as np

from .._memory import available_memory, size
from ..cells import CELLS
from ..data import Vocabulary, batchify, read_text
from ..models import CharLM
from ..optim import SGD, Adagrad, Adam, LRSchedule, Optimizer, RMSProp
from ..train import StreamTrainer
from .options import MODEL_OPTIONS, STOP_RULES, RunError, saved_options
from .runlog import RunLog

CORPORA = {"alice": ("alice.txt", "Alice's Adventures in Wonderland (Lewis Carroll, 1865; public domain)"),
           "tunes": ("tunes.abc", "804 folk tunes in ABC notation (MIT 6.S191's irish.abc; MIT License)")}
OPTIMIZERS: dict[str, type[Optimizer]] = {"sgd": SGD, "adagrad": Adagrad, "rmsprop": RMSProp, "adam": Adam}


# --- the text ----------------------------------------------------------------------------------------------------
def corpus_path(corpus: str = "alice"):
    """The bundled text ``corpus`` (a key of ``CORPORA``)."""
    return resources.files("seqnn") / "corpus" / CORPORA[corpus][0]


def load_text(paths, corpus: str = "alice"):
    """(text, description, stored paths) of the given files, or of the bundled ``corpus`` when there are none."""
    if paths:
        text = read_text(list(paths))                  # the same reader for a user's file and the corpus
        return text, ", ".join(map(str, paths)), [os.path.abspath(p) for p in paths]
    with resources.as_file(corpus_path(corpus)) as path:
        text = read_text([path])
    return text, f"the bundled corpus, {CORPORA[corpus][1]}", []


def split(ids: np.ndarray, val_fraction: float, batch: int, seq_len: int):
    """(train ids, validation ids): the last ``val_fraction`` of the stream is held out."""
    n_val = max(2, round(len(ids) * val_fraction))
    train_ids, val_ids = ids[:len(ids) - n_val], ids[len(ids) - n_val:]
    need = batch * (seq_len + 1)
    if len(train_ids) < need:
        raise RunError(f"the text is too short: {len(ids):,} characters leave {len(train_ids):,} for training after "
                       f"--val-fraction {val_fraction}, and one batch of --batch {batch} x (--seq-len {seq_len} + 1) "
                       f"needs {need:,}; give a longer text or a smaller --batch or --seq-len")
    return train_ids, val_ids


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def check_same_text(digest: str, described: str, trained_on: dict, what: str) -> None:
    """Refuse a text (``digest``: its ``sha256``) that is not the one a run trained on (``trained_on``: a
    checkpoint's text record)."""
    if digest != trained_on["sha256"]:
        raise RunError(f"{what}: the text ({described}) is not the text this run trained on "
                       f"({trained_on['chars']:,} characters, sha256 {trained_on['sha256'][:12]}...)")


def validation_split(vocab: Vocabulary, training: dict | None, where: str):
    """(ids, the text in words) of the held-out tail a run validated on, read again from its own files (``where``:
    the checkpoint, for messages); refused for a model without a training record, or a text that has changed."""
    _, ids, described = text_splits(vocab, training, where)
    return ids, f"the validation split of {described}"


def text_record(training: dict, where: str) -> dict:
    """A training record's record of its text (files, sha256, characters), or a RunError saying it is damaged."""
    text = training.get("text")
    if not (isinstance(text, dict) and isinstance(text.get("files"), list) and
            all(isinstance(f, str) for f in text["files"]) and isinstance(text.get("sha256"), str) and
            isinstance(text.get("chars"), int)):
        raise RunError(f"{where}: the training record is damaged (its record of the text is incomplete)")
    return text


# --- a checkpoint's training record: what a resumed run is made of -------------------------------------------------
RECORD: dict[str, type | tuple[type, ...]] = {"trainer": dict, "options": dict, "text": dict, "log": dict,
                                              "run_id": str, "elapsed": (int, float)}


def checked_record(saved: dict, model: CharLM, where: str, intact_other: str) -> dict:
    """The options of a checkpoint's training record (what ``Session.checkpoint`` writes), the record checked first:
    every part there and of its kind, the model the one its options describe. A record that is not is damaged:
    one line naming what is wrong, and the run's other checkpoint if that one is whole."""
    def damaged(why: str) -> RunError:
        return RunError(f"{where}: the training record is damaged ({why}){intact_other}")

    wrong = [key for key, kind in RECORD.items() if not isinstance(saved.get(key), kind)]
    if wrong:
        raise damaged(f"{', '.join(wrong)} missing or not what seqnn train writes")
    try:
        text_record(saved, where)
    except RunError:
        raise damaged("its record of the text is incomplete") from None
    log = saved["log"]
    if not set(RunLog.KEYS) <= set(log) or len({np.size(log[k]) for k in RunLog.KEYS[:5]}) != 1 or \
            np.size(log["val_step"]) != np.size(log["val_loss"]):
        raise damaged("its history of steps is incomplete")
    best = saved.get("best_loss"), saved.get("best_step")
    if best != (None, None) and not (isinstance(best[0], float) and math.isfinite(best[0]) and
                                     isinstance(best[1], int)):
        raise damaged(f"its best loss and step are {best}")
    try:
        opts = saved_options(saved["options"], where)
    except RunError as err:
        raise RunError(f"{err}{intact_other}") from None
    differ = [key for name, key in MODEL_OPTIONS.items() if model.config.get(key) != opts[name]]
    if differ:
        raise damaged(f"its model is not the one its options describe: {', '.join(differ)} differ")
    return opts


def default_prime(vocab: Vocabulary) -> str:
    """What a sample starts from when no prime is given: a newline, or the first token of a vocabulary without one."""
    return "\n" if "\n" in vocab.index else vocab.tokens[0]


def suggested_prime(vocab: Vocabulary, text: str) -> str:
    """A prime for the closing hint that the model can read: "The" when it knows those characters, else the
    first word of its text."""
    if all(c in vocab.index for c in "The"):
        return "The"
    return next((word[:12] for word in text[:10_000].split() if all(c in vocab.index for c in word[:12])),
                next((t for t in vocab.tokens if t.isalpha()), default_prime(vocab)))


def encode_known(vocab: Vocabulary, text: str, what: str, advice: str = "") -> np.ndarray:
    """``vocab.encode(text)``, or one line naming every character the vocabulary lacks (and ``advice``)."""
    try:
        return vocab.encode(text)
    except ValueError:
        unknown = sorted(set(Vocabulary(text).tokens) - set(vocab.tokens))
    shown = ", ".join(repr(c) for c in unknown[:10]) + (" ..." if len(unknown) > 10 else "")
    raise RunError(f"{what}: {len(unknown)} character(s) the model's vocabulary does not have: {shown} "
                   f"(it knows {len(vocab)}: {''.join(vocab.tokens)!r}){advice}")


# --- the model, sized before it is built ---------------------------------------------------------------------------
UPDATE_TEMPORARIES = {"adam": 5, "rmsprop": 3, "adagrad": 3, "sgd": 1}
"""Arrays the size of a parameter that an optimizer's update makes while it runs (measured with tracemalloc)."""


def memory_needed(opts: dict, vocab_size: int) -> dict:
    """Bytes a run of these options needs, by part, estimated before anything is allocated.

    Parameters, their gradients and the optimizer's slots (P numbers each); one
    step's activations (per layer the gate pre-activations and their gradients,
    states and outputs: about (2G + 3) H numbers per character, measured; the
    one-hot input, logits, probabilities and their gradient: 4 V per character);
    the temporaries of the optimizer's update of the largest weight (Adam's
    ``m_hat``, ``v_hat``, ...: five of its size, ``UPDATE_TEMPORARIES``), as
    far as they exceed the activations, which are freed by then.
    """
    itemsize = np.dtype(opts["dtype"]).itemsize
    P = CharLM.count_parameters({"vocab_size": vocab_size, "hidden_size": opts["hidden"], "cell": opts["cell"],
                                 "num_layers": opts["layers"], "embedding_dim": None})
    G = CELLS[opts["cell"]].num_gates
    chars = opts["seq_len"] * opts["batch"]
    H, V = opts["hidden"], vocab_size
    slots = len(OPTIMIZERS[opts["optimizer"]].slots)              # arrays of the parameters' size it keeps
    largest = max(G * H * max(H, V), V * H)                       # W_hh (W_xh of the first layer), or W_hy
    activations = chars * (opts["layers"] * (2 * G + 3) * H + 4 * V) * itemsize
    update = UPDATE_TEMPORARIES[opts["optimizer"]] * largest * itemsize
    return {"parameters": P * itemsize, "gradients and optimizer state": (1 + slots) * P * itemsize,
            "activations of one step": activations, "the optimizer's update": max(0, update - activations)}


def check_memory(opts: dict, vocab_size: int) -> dict:
    """Refuse, before building anything, a run that cannot fit in the memory this machine has left; returns what
    it needs, by part (``memory_needed``)."""
    parts = memory_needed(opts, vocab_size)
    needed, free = sum(parts.values()), available_memory()
    if free is not None and needed > free:
        detail = ", ".join(f"{name} {size(n)}" for name, n in parts.items())
        raise RunError(f"this model needs about {size(needed)} ({detail}), more than the {size(free)} this machine "
                       f"has available; lower --hidden ({opts['hidden']}) or --layers ({opts['layers']}), or "
                       f"--batch and --seq-len")
    return parts


# --- when it stops, and how its learning rate moves -------------------------------------------------------------
def stop_step(opts: dict, steps_per_epoch: int) -> float:
    """The step at which the run's rule stops it (--steps, or --epochs of ``steps_per_epoch``); inf for --minutes
    alone."""
    return min([n for n in (opts["steps"], opts["epochs"] and opts["epochs"] * steps_per_epoch) if n] or [math.inf])


def stop_rules(opts: dict) -> str:
    """The run's stopping rules in words: "12 steps or 2 minutes"."""
    return " or ".join(f"{opts[k]} {k}" for k in STOP_RULES if opts[k])


def make_schedule(opts: dict, steps_per_epoch: int) -> LRSchedule:
    """The learning rate of each step of a run of ``opts`` (its length from its stopping rule)."""
    target = stop_step(opts, steps_per_epoch)
    return LRSchedule(opts["lr"], opts["lr_schedule"], warmup=opts["warmup"],
                      total=None if target == math.inf else int(target), steps_per_epoch=steps_per_epoch,
                      decay=opts["lr_decay"], decay_after=opts["lr_decay_after"])


def make_optimizer(opts: dict, model: CharLM, steps_per_epoch: int) -> Optimizer:
    """The run's optimizer, each step's learning rate from the run's schedule (``make_schedule``): the one place
    both are made, for a new run and a resumed one (whose saved state is loaded into it after)."""
    return OPTIMIZERS[opts["optimizer"]](model.parameters(), lr=opts["lr"],
                                         lr_schedule=make_schedule(opts, steps_per_epoch))


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
    target: float               # the step the run stops at (inf: only --minutes stops it)


BIG = 2 ** 30
"""A run that needs more memory than this (1 GiB) says what it builds before it builds it: that takes a while."""


def new_model(opts: dict, vocab_size: int) -> CharLM:
    """The CharLM a run of these options starts from, before its first step (the same seed: the same weights)."""
    extra: dict[str, Any] = {"forget_bias": 1.0} if opts["cell"] == "lstm" else {}
    return CharLM(vocab_size, opts["hidden"], opts["cell"], num_layers=opts["layers"], dropout=opts["dropout"],
                  dtype=np.dtype(opts["dtype"]), rng=opts["seed"], **extra)


def untrained_like(model: CharLM, training: dict | None, where: str) -> CharLM:
    """The control for a look inside ``model``: the same network before training (from its run's options: the
    same seed, so the same starting weights), or, for a model without a training record, the same architecture
    with weights drawn from seed 0."""
    if training and isinstance(training.get("options"), dict):
        return new_model(saved_options(training["options"], where), model.vocab_size)
    return CharLM(**{**model.config, "rng": 0})


def text_splits(vocab: Vocabulary, training: dict | None, where: str):
    """(training ids, validation ids, the text in words) of the run's own text, as ``validation_split`` reads it."""
    if not training:
        raise RunError(f"{where}: holds no training record, so there is no validation text to use; give TEXT")
    record = text_record(training, where)
    opts = saved_options(training.get("options"), where)
    text, described, _ = load_text(record["files"], opts["corpus"])
    check_same_text(sha256(text), described, record, "TEXT (none given)")
    train_ids, val_ids = split(vocab.encode(text), opts["val_fraction"], opts["batch"], opts["seq_len"])
    return train_ids, val_ids, described


def make_run(opts: dict, text_paths=(), *, model: CharLM | None = None, vocab: Vocabulary | None = None,
             trained_on: dict | None = None, say=None) -> Run:
    """Read the text, split off validation, build (or take) the CharLM, its optimizer and the StreamTrainer.

    ``trained_on`` (a checkpoint's text record): the text must be that one. A
    model given without it is fine-tuned on the text (``--init-from``).
    """
    text, described, stored_paths = load_text(text_paths, opts["corpus"])
    digest = sha256(text)                                # once: a large text takes a while
    if trained_on is not None:
        check_same_text(digest, described, trained_on, "--resume")
    advice = "" if model is None or trained_on is not None else (
        "; a fine-tuned model reads only these: replace or remove the others in TEXT first (e.g. iconv -f utf-8 "
        "-t ascii//TRANSLIT for accented letters), or train a new model on it")
    vocab = vocab or Vocabulary(text)
    train_ids, val_ids = split(encode_known(vocab, text, "TEXT", advice), opts["val_fraction"], opts["batch"],
                               opts["seq_len"])
    if model is None:
        parts = check_memory(opts, len(vocab))
        if say is not None and sum(parts.values()) > BIG:
            P = CharLM.count_parameters({"vocab_size": len(vocab), "hidden_size": opts["hidden"], "cell": opts["cell"],
                                         "num_layers": opts["layers"], "embedding_dim": None})
            say(f"building the model: {opts['layers']} {opts['cell'].upper()} layer{'s' * (opts['layers'] > 1)} x "
                f"{opts['hidden']:,}, {P:,} parameters ({size(parts['parameters'])} in {opts['dtype']}); with their "
                f"gradients, {opts['optimizer']}'s state and a step's activations the run needs about "
                f"{size(sum(parts.values()))}: building it takes a while")
        model = new_model(opts, len(vocab))
    data = batchify(train_ids, opts["batch"])
    steps_per_epoch = (len(data) - 1) // opts["seq_len"]
    target = stop_step(opts, steps_per_epoch)
    optimizer = make_optimizer(opts, model, steps_per_epoch)
    trainer = StreamTrainer(model, data, opts["seq_len"], optimizer, opts["clip"] or None)
    text_info = {"files": stored_paths, "sha256": digest, "chars": len(text)}
    return Run(opts, text, described, text_info, vocab, model, trainer, len(train_ids), val_ids, target)
