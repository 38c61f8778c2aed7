"""The four problem shapes: shapes, what each model reads, and decoding."""

import numpy as np
import pytest

from seqnn.models import CharLM, Seq2Seq, SequenceClassifier, SequenceTagger


def test_classifier_uses_each_sequences_own_last_step(rng):
    model = SequenceClassifier(7, 3, 5, cell="gru", embedding_dim=4, bidirectional=True, rng=0)
    ids = rng.integers(0, 7, (6, 2))
    logits = model.forward(ids, np.array([6, 3]))
    assert logits.shape == (2, 3)
    alone = model.forward(ids[:3, 1:2])
    assert np.allclose(logits[1], alone[0], rtol=0, atol=1e-13), "padding changes nothing"
    assert model.predict(ids).shape == (2,)


def test_tagger_marks_padding(rng):
    model = SequenceTagger(7, 4, 5, bidirectional=True, rng=0)
    ids = rng.integers(0, 7, (5, 3))
    assert model.forward(ids).shape == (5, 3, 4)
    tags = model.predict(ids, np.array([5, 2, 4]))
    assert (tags[2:, 1] == -1).all() and (tags[4:, 2] == -1).all() and (tags[:2] >= 0).all()


def test_seq2seq_teacher_forcing_and_greedy_decoding(rng):
    model = Seq2Seq(6, 7, 8, cell="lstm", embedding_dim=None, bos_id=1, eos_id=2, rng=0)
    tgt = np.array([[4, 5], [6, 2], [2, 2]])
    assert np.array_equal(model.teacher_forcing_inputs(tgt), [[1, 1], [4, 5], [6, 2]])
    src = rng.integers(0, 6, (4, 2))
    out = model.greedy_decode(src, 5)
    assert out.shape == (5, 2) and ((out >= 0) & (out < 7)).all()


def test_greedy_decoding_pads_with_eos_after_the_first_eos(monkeypatch, rng):
    """Scripted logits: sequence 0 says <eos> (2) at step 0 and 4 after it, sequence 1 says 5, then <eos>.
    What comes after a sequence's first <eos> is <eos>, and decoding stops once every sequence has ended."""
    model = Seq2Seq(6, 7, 8, cell="gru", bos_id=1, eos_id=2, rng=0)
    script = iter([[2, 5], [4, 2], [4, 4]])            # the argmax each step would give, per sequence
    steps = []

    def scripted(H, check=True):
        steps.append(H.shape)
        return np.eye(7)[np.array(next(script))][None] * 10.0      # (1, B, V): one-hot logits

    monkeypatch.setattr(model.out, "forward", scripted)
    out = model.greedy_decode(rng.integers(0, 6, (4, 2)), 5)
    assert out[:, 0].tolist() == [2, 2, 2, 2, 2]       # the 4 at step 1 came after <eos>: padded
    assert out[:, 1].tolist() == [5, 2, 2, 2, 2]
    assert len(steps) == 2                             # both ended at step 1: the third logits were never asked for


def test_greedy_decoding_is_the_argmax_of_teacher_forcing_on_its_own_output(rng):
    model = Seq2Seq(6, 7, 8, cell="gru", rng=3)
    src = rng.integers(0, 6, (4, 1))
    out = model.greedy_decode(src, 6)
    logits = model.forward(src, model.teacher_forcing_inputs(out))
    n = int(np.argmax(out[:, 0] == 2)) + 1 if (out[:, 0] == 2).any() else len(out)
    assert np.array_equal(np.argmax(logits[:n, 0], axis=-1), out[:n, 0])


def test_models_say_what_they_are():
    assert "cell='gru'" in repr(Seq2Seq(3, 4, 5))
    assert CharLM(4, 5, cell="lstm", num_layers=2).config["num_layers"] == 2


def test_bad_special_ids():
    with pytest.raises(ValueError, match=r"eos_id: expected an id in \[0, 4\), got 9"):
        Seq2Seq(3, 4, 5, eos_id=9)


@pytest.mark.parametrize("kind", ["rnn", "lstm", "gru"])
def test_count_parameters_from_the_config_matches_the_built_model(kind):
    """io checks a file's size against this count before it reads or allocates anything."""
    from seqnn.models import MODELS
    built = [CharLM(7, 5, kind, rng=0), CharLM(7, 5, kind, num_layers=3, embedding_dim=4, rng=0),
             CharLM(9, 3, kind, num_layers=2, bias=False, rng=0),
             SequenceClassifier(6, 3, 4, kind, bidirectional=True, num_layers=2, rng=0),
             SequenceClassifier(6, 3, 4, kind, embedding_dim=5, rng=0),
             SequenceTagger(8, 2, 3, kind, bidirectional=True, num_layers=3, embedding_dim=2, bias=False, rng=0),
             Seq2Seq(5, 6, 4, kind, num_layers=2, rng=0), Seq2Seq(5, 6, 4, kind, embedding_dim=None, bias=False, rng=0)]
    for model in built:
        assert MODELS[type(model).__name__].count_parameters(model.config) == model.num_parameters(), model
