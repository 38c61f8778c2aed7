"""Save and load a model to one ``.npz`` file: parameters, config, vocabulary.

The file holds every parameter under its dotted name, plus three JSON strings:
``__class__`` (the model's class), ``__config__`` (its constructor arguments)
and, optionally, ``__vocab__``. No pickles: ``np.load(allow_pickle=False)``
reads it, so loading a file cannot run code.

Writing is atomic: the data goes to a temporary file in the same folder, which
is then renamed over the target, so a crash mid-save never leaves a half-written
file (the old file, if any, stays intact).
"""

from __future__ import annotations

import json
import os
import tempfile

import numpy as np

from .data import Vocabulary
from .models import MODELS
from .module import Module

FORMAT = "seqnn-1"


def save(model: Module, path, vocab: Vocabulary | None = None) -> None:
    """Write ``model`` (and ``vocab``) to ``path`` atomically."""
    name = type(model).__name__
    if name not in MODELS or getattr(model, "config", None) is None:
        raise TypeError(f"model: expected one of {sorted(MODELS)}, got {name}")
    arrays = dict(model.state_dict())
    arrays["__format__"] = np.array(FORMAT)
    arrays["__class__"] = np.array(name)
    arrays["__config__"] = np.array(json.dumps(model.config))
    if vocab is not None:
        arrays["__vocab__"] = np.array(json.dumps(vocab.to_config()))
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".seqnn-", suffix=".npz.tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            np.savez(f, **arrays)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)            # atomic on POSIX and Windows
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise


def load(path, into: Module | None = None):
    """Read a file written by ``save``. Returns ``(model, vocab)`` (vocab None if none was saved).

    With ``into=model``, the parameters are loaded into that existing model,
    which must have the same class and config; otherwise a new model is built
    from the saved config. A file of a different architecture raises
    ``ValueError`` naming what differs.
    """
    with np.load(os.fspath(path), allow_pickle=False) as data:
        if "__format__" not in data or str(data["__format__"]) != FORMAT:
            raise ValueError(f"path: {path} is not a seqnn model file (format {FORMAT})")
        name = str(data["__class__"])
        config = json.loads(str(data["__config__"]))
        vocab = Vocabulary.from_config(json.loads(str(data["__vocab__"]))) if "__vocab__" in data else None
        state = {k: data[k] for k in data.files if not k.startswith("__")}

    if into is None:
        if name not in MODELS:
            raise ValueError(f"path: unknown model class {name!r}; expected one of {sorted(MODELS)}")
        model = MODELS[name](**config, rng=0)
    else:
        model = into
        if type(model).__name__ != name:
            raise ValueError(f"into: the file holds a {name}, got a {type(model).__name__}")
        diff = {k: (config.get(k), model.config.get(k)) for k in set(config) | set(model.config)
                if config.get(k) != model.config.get(k)}
        if diff:
            detail = ", ".join(f"{k}: file {a!r} vs model {b!r}" for k, (a, b) in sorted(diff.items()))
            raise ValueError(f"into: different architecture ({detail})")
    model.load_state_dict(state)
    return model, vocab
