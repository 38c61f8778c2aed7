"""Input validation shared by every public entry point.

Each check raises an error that names the argument, what was expected and what
came, so that a wrong shape never turns into a silent broadcast and a NaN never
travels quietly through a network.
"""

from __future__ import annotations

import os
import stat

import numpy as np


def as_rng(rng) -> np.random.Generator:
    """Return a ``np.random.Generator`` from an int seed, a Generator or None.

    None gives a fresh, unpredictable generator (numpy's own default); pass an
    int or a Generator for reproducible results. seqnn never touches numpy's
    global random state.
    """
    if isinstance(rng, np.random.Generator):
        return rng
    if rng is None or (isinstance(rng, (int, np.integer)) and not isinstance(rng, bool)):
        if rng is not None and rng < 0:
            raise ValueError(f"rng: expected a seed >= 0, got {rng}")
        return np.random.default_rng(rng)
    raise TypeError(f"rng: expected an int seed, a numpy Generator or None, got {type(rng).__name__}")


def check_dtype_arg(dtype) -> np.dtype:
    """Validate a ``dtype=`` constructor argument: float32 or float64."""
    try:
        dt = np.dtype(dtype)
    except TypeError:
        raise TypeError(f"dtype: expected float32 or float64, got {dtype!r}") from None
    if dt not in (np.float32, np.float64):
        raise TypeError(f"dtype: expected float32 or float64, got {dt}")
    return dt


def check_positive_int(name: str, value) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name}: expected a positive int, got {value!r}")
    return int(value)


def _is_real(value) -> bool:
    """A Python or numpy real number (not a bool, not a string)."""
    return not isinstance(value, (bool, np.bool_)) and isinstance(value, (int, float, np.integer, np.floating))


def check_bool(name: str, value) -> bool:
    """True or False (a numpy bool too); anything else, such as the string "no", is a TypeError."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name}: expected True or False, got {type(value).__name__} {value!r}")
    return bool(value)


def check_count(name: str, value) -> int:
    """An int >= 0 (a number of tokens, items)."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 0:
        raise ValueError(f"{name}: expected an int >= 0, got {value!r}")
    return int(value)


def check_id(name: str, value, upper: int) -> int:
    """A token id: an int in [0, upper)."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or not 0 <= value < upper:
        raise ValueError(f"{name}: expected an id in [0, {upper}), got {value!r}")
    return int(value)


def check_choice(name: str, value, choices):
    """One of ``choices`` (strings or ints); anything else, an array or a list included, is a ValueError."""
    if isinstance(value, (str, int)) and not isinstance(value, bool) and value in choices:
        return value
    raise ValueError(f"{name}: expected one of {', '.join(repr(c) for c in choices)}, got {value!r:.60}")


def check_path(name: str, path) -> str:
    """A file path (str or os.PathLike) as a str."""
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"{name}: expected a file path (a str or pathlib.Path), got {type(path).__name__}")
    return os.fspath(path)


def check_real(name: str, value, what: str = "a finite number") -> float:
    """A finite real number: TypeError for anything that is not a number, ValueError for NaN or inf."""
    if not _is_real(value):
        raise TypeError(f"{name}: expected {what}, got {type(value).__name__} {value!r}")
    if not np.isfinite(value):
        raise ValueError(f"{name}: expected {what}, got {value!r}")
    return float(value)


def check_positive_number(name: str, value) -> float:
    """A finite real number > 0 (learning rates, eps, clip thresholds, temperatures)."""
    what = "a positive number"
    if check_real(name, value, what) <= 0:
        raise ValueError(f"{name}: expected {what}, got {value!r}")
    return float(value)


def check_fraction(name: str, value, what: str = "a number") -> float:
    """A real number in [0, 1) (momentum, betas, rho, dropout)."""
    if not 0.0 <= check_real(name, value, f"{what} in [0, 1)") < 1.0:
        raise ValueError(f"{name}: expected {what} in [0, 1), got {value!r}")
    return float(value)


def _shape_str(shape) -> str:
    parts = ["..." if s is Ellipsis else "?" if s is None else str(s) for s in shape]
    return "(" + ", ".join(parts) + ("," if len(shape) == 1 and shape[0] is not Ellipsis else "") + ")"


def _shape_fits(shape, actual) -> bool:
    """``shape``: ints (must match) or None (any size), after an optional leading ``...`` (any leading axes)."""
    if shape and shape[0] is Ellipsis:
        shape = shape[1:]
        actual = actual[len(actual) - len(shape):] if len(actual) >= len(shape) else None
    return actual is not None and len(actual) == len(shape) and all(s is None or s == n for s, n in zip(shape, actual))


def check_float_array(name: str, x, shape, dtype, letters: str | list[str] | None = None, why: str = "") -> np.ndarray:
    """Check that ``x`` is a finite float ndarray of ``dtype`` and ``shape``.

    ``shape`` is a tuple whose entries are ints (must match) or None (any size),
    after an optional leading ``...`` (any leading axes: ``(..., None)`` is "at
    least 1-D", ``(...,)`` any shape). ``dtype`` None accepts float32 or float64.
    ``letters`` names the axes in messages, e.g. "TBD" gives "(T, B, D)" (a list for longer
    names: ``["L*Dirs", "B", "H"]``); ``why``
    is added to a shape error (which other argument fixes the shape).
    Returns ``x`` unchanged (never copies, never casts).
    """
    if not isinstance(x, np.ndarray):
        raise TypeError(f"{name}: expected a numpy array, got {type(x).__name__}")
    if dtype is None and x.dtype not in (np.float32, np.float64):
        raise TypeError(f"{name}: expected dtype float32 or float64, got {x.dtype} (seqnn never casts silently)")
    if dtype is not None and x.dtype != dtype:
        raise TypeError(
            f"{name}: expected dtype {np.dtype(dtype)}, got {x.dtype}"
            f" (convert with {name}.astype(np.{np.dtype(dtype)}); seqnn never casts silently)"
        )
    want = _shape_str(shape) if letters is None else "(" + ", ".join(letters) + ") = " + _shape_str(shape)
    if not _shape_fits(shape, x.shape):
        raise ValueError(f"{name}: expected shape {want}, got {x.shape}{why}")
    if not np.isfinite(x).all():
        bad = np.argwhere(~np.isfinite(x))[0]
        raise ValueError(f"{name}: expected finite values, got {x[tuple(bad)]} at index {tuple(int(i) for i in bad)}")
    return x


def check_sequence(name: str, X, input_size: int, dtype) -> np.ndarray:
    """A batch of sequences ``X`` (T, B, D) of ``dtype``, finite, with at least one step and one sequence."""
    check_float_array(name, X, (None, None, input_size), dtype, "TBD")
    if X.shape[0] == 0:
        raise ValueError(f"{name}: expected at least one time step, got T = 0")
    if X.shape[1] == 0:
        raise ValueError(f"{name}: expected at least one sequence, got an empty batch (B = 0)")
    return X


def check_state(name: str, state, part_names: tuple, shape: tuple, dtype, letters) -> None:
    """None, or a recurrent state: one finite array of ``shape`` and ``dtype`` or, for several ``part_names`` (an
    LSTM's ``("h", "c")``), a tuple of them; ``letters`` names the axes in a message."""
    if state is None:
        return
    parts = (state,) if len(part_names) == 1 else state
    if not isinstance(parts, (tuple, list)) or len(parts) != len(part_names):
        axes = ", ".join(letters)
        raise TypeError(f"{name}: expected a tuple ({', '.join(part_names)}) of ({axes}) arrays")
    for part, array in zip(part_names, parts):
        check_float_array(f"{name}.{part}" if len(parts) > 1 else name, array, shape, dtype, letters)


def check_nonempty(name: str, x: np.ndarray, what: str) -> np.ndarray:
    """``x`` holds at least one entry (an empty batch has no mean)."""
    if x.size == 0:
        raise ValueError(f"{name}: expected at least one {what}, got an empty batch of shape {x.shape}")
    return x


def check_mask(name: str, mask, shape) -> np.ndarray:
    """A mask of ``shape`` that selects at least one token: booleans, or numbers all 0 or 1. Returns it."""
    if not isinstance(mask, np.ndarray):
        raise TypeError(f"{name}: expected a numpy bool array, got {type(mask).__name__}")
    if mask.shape != shape:
        raise ValueError(f"{name}: expected shape {shape} (the logits' leading axes), got {mask.shape}")
    if mask.dtype != bool and not (np.issubdtype(mask.dtype, np.number) and np.isin(mask, (0, 1)).all()):
        raise ValueError(f"{name}: expected booleans or 0/1 values, got dtype {mask.dtype} with other values")
    if not mask.any():
        raise ValueError(f"{name}: selects no tokens, so the mean loss is undefined")
    return mask


def check_sequence_ids(name: str, ids, upper: int, batch_size: int | None = None) -> np.ndarray:
    """Token ids (T, B) in [0, upper), at least one step and one sequence (``batch_size``: B must be that)."""
    check_int_array(name, ids, (None, batch_size), upper)
    if ids.shape[0] == 0 or ids.shape[1] == 0:
        raise ValueError(f"{name}: expected at least one time step and one sequence, got shape {ids.shape}")
    return ids


def check_int_array(name: str, ids, shape, upper: int, why: str = "") -> np.ndarray:
    """Check that ``ids`` is an integer ndarray of ``shape`` with values in [0, upper); ``why`` as above."""
    if not isinstance(ids, np.ndarray):
        raise TypeError(f"{name}: expected a numpy integer array, got {type(ids).__name__}")
    if not np.issubdtype(ids.dtype, np.integer):
        raise TypeError(f"{name}: expected an integer dtype (token ids), got {ids.dtype}")
    if not _shape_fits(shape, ids.shape):
        raise ValueError(f"{name}: expected shape {_shape_str(shape)}, got {ids.shape}{why}")
    low = 0 if ids.dtype.kind == "u" or not ids.size else ids.min()      # unsigned ids cannot be negative
    if ids.size and (low < 0 or ids.max() >= upper):
        bad = low if low < 0 else ids.max()
        raise ValueError(f"{name}: expected ids in [0, {upper}), got {bad}")
    return ids


NO_FORWARD = ("backward() called without a forward() to match: each forward's cache serves exactly one backward "
              "(the backward of the latest forward); call forward() again")


def kept(a: np.ndarray) -> np.ndarray:
    """What a forward keeps of an argument for its backward: ``a`` itself if it is read-only
    (seqnn's own outputs are), else a read-only copy. Changing the caller's array between
    forward and backward then cannot change the gradients (PyTorch raises for an in-place
    change of a saved tensor; here the copy makes it harmless)."""
    return a if not a.flags.writeable else read_only(a.copy())


def read_only(a: np.ndarray) -> np.ndarray:
    """A read-only view of ``a``: what a forward returns, so that writing into it cannot
    silently change the cache its backward reads (numpy raises ``ValueError: assignment
    destination is read-only``; take ``.copy()`` to get an array of your own)."""
    view = a.view()
    view.flags.writeable = False
    return view


def check_methods(name: str, obj, methods, what: str):
    """``obj`` has every method of ``methods`` (a model, an optimizer: duck typing); ``what`` names the kind."""
    if not all(callable(getattr(obj, m, None)) for m in methods):
        raise TypeError(f"{name}: expected {what} (with {', '.join(methods)}), got {type(obj).__name__}")
    return obj


def check_training(model, optimizer, clip_norm, optimizer_required: bool = True) -> None:
    """The model, optimizer and clip_norm of a training loop: a seqnn model, an optimizer that holds its
    parameters (one built for another model would train nothing, silently), a positive threshold or None."""
    check_methods("model", model, ("forward", "backward", "parameters"), "a seqnn model")
    if clip_norm is not None:
        check_positive_number("clip_norm", clip_norm)
    if optimizer is None and not optimizer_required:
        return
    check_methods("optimizer", optimizer, ("step",), "an optimizer such as seqnn.Adam(model.parameters())")
    held = {id(p) for p in getattr(optimizer, "params", ())}
    if not any(id(p) in held for p in model.parameters()):
        raise ValueError("optimizer: holds none of the model's parameters (was it built for another model? "
                         "pass model.parameters() to it)")


def check_cut(top_k, top_p, vocab_size: int) -> None:
    """Where sampling cuts the distribution: ``top_k`` None or an int in [1, V]; ``top_p`` None or in (0, 1]."""
    if top_k is not None and (isinstance(top_k, bool) or not isinstance(top_k, (int, np.integer))
                              or not 1 <= top_k <= vocab_size):
        raise ValueError(f"top_k: expected an int in [1, {vocab_size}], got {top_k!r}")
    if top_p is not None and (isinstance(top_p, bool) or not isinstance(top_p, (int, float, np.floating))
                              or not 0 < top_p <= 1):
        raise ValueError(f"top_p: expected a probability in (0, 1], got {top_p!r}")


def check_function(name: str, f, what: str):
    """None, or something callable (``what`` says what it computes)."""
    if f is not None and not callable(f):
        raise TypeError(f"{name}: expected {what}, got {type(f).__name__}")
    return f


def check_state_dict(name: str, state, keys, kind: str | None = None) -> dict:
    """A dict that ``state_dict()`` returned: of ``kind`` (its "type" entry, if given), with every key of ``keys``."""
    if not isinstance(state, dict):
        raise TypeError(f"{name}: expected a dict from state_dict(), got {type(state).__name__}")
    if kind is not None and state.get("type") != kind:
        raise ValueError(f"{name}: expected the state of a {kind}, got {state.get('type')!r}")
    missing = [key for key in keys if key not in state]
    if missing:
        raise ValueError(f"{name}: missing {missing}")
    return state


# --- the data helpers' arguments -------------------------------------------------------------------------------
def check_lengths(lengths, T: int, B: int | None = None, name: str = "lengths"):
    """``lengths`` (B,) ints in [1, T] (B None: any number of sequences); None stays None."""
    if lengths is None:
        return None
    lengths = np.asarray(lengths)
    if not np.issubdtype(lengths.dtype, np.integer):
        raise TypeError(f"{name}: expected integer lengths, got dtype {lengths.dtype}")
    if lengths.ndim != 1 or (B is not None and lengths.shape != (B,)):
        raise ValueError(f"{name}: expected shape (B,) = ({'B' if B is None else B},), one length per sequence, "
                         f"got {lengths.shape}")
    if lengths.size and (lengths.min() < 1 or lengths.max() > T):
        bad = lengths.min() if lengths.min() < 1 else lengths.max()
        raise ValueError(f"{name}: expected values in [1, T] = [1, {T}], got {bad}")
    return lengths


def check_vocabulary(tokens, specials) -> list:
    """A Vocabulary's arguments: ``tokens`` an iterable of tokens (a string: its characters), ``specials`` a
    list of distinct tokens (a string would be split into characters). Returns ``specials`` as a list."""
    if not isinstance(specials, (list, tuple)):
        raise TypeError(f"specials: expected a list of tokens such as ['<pad>', '<eos>'], got {specials!r:.40}"
                        + (" (a string would be split into characters)" if isinstance(specials, str) else ""))
    if isinstance(tokens, (bytes, np.ndarray)) or not hasattr(tokens, "__iter__"):
        raise TypeError(f"tokens: expected a string or a list of tokens, got {type(tokens).__name__}")
    repeated = sorted({s for s in specials if specials.count(s) > 1}, key=str)
    if repeated:
        raise ValueError(f"specials: each special token once, got {repeated} more than once")
    return list(specials)


def check_id_sequences(name: str, seqs) -> list[np.ndarray]:
    """A non-empty list of non-empty 1-D arrays of token ids >= 0; returns them as arrays."""
    if (isinstance(seqs, (str, bytes, np.ndarray)) and np.ndim(seqs) < 2) or not hasattr(seqs, "__iter__"):
        raise TypeError(f"{name}: expected a list of 1-D id arrays, got {type(seqs).__name__}")
    seqs = [np.asarray(s) for s in seqs]
    if not seqs or any(s.ndim != 1 or len(s) == 0 for s in seqs):
        raise ValueError(f"{name}: expected a non-empty list of non-empty 1-D id arrays")
    for b, s in enumerate(seqs):
        if not np.issubdtype(s.dtype, np.integer):
            raise TypeError(f"{name}[{b}]: expected integer token ids, got dtype {s.dtype} "
                            "(seqnn never casts silently)")
        if s.min() < 0:
            raise ValueError(f"{name}[{b}]: expected token ids >= 0, got {s.min()}")
    return seqs


def check_int(name: str, value) -> int:
    """Any int (of either sign), not a bool."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name}: expected an int, got {type(value).__name__} {value!r}")
    return int(value)


def check_paths(name: str, paths) -> list:
    """One path or a list of paths -> a non-empty list of paths."""
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    if not isinstance(paths, (list, tuple)) or not all(isinstance(p, (str, os.PathLike)) for p in paths):
        raise TypeError(f"{name}: expected a path or a list of paths, got {paths!r:.80}")
    if not paths:
        raise ValueError(f"{name}: expected at least one file, got none")
    return list(paths)


def check_regular_file(name: str) -> None:
    """``name`` is a regular file: a folder, a FIFO or a device is refused (it would fail, block or never end)."""
    kind = os.stat(name).st_mode                      # FileNotFoundError for a missing file
    if stat.S_ISDIR(kind):
        raise ValueError(f"{name}: is a folder, expected a text file")
    if not stat.S_ISREG(kind):
        raise ValueError(f"{name}: is not a regular file (a pipe, device or socket); expected a text file")
