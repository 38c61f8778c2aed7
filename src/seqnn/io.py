"""Save and load a model to one ``.npz`` file: parameters, config, vocabulary, and
optionally a training state (a checkpoint that a run resumes from).

The file holds every parameter under its dotted name, plus JSON strings:
``__class__`` (the model's class), ``__config__`` (its constructor arguments),
optionally ``__vocab__``, and for a checkpoint ``__training__`` (a nested
structure whose arrays are stored beside it as ``__training__/...`` entries).
No pickles: ``np.load(allow_pickle=False)`` reads it, so loading a file cannot
run code. A checkpoint is also a model file: ``load`` reads its model and
ignores the rest.

Writing is atomic (``_files.write_atomic``): a crash mid-save never leaves a
half-written file, and the old file, if any, stays intact.
"""

from __future__ import annotations

from typing import Any

import json
import os
import zipfile
from contextlib import contextmanager

import numpy as np

from ._checks import check_path
from ._files import write_atomic
from ._memory import available_memory, size
from .data import Vocabulary
from .models import MODELS
from .module import Module

FORMAT = "seqnn-1"
TRAINING = "__training__"


def save(model: Module, path, vocab: Vocabulary | None = None, *, training: dict | None = None) -> None:
    """Write ``model`` (and ``vocab``) to ``path`` atomically.

    ``training``, for a checkpoint: a nested dict (of dicts, lists, numbers,
    strings and numpy arrays) such as ``StreamTrainer.state_dict()``; arrays keep
    their dtype and shape, numbers are stored exactly (JSON floats round-trip).
    Raises ``ValueError`` if a parameter is not finite (a diverged model never
    replaces a good file).
    """
    name = type(model).__name__
    if name not in MODELS or getattr(model, "config", None) is None:
        raise TypeError(f"model: expected one of {sorted(MODELS)}, got {name}")
    arrays: dict[str, Any] = dict(model.state_dict())
    for key, value in arrays.items():
        if not np.isfinite(value).all():
            raise ValueError(f"model: parameter {key} is not finite; refusing to save a diverged model")
    arrays["__format__"] = np.array(FORMAT)
    arrays["__class__"] = np.array(name)
    arrays["__config__"] = np.array(json.dumps(model.config))
    if vocab is not None:
        if not isinstance(vocab, Vocabulary):
            raise TypeError(f"vocab: expected a seqnn.data.Vocabulary (or None), got {type(vocab).__name__}")
        if len(vocab) != getattr(model, "vocab_size", len(vocab)):
            raise ValueError(f"vocab: expected {model.vocab_size} tokens (the model's vocab_size), got {len(vocab)}")
        arrays["__vocab__"] = np.array(json.dumps(vocab.to_config()))
    if training is not None:
        if not isinstance(training, dict):
            raise TypeError(f"training: expected a dict (e.g. StreamTrainer.state_dict()), "
                            f"got {type(training).__name__}")
        arrays[TRAINING] = np.array(json.dumps(_pack(training, arrays, TRAINING)))
    write_atomic(check_path("path", path), lambda f: np.savez(f, **arrays))


def _pack(tree, arrays: dict, key: str):
    """Move the arrays of ``tree`` into ``arrays`` (under their path); return the JSON-able rest."""
    if isinstance(tree, np.ndarray):
        if tree.dtype.hasobject:           # would be pickled, and load (allow_pickle=False) would refuse the file
            raise TypeError(f"training: cannot store an array of Python objects at {key}")
        if key in arrays:
            raise ValueError(f"training: two entries are stored as {key} (a key holding '/' collides with a "
                             "nested one)")
        arrays[key] = tree
        return {"__array__": key}
    if isinstance(tree, dict):
        return {str(k): _pack(v, arrays, f"{key}/{k}") for k, v in tree.items()}
    if isinstance(tree, (list, tuple)):
        return [_pack(v, arrays, f"{key}/{i}") for i, v in enumerate(tree)]
    if isinstance(tree, np.generic):
        return tree.item()
    if tree is None or isinstance(tree, (bool, int, float, str)):
        return tree
    raise TypeError(f"training: cannot store a {type(tree).__name__} at {key}")


def _unpack(tree, data):
    if isinstance(tree, dict):
        if set(tree) == {"__array__"}:
            return data[tree["__array__"]]
        return {k: _unpack(v, data) for k, v in tree.items()}
    if isinstance(tree, list):
        return [_unpack(v, data) for v in tree]
    return tree


STRINGS = ("__format__", "__class__", "__config__", "__vocab__", TRAINING)
STRING_LIMIT = 64 * 2 ** 20
"""The JSON entries (class, config, vocabulary, training record) are small: more is not a seqnn file."""
RECORD_LIMIT = 2 ** 24
"""Elements one array of a training record may hold beyond the model's own size (a history of 16M steps)."""


def _headers(data) -> dict:
    """Each entry's (shape, dtype), read from its .npy header without decompressing the rest of it."""
    headers = {}
    for member in data.zip.namelist():
        with data.zip.open(member) as f:
            version = np.lib.format.read_magic(f)
            if version not in ((1, 0), (2, 0)):
                raise ValueError(f"entry {member} has .npy format {version}")
            read = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
            shape, _, dtype = read(f)
        headers[member[:-4] if member.endswith(".npy") else member] = (shape, dtype)
    return headers


def _nbytes(header) -> int:
    shape, dtype = header
    return int(np.prod(shape, dtype=object)) * dtype.itemsize


def _check_sizes(headers: dict, name: str, config: dict) -> None:
    """Every entry against what the config describes, before any entry is decompressed.

    The parameters must hold exactly the numbers a ``name`` of this config has,
    in its dtype; each array of a training record at most as many as the model
    (or ``RECORD_LIMIT``); and all of it must fit in the memory this machine has
    left, the model built beside the arrays read. So no file can ask for more
    memory than its config describes, and no config for more than there is.
    """
    if name not in MODELS:
        raise ValueError(f"unknown model class {name!r}; expected one of {sorted(MODELS)}")
    try:
        count = MODELS[name].count_parameters(config)
        dtype = np.dtype(config["dtype"])
    except (KeyError, TypeError, ValueError) as err:
        raise ValueError(f"its config does not describe a {name} ({type(err).__name__}: {err})") from None
    if not isinstance(count, int) or count < 0 or dtype.kind != "f":
        raise ValueError(f"its config does not describe a {name} ({count} parameters of {dtype})")
    params = {k: h for k, h in headers.items() if not k.startswith("__")}
    held = sum(int(np.prod(shape, dtype=object)) for shape, _ in params.values())
    if held != count:
        raise ValueError(f"its config describes a {name} of {count:,} parameters, its entries hold {held:,}")
    for key, (_, kind) in params.items():
        if kind != dtype:
            raise ValueError(f"parameter {key} is {kind}, the config says {dtype}")
    for key, (shape, kind) in headers.items():
        if kind.hasobject:
            raise ValueError(f"entry {key} holds Python objects")
        if key.startswith(TRAINING + "/") and int(np.prod(shape, dtype=object)) > max(count, RECORD_LIMIT):
            raise ValueError(f"training entry {key} declares shape {shape}, larger than the model it belongs to")
    needed = sum(_nbytes(h) for h in headers.values()) + count * max(dtype.itemsize, 8)  # + the model, built
    free = available_memory()
    if free is not None and needed > free:
        raise ValueError(f"reading it and building its {name} needs about {size(needed)}, more than the "
                         f"{size(free)} this machine has available")


DAMAGE = (ValueError, KeyError, TypeError, EOFError, OSError, zipfile.BadZipFile, UnicodeDecodeError)
"""What a damaged, truncated or foreign file raises somewhere in numpy, zipfile or json."""


@contextmanager
def _archive(path):
    """The .npz at ``path`` and its entries' headers, open for the block; any damage, there or in the
    block, is one ValueError saying the file is not a valid seqnn model file, and why."""
    path = check_path("path", path)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"path: no such file: {path}")
    try:
        if os.path.getsize(path) == 0:
            raise ValueError("the file is empty")
        data = np.load(path, allow_pickle=False)
        if not isinstance(data, np.lib.npyio.NpzFile):
            raise ValueError("it is a single .npy array, not an .npz archive")
        with data:
            headers = _headers(data)
            if "__format__" not in headers or str(data["__format__"]) != FORMAT:
                raise ValueError(f"it has no '{FORMAT}' format mark")
            for key in STRINGS:
                if key in headers and _nbytes(headers[key]) > STRING_LIMIT:
                    raise ValueError(f"entry {key} declares {size(_nbytes(headers[key]))}, more than a seqnn "
                                     "file holds")
            yield data, headers
    except DAMAGE as err:
        reason = str(err) or type(err).__name__
        if "pickle" in reason:          # numpy's guess for any unknown bytes; never suggest unpickling
            reason = "it is not a NumPy .npz archive"
        raise ValueError(f"path: {path} is not a valid seqnn model file ({reason})") from None


def _read(path):
    """(class name, config, vocab, parameters, training or None); a damaged or foreign file is one ValueError.

    Every entry's header is checked against the config (``_check_sizes``) before
    any entry is decompressed.
    """
    with _archive(path) as (data, headers):
        name = str(data["__class__"])
        config = json.loads(str(data["__config__"]))
        if not isinstance(config, dict):
            raise ValueError("its config is not a mapping")
        _check_sizes(headers, name, config)
        vocab = Vocabulary.from_config(json.loads(str(data["__vocab__"]))) if "__vocab__" in headers else None
        state = {k: data[k] for k in headers if not k.startswith("__")}
        training = _unpack(json.loads(str(data[TRAINING])), data) if TRAINING in headers else None
        if training is not None and not isinstance(training, dict):
            raise ValueError("its training record is not a mapping")
    return name, config, vocab, state, training


def read_record(path) -> dict | None:
    """The training record of a checkpoint, without its arrays (they stay ``{"__array__": key}`` markers).

    Cheap: one small entry is read. None for a plain model file. A damaged or
    foreign file raises ``ValueError``, as ``load`` does.
    """
    with _archive(path) as (data, headers):
        record = json.loads(str(data[TRAINING])) if TRAINING in headers else None
        if record is not None and not isinstance(record, dict):
            raise ValueError("its training record is not a mapping")
    return record


def load(path, into: Module | None = None):
    """Read a file written by ``save``. Returns ``(model, vocab)`` (vocab None if none was saved).

    With ``into=model``, the parameters are loaded into that existing model,
    which must have the same class and config; otherwise a new model is built
    from the saved config. A file of a different architecture raises
    ``ValueError`` naming what differs; a damaged or foreign file raises
    ``ValueError`` saying it is not a valid seqnn model file and why.
    """
    model, vocab, _ = load_checkpoint(path, into)
    return model, vocab


def load_checkpoint(path, into: Module | None = None):
    """Like ``load``, plus the training state: returns ``(model, vocab, training)``.

    ``training`` is the nested dict given to ``save(..., training=...)`` (arrays
    restored with their dtype), or None for a plain model file.
    """
    name, config, vocab, state, training = _read(path)

    def invalid(reason: str) -> ValueError:
        return ValueError(f"path: {path} is not a valid seqnn model file ({reason})")

    if into is None:
        try:
            model: Any = MODELS[name](**config, rng=0)
        except (TypeError, ValueError) as err:
            raise invalid(f"its config does not build a {name}: {err}") from None
    else:
        model = into
        if type(model).__name__ != name:
            raise ValueError(f"into: the file holds a {name}, got a {type(model).__name__}")
        diff = {k: (config.get(k), model.config.get(k)) for k in set(config) | set(model.config)
                if config.get(k) != model.config.get(k)}
        if diff:
            detail = ", ".join(f"{k}: file {a!r} vs model {b!r}" for k, (a, b) in sorted(diff.items()))
            raise ValueError(f"into: different architecture ({detail})")
    try:
        model.load_state_dict(state)
    except (ValueError, TypeError) as err:
        raise invalid(f"it does not match its own config: {err}") from None
    if vocab is not None and len(vocab) != getattr(model, "vocab_size", len(vocab)):
        raise invalid(f"it holds {len(vocab)} tokens for a model of vocab_size {model.vocab_size}")
    return model, vocab, training
