"""Save/load round trips, atomic writes, and clear errors for the wrong architecture."""

import json
import os
import re

import numpy as np
import pytest

import seqnn
from seqnn.data import Vocabulary
from seqnn.models import CharLM, Seq2Seq, SequenceClassifier, SequenceTagger

MODELS = {
    "charlm": lambda: CharLM(5, 6, cell="lstm", num_layers=2, forget_bias=1.0, rng=0),
    "classifier": lambda: SequenceClassifier(5, 3, 4, cell="gru", embedding_dim=3, bidirectional=True, rng=0),
    "tagger": lambda: SequenceTagger(5, 2, 4, cell="rnn", nonlinearity="relu", rng=0),
    "seq2seq": lambda: Seq2Seq(5, 6, 4, cell="lstm", rng=0),
}


def outputs(model, rng):
    ids = rng.integers(0, 5, (4, 2))
    if isinstance(model, CharLM):
        return model.forward(ids)[0]
    if isinstance(model, Seq2Seq):
        return model.forward(ids, rng.integers(0, 6, (3, 2)))
    return model.forward(ids)


@pytest.mark.parametrize("kind", MODELS)
def test_round_trip_gives_the_same_model(kind, tmp_path):
    model = MODELS[kind]()
    for p in model.parameters():                       # not the initial values: "trained" weights
        p.value += 0.01 * np.arange(p.value.size).reshape(p.value.shape) % 0.3
    vocab = Vocabulary("abcde")
    path = tmp_path / "model.npz"
    seqnn.io.save(model, path, vocab)
    loaded, vocab2 = seqnn.io.load(path)
    assert type(loaded) is type(model) and loaded.config == model.config
    assert vocab2 == vocab
    for (n, p), (m, q) in zip(model.named_parameters(), loaded.named_parameters()):
        assert n == m and np.array_equal(p.value, q.value)
    assert np.array_equal(outputs(model, np.random.default_rng(0)), outputs(loaded, np.random.default_rng(0)))


def test_load_into_an_existing_model(tmp_path):
    model = MODELS["classifier"]()
    seqnn.io.save(model, tmp_path / "m.npz")
    other = SequenceClassifier(5, 3, 4, cell="gru", embedding_dim=3, bidirectional=True, rng=99)
    loaded, vocab = seqnn.io.load(tmp_path / "m.npz", into=other)
    assert loaded is other and vocab is None
    assert np.array_equal(other.out.W_hy, model.out.W_hy)


def test_different_architecture_is_a_clear_error(tmp_path):
    seqnn.io.save(MODELS["classifier"](), tmp_path / "m.npz")
    wrong = SequenceClassifier(5, 3, 8, cell="lstm", embedding_dim=3, bidirectional=True, rng=0)
    with pytest.raises(ValueError, match=r"different architecture \(cell: file 'gru' vs model 'lstm', "
                                         r"hidden_size: file 4 vs model 8\)"):
        seqnn.io.load(tmp_path / "m.npz", into=wrong)
    with pytest.raises(ValueError, match="the file holds a SequenceClassifier, got a CharLM"):
        seqnn.io.load(tmp_path / "m.npz", into=MODELS["charlm"]())


def test_not_a_seqnn_file(tmp_path):
    np.savez(tmp_path / "x.npz", a=np.zeros(3))
    with pytest.raises(ValueError, match=r"x.npz is not a valid seqnn model file \(it has no 'seqnn-1' format mark\)"):
        seqnn.io.load(tmp_path / "x.npz")


def _damage(kind, good: bytes, path):
    if kind == "empty":
        path.write_bytes(b"")
    elif kind == "truncated":
        path.write_bytes(good[:len(good) // 2])
    elif kind == "bit-flipped":
        data = bytearray(good)
        data[len(data) // 3] ^= 0x10
        path.write_bytes(bytes(data))
    elif kind == "text":
        path.write_text("hello, I am not a model\n")
    elif kind == "npy":
        with open(path, "wb") as f:
            np.save(f, np.zeros(3))
    elif kind == "tampered-config":
        with np.load(io_bytes(good)) as data:
            arrays = {k: data[k] for k in data.files}
        arrays["__config__"] = np.array('{"vocab_size": -3, "hidden_size": 4}')
        with open(path, "wb") as f:
            np.savez(f, **arrays)
    elif kind == "unknown-key":
        with np.load(io_bytes(good)) as data:
            arrays = {k: data[k] for k in data.files}
        arrays["rnn.layers.9.cell.W_xh"] = np.zeros(3)
        with open(path, "wb") as f:
            np.savez(f, **arrays)


def io_bytes(b):
    import io
    return io.BytesIO(b)


@pytest.mark.parametrize("kind", ["empty", "truncated", "bit-flipped", "text", "npy", "tampered-config",
                                  "unknown-key"])
def test_damaged_or_foreign_file_is_one_clear_error(kind, tmp_path):
    good = tmp_path / "good.npz"
    seqnn.io.save(MODELS["charlm"](), good, Vocabulary("abcde"), training={"x": np.arange(5.0)})
    bad = tmp_path / "bad.npz"
    _damage(kind, good.read_bytes(), bad)
    why = r"bad.npz (is not a valid seqnn model file|does not match its own config)"
    with pytest.raises(ValueError, match=why) as info:
        seqnn.io.load(bad)
    assert "allow_pickle" not in str(info.value)


def test_missing_file_and_missing_folder_name_the_path(tmp_path):
    with pytest.raises(FileNotFoundError, match="no such file: .*nothing.npz"):
        seqnn.io.load(tmp_path / "nothing.npz")
    with pytest.raises(FileNotFoundError, match="the folder of .*nowhere/m.npz does not exist"):
        seqnn.io.save(MODELS["tagger"](), tmp_path / "nowhere" / "m.npz")


def test_checkpoint_round_trip_keeps_the_training_state_exactly(tmp_path):
    model = MODELS["charlm"]()
    training = {"steps": 7, "lr": 0.1 + 0.2, "rng": {"state": 2 ** 100 + 3, "inc": 5}, "nothing": None,
                "carried": [np.full((2, 3), 1 / 3, np.float32), np.arange(4.0)],
                "slots": {"m.0": np.ones((2, 2)), "v.0": np.zeros(3, np.float32)}, "flag": True}
    seqnn.io.save(model, tmp_path / "c.npz", Vocabulary("abcde"), training=training)
    loaded, vocab, back = seqnn.io.load_checkpoint(tmp_path / "c.npz")
    assert vocab == Vocabulary("abcde")
    assert back["steps"] == 7 and back["lr"] == 0.1 + 0.2 and back["rng"]["state"] == 2 ** 100 + 3
    assert back["nothing"] is None and back["flag"] is True
    for a, b in zip(training["carried"], back["carried"]):
        assert a.dtype == b.dtype and np.array_equal(a, b)
    assert back["slots"]["v.0"].dtype == np.float32 and np.array_equal(back["slots"]["m.0"], np.ones((2, 2)))
    assert seqnn.io.load(tmp_path / "c.npz")[0].config == model.config, "a checkpoint is also a model file"
    assert seqnn.io.load_checkpoint(tmp_path / "c.npz")[2] is not None
    seqnn.io.save(model, tmp_path / "m.npz")
    assert seqnn.io.load_checkpoint(tmp_path / "m.npz")[2] is None


def test_refuses_to_save_a_diverged_model_or_a_wrong_vocabulary(tmp_path):
    model = MODELS["charlm"]()
    with pytest.raises(ValueError, match=r"vocab: expected 5 tokens \(the model's vocab_size\), got 3"):
        seqnn.io.save(model, tmp_path / "m.npz", Vocabulary("abc"))
    model.out.params["W_hy"].value[0, 0] = np.nan
    with pytest.raises(ValueError, match="parameter out.W_hy is not finite"):
        seqnn.io.save(model, tmp_path / "m.npz")
    assert not os.listdir(tmp_path)


def test_saved_file_has_ordinary_permissions(tmp_path):
    old = os.umask(0o022)
    try:
        seqnn.io.save(MODELS["tagger"](), tmp_path / "m.npz")
    finally:
        os.umask(old)
    assert (tmp_path / "m.npz").stat().st_mode & 0o777 == 0o644


def test_write_is_atomic(tmp_path, monkeypatch):
    """A crash in the middle of saving leaves the old file intact and no temporary file."""
    path = tmp_path / "model.npz"
    old = MODELS["tagger"]()
    seqnn.io.save(old, path)
    before = path.read_bytes()

    def crash(f, **arrays):
        f.write(b"half a file")
        raise OSError("disk full")

    monkeypatch.setattr(np, "savez", crash)
    with pytest.raises(OSError, match="disk full"):
        seqnn.io.save(MODELS["tagger"](), path)
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["model.npz"]


def test_a_save_killed_hard_leaves_one_temporary_file_that_the_next_save_reuses(tmp_path, monkeypatch):
    """A hard kill cannot run cleanup: simulate it by letting the write escape the cleanup's notice."""
    path = tmp_path / "model.npz"
    stale = tmp_path / ".model.npz.seqnn-tmp"
    stale.write_bytes(b"what a killed save left behind")          # as after SIGKILL mid-write
    seqnn.io.save(MODELS["tagger"](), path)
    assert sorted(os.listdir(tmp_path)) == ["model.npz"]          # reused, then renamed: nothing stale
    seqnn.io.load(path)


def test_a_folder_that_refuses_writing_is_reported_by_the_target_path(tmp_path, monkeypatch):
    """Root ignores a folder's permissions, so the refusal is simulated where the temporary file is opened."""
    real_open = os.open

    def refuse(name, *args):
        if str(name).endswith(".seqnn-tmp"):
            raise PermissionError(13, "Permission denied", name)
        return real_open(name, *args)

    monkeypatch.setattr(os, "open", refuse)
    target = tmp_path / "model.npz"
    message = f"path: cannot write {target} in its folder (Permission denied)"
    with pytest.raises(PermissionError, match=re.escape(message)):
        seqnn.io.save(MODELS["tagger"](), target)


def test_only_models_can_be_saved(tmp_path):
    with pytest.raises(TypeError, match="model: expected one of"):
        seqnn.io.save(seqnn.Linear(2, 3), tmp_path / "x.npz")


def test_float32_model_round_trip(tmp_path):
    model = CharLM(4, 5, dtype=np.float32, rng=0)
    seqnn.io.save(model, tmp_path / "m.npz")
    loaded, _ = seqnn.io.load(tmp_path / "m.npz")
    assert loaded.dtype == np.float32 and loaded.out.W_hy.dtype == np.float32


# --- sizes are checked against the config before anything is decompressed or allocated --------------------------
def _archive(path, arrays: dict, declared: dict = ()):
    """An .npz of ``arrays``, plus entries that hold only a .npy header declaring a shape (key -> shape,
    float32): a file that asks for memory without holding the data."""
    import io
    import zipfile
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for key, value in arrays.items():
            buffer = io.BytesIO()
            np.save(buffer, value)
            archive.writestr(key + ".npy", buffer.getvalue())
        for key, shape in dict(declared).items():
            buffer = io.BytesIO()
            np.lib.format.write_array_header_1_0(buffer, {"descr": "<f4", "fortran_order": False, "shape": shape})
            archive.writestr(key + ".npy", buffer.getvalue() + bytes(64))


def _entries(path) -> dict:
    with np.load(path) as data:
        return {k: data[k] for k in data.files}


def _refusal_and_peak_memory(path):
    """The error that loading ``path`` raises, and the most memory Python allocated meanwhile."""
    import tracemalloc
    tracemalloc.start()
    with pytest.raises(ValueError) as info:
        seqnn.io.load(path)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return str(info.value), peak


def test_a_config_asking_for_an_absurd_model_is_refused_before_anything_is_built(tmp_path):
    model = CharLM(5, 6, cell="lstm", dtype=np.float32, rng=0)
    seqnn.io.save(model, tmp_path / "good.npz", Vocabulary("abcde"))
    entries = _entries(tmp_path / "good.npz")
    config = dict(model.config, hidden_size=100_000)             # 40 billion parameters, 160 GB of float32
    entries["__config__"] = np.array(json.dumps(config))
    _archive(tmp_path / "crafted.npz", entries)
    error, peak = _refusal_and_peak_memory(tmp_path / "crafted.npz")
    expected = (r"crafted.npz is not a valid seqnn model file \(its config describes a CharLM of "
                rf"40,\d{{3}},\d{{3}},\d{{3}} parameters, its entries hold {model.num_parameters()}\)")
    assert re.search(expected, error), error
    assert peak < 16 * 2 ** 20

    # entries that declare those sizes too (headers only, no data): the machine's memory is the bound
    shapes = {k: v.shape for k, v in model.state_dict().items()}
    shapes["out.b_y"] = (CharLM.count_parameters(config) - model.num_parameters() + 5,)
    _archive(tmp_path / "crafted.npz", {k: v for k, v in entries.items() if k.startswith("__")}, shapes)
    error, peak = _refusal_and_peak_memory(tmp_path / "crafted.npz")
    assert re.search(r"reading it and building its CharLM needs about [\d.]+ GiB, more than the [\d.]+ \w+ this "
                     r"machine has available", error), error
    assert peak < 16 * 2 ** 20


def test_an_entry_that_declares_more_than_its_config_allows_is_never_decompressed(tmp_path):
    model = CharLM(5, 6, cell="lstm", rng=0)
    seqnn.io.save(model, tmp_path / "good.npz", Vocabulary("abcde"), training={"x": np.arange(5.0)})
    entries = _entries(tmp_path / "good.npz")
    for key, shape, message in [
            ("__training__/x", (375_000_000,), r"training entry __training__/x declares shape \(375000000,\), "
                                               r"larger than the model it belongs to"),
            ("out.b_y", (375_000_000,), rf"its config describes a CharLM of {model.num_parameters()} parameters, "
                                        r"its entries hold 375,000,3\d\d"),
            ("__config__", (400_000_000,), r"entry __config__ declares 1.49 GiB, more than a seqnn file holds")]:
        _archive(tmp_path / "bomb.npz", {k: v for k, v in entries.items() if k != key}, {key: shape})
        error, peak = _refusal_and_peak_memory(tmp_path / "bomb.npz")    # 1.5 GB if it were decompressed
        assert re.search(message, error), error
        assert peak < 16 * 2 ** 20, key


def test_a_parameter_in_another_dtype_than_the_config_says_is_refused(tmp_path):
    model = CharLM(5, 6, rng=0)
    seqnn.io.save(model, tmp_path / "good.npz")
    entries = _entries(tmp_path / "good.npz")
    entries["out.b_y"] = entries["out.b_y"].astype(np.float32)
    _archive(tmp_path / "mixed.npz", entries)
    with pytest.raises(ValueError, match="parameter out.b_y is float32, the config says float64"):
        seqnn.io.load(tmp_path / "mixed.npz")
