import numpy as np
import pytest

from seqnn.models import CharLM
from seqnn.sample import generate, next_token_distribution


def test_temperature_and_top_k():
    logits = np.array([2.0, 1.0, 0.0, -1.0])
    p1 = next_token_distribution(logits)
    assert p1.sum() == pytest.approx(1.0)
    cold, hot = next_token_distribution(logits, 0.5), next_token_distribution(logits, 2.0)
    assert cold[0] > p1[0] > hot[0], "low temperature sharpens, high flattens"
    top2 = next_token_distribution(logits, top_k=2)
    assert np.array_equal(top2[2:], [0, 0]) and top2.sum() == pytest.approx(1.0)
    assert top2[0] / top2[1] == pytest.approx(np.e)
    with pytest.raises(ValueError, match="temperature"):
        next_token_distribution(logits, 0.0)
    with pytest.raises(ValueError, match="top_k"):
        next_token_distribution(logits, top_k=9)


def test_generation_is_seeded_and_top1_is_greedy():
    model = CharLM(6, 8, cell="lstm", rng=0)
    prefix = np.array([1, 2])
    a = generate(model, prefix, 20, rng=5)
    b = generate(model, prefix, 20, rng=5)
    assert np.array_equal(a, b) and a.shape == (20,)
    greedy = generate(model, prefix, 20, greedy=True)
    assert np.array_equal(generate(model, prefix, 20, top_k=1, rng=9), greedy)


def test_generation_continues_the_state():
    """Feeding tokens one at a time gives the same logits as one forward over the sequence."""
    model = CharLM(5, 7, rng=1)
    out = generate(model, np.array([0, 3]), 4, greedy=True)
    full = np.concatenate([[0, 3], out])
    logits, _ = model.forward(full[:, None])
    assert np.array_equal(np.argmax(logits[1:-1, 0], axis=-1), out), "each token is the argmax after its prefix"


def test_generate_runs_in_evaluation_mode_and_restores_the_mode():
    """Dropout is off while generating, so the same seed gives the same text, in training mode too."""
    from seqnn.models import CharLM
    from seqnn.sample import generate
    model = CharLM(5, 8, cell="lstm", num_layers=2, dropout=0.5, rng=0)
    assert model.training
    a = generate(model, np.array([1, 2]), 12, rng=3)
    b = generate(model, np.array([1, 2]), 12, rng=3)
    assert np.array_equal(a, b) and model.training
    model.eval()
    assert np.array_equal(generate(model, np.array([1, 2]), 12, rng=3), a) and not model.training


def test_top_k_keeps_exactly_k_tokens_when_logits_tie():
    from seqnn.sample import next_token_distribution
    p = next_token_distribution(np.array([1.0, 3.0, 2.0, 2.0, 2.0]), top_k=2)
    assert np.count_nonzero(p) == 2 and p[1] > 0 and p[2] > 0          # of the tied 2.0s, the lowest id
    assert np.count_nonzero(next_token_distribution(np.zeros(6), top_k=4)) == 4


def test_a_temperature_so_small_that_the_logits_overflow_is_the_argmax():
    for temperature in (1e-300, 1e-30):
        p = next_token_distribution(np.array([1.0, 3.0, 2.0]), temperature)
        assert np.array_equal(p, [0.0, 1.0, 0.0])
    tied = next_token_distribution(np.array([1.0, 3.0, 2.0, 3.0], np.float32), 1e-300)   # 0 in float32
    assert np.array_equal(tied, [0.0, 0.5, 0.0, 0.5]), "the maxima share the mass, as temperature -> 0"
    model = CharLM(6, 8, cell="lstm", rng=0)
    cold = generate(model, np.array([1, 2]), 15, temperature=1e-300, rng=0)
    assert np.array_equal(cold, generate(model, np.array([1, 2]), 15, greedy=True))


def test_stream_yields_each_token_as_it_is_chosen_and_restores_the_mode_when_closed():
    from itertools import islice

    from seqnn.sample import generate_text, stream, stream_text
    from seqnn.data import Vocabulary
    model = CharLM(6, 8, cell="lstm", num_layers=2, dropout=0.5, rng=0)
    tokens = stream(model, np.array([1, 2]), 10**12, rng=4)        # a length that could never be collected
    first = list(islice(tokens, 7))
    assert not model.training, "evaluation mode while it draws"
    tokens.close()
    assert model.training, "the mode comes back when the stream is closed"
    assert first == generate(model, np.array([1, 2]), 7, rng=4).tolist()

    vocab = Vocabulary("abcdef")
    text = generate_text(model, vocab, np.array([1, 2]), 9, temperature=0)
    assert text == vocab.decode(generate(model, np.array([1, 2]), 9, greedy=True))
    assert "".join(stream_text(model, vocab, np.array([0]), 5, rng=1)) == vocab.decode(
        generate(model, np.array([0]), 5, rng=1))
    with pytest.raises(ValueError, match="temperature"):
        stream(model, np.array([1]), 3, temperature=-1.0)            # refused at the call, before any token
