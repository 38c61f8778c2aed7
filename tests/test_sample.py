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


# --- nucleus (top-p) sampling, on distributions made by hand -----------------------------------------------------
def dist(probs, **kwargs):
    return next_token_distribution(np.log(np.array(probs, dtype=np.float64)), **kwargs)


@pytest.mark.parametrize("probs, p, kept", [
    ([0.1, 0.6, 0.3], 0.5, [1]),               # the most likely alone reaches 0.5
    ([0.1, 0.6, 0.3], 0.6, [1]),               # exactly reached: no more
    ([0.1, 0.6, 0.3], 0.61, [1, 2]),
    ([0.1, 0.6, 0.3], 0.9, [1, 2]),            # 0.6 + 0.3 in floating point is 0.8999999999999999: still reached
    ([0.1, 0.6, 0.3], 0.95, [0, 1, 2]),
    ([0.1, 0.6, 0.3], 1.0, [0, 1, 2]),         # p = 1: all, untouched
    ([0.1, 0.6, 0.3], 1e-9, [1]),              # at least the most likely
    ([0.25, 0.25, 0.25, 0.25], 0.5, [0, 1]),   # ties: the lower ids first, the fewest that reach p
    ([0.25, 0.25, 0.25, 0.25], 0.51, [0, 1, 2]),
    ([0.2, 0.4, 0.4], 0.3, [1]),               # a tie at the top: the lower id
])
def test_top_p_keeps_the_fewest_most_likely_tokens_that_reach_p(probs, p, kept):
    got = dist(probs, top_p=p)
    assert np.flatnonzero(got).tolist() == kept
    assert got.sum() == pytest.approx(1.0)
    want = np.array(probs)[kept] / np.sum(np.array(probs)[kept])
    np.testing.assert_allclose(got[kept], want, rtol=1e-12)     # the kept ones, renormalised
    if p == 1.0:
        np.testing.assert_allclose(got, probs, rtol=1e-12)


def test_top_p_applies_after_temperature_and_top_k():
    probs = [0.1, 0.2, 0.3, 0.4]
    # top-k 2 leaves 0.3 and 0.4, renormalised to 3/7 and 4/7 > 0.5: top-p 0.5 then keeps only the 0.4
    assert np.flatnonzero(dist(probs, top_k=2, top_p=0.5)).tolist() == [3]
    # without top-k, 0.4 < 0.5: the 0.3 is needed too
    assert np.flatnonzero(dist(probs, top_p=0.5)).tolist() == [2, 3]
    # a high temperature flattens: 0.4 -> about 0.27 at temperature 5, so 0.5 needs two of them
    assert np.count_nonzero(dist(probs, temperature=5.0, top_p=0.5)) == 2
    # a low temperature sharpens: at 0.1 the 0.4 holds 94 % of the mass
    assert np.flatnonzero(dist(probs, temperature=0.1, top_p=0.9)).tolist() == [3]


@pytest.mark.parametrize("bad", [0, 0.0, -0.5, 1.5, np.nan, True, "0.9"])
def test_top_p_refuses_what_is_not_a_probability_in_the_half_open_unit_interval(bad):
    with pytest.raises(ValueError, match=r"top_p: expected a probability in \(0, 1\]"):
        dist([0.5, 0.5], top_p=bad)
    with pytest.raises(ValueError, match="top_p"):
        generate(CharLM(4, 3, rng=0), np.array([1]), 2, top_p=bad)


def test_sampling_with_top_p_draws_only_from_the_nucleus():
    model = CharLM(6, 8, cell="lstm", rng=0)
    prefix = np.array([1, 2])
    assert np.array_equal(generate(model, prefix, 20, top_p=1e-9, rng=3), generate(model, prefix, 20, greedy=True))
    assert np.array_equal(generate(model, prefix, 30, top_p=1.0, rng=3), generate(model, prefix, 30, rng=3))
