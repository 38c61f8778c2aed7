"""Save/load round trips, atomic writes, and clear errors for the wrong architecture."""

import os

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
    with pytest.raises(ValueError, match="is not a seqnn model file"):
        seqnn.io.load(tmp_path / "x.npz")


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


def test_only_models_can_be_saved(tmp_path):
    with pytest.raises(TypeError, match="model: expected one of"):
        seqnn.io.save(seqnn.Linear(2, 3), tmp_path / "x.npz")


def test_float32_model_round_trip(tmp_path):
    model = CharLM(4, 5, dtype=np.float32, rng=0)
    seqnn.io.save(model, tmp_path / "m.npz")
    loaded, _ = seqnn.io.load(tmp_path / "m.npz")
    assert loaded.dtype == np.float32 and loaded.out.W_hy.dtype == np.float32
