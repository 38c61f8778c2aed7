"""seqnn.probe and seqnn inspect: activations from the engine's own forward, saturation of hand-set gates, a
hand-wired unit found by its feature, gradient reach against finite differences, the page, the command line."""

import re

import numpy as np
import pytest

import seqnn
from seqnn import features, ngram, probe
from seqnn.data import Vocabulary
from seqnn.gradient_check import numerical_gradient
from seqnn.models import CharLM

from conftest import CORPUS_START

TEXT = CORPUS_START[:600]


@pytest.mark.parametrize("cell", ["rnn", "gru", "lstm"])
def test_activations_are_the_models_own_forward(cell):
    vocab = Vocabulary(TEXT)
    model = CharLM(len(vocab), 6, cell, num_layers=2, rng=0)
    ids = vocab.encode(TEXT[:50])
    acts = probe.activations(model, ids)
    logits, state = model.forward(ids[:, None])
    np.testing.assert_allclose(acts.probs, seqnn.functional.softmax(logits[:, 0]), rtol=1e-12, atol=1e-15)
    h = state[0] if isinstance(state, tuple) else state
    for l, layer in enumerate(acts.layers):
        assert set(layer) == {"h"} | {"rnn": set(), "gru": {"r", "z", "n"}, "lstm": {"c", "i", "f", "g", "o"}}[cell]
        np.testing.assert_allclose(layer["h"][-1], h[l, 0], rtol=1e-12)         # the final state, layer by layer
        assert all(v.shape == (50, 6) for v in layer.values())


@pytest.mark.parametrize("cell, gates", [("lstm", ("b_i", "b_f", "b_o")), ("gru", ("b_r", "b_z"))])
@pytest.mark.parametrize("bias, closed, opened", [(30.0, 0.0, 1.0), (-30.0, 1.0, 0.0)])
def test_gates_forced_open_are_right_saturated_and_forced_shut_left(cell, gates, bias, closed, opened):
    vocab = Vocabulary(TEXT)
    model = CharLM(len(vocab), 5, cell, rng=0)
    c = model.rnn.layers[0].cell
    c.W_xh = np.zeros_like(c.W_xh)                       # no input or recurrent term: each gate is sigmoid(bias)
    c.W_hh = np.zeros_like(c.W_hh)
    for name in gates:
        setattr(c, name, np.full(5, bias))
    sat = probe.saturation(probe.activations(model, vocab.encode(TEXT[:40])))
    assert sorted(sat) == sorted((0, g[2:]) for g in gates)
    for left, right in sat.values():
        np.testing.assert_array_equal(left, closed)
        np.testing.assert_array_equal(right, opened)


def test_a_vanilla_rnn_has_no_gates_to_saturate():
    model = CharLM(4, 3, "rnn", rng=0)
    assert probe.saturation(probe.activations(model, np.array([0, 1, 2, 3]))) == {}


def counting_model(vocab, H=6):
    """A ReLU RNN whose unit 2 counts the characters since the last newline: h = relu(h_prev + 1), reset to 0 by a
    newline through a large negative input weight; the other units are random."""
    model = CharLM(len(vocab), H, "rnn", nonlinearity="relu", rng=3)
    cell = model.rnn.layers[0].cell
    cell.W_hh[2] = 0.0
    cell.W_hh[:, 2] = 0.0
    cell.W_hh[2, 2] = 1.0
    cell.W_xh[2] = 0.0
    cell.W_xh[2, vocab.index["\n"]] = -1e4
    cell.b_h[2] = 1.0
    return model


def test_a_hand_wired_unit_that_counts_since_the_newline_is_found():
    vocab = Vocabulary(TEXT)
    model = counting_model(vocab)
    acts = probe.activations(model, vocab.encode(TEXT))
    np.testing.assert_array_equal(acts.layers[0]["h"][:, 2], features.column(TEXT))
    found = {tr.feature: tr for tr in probe.feature_units(acts, TEXT)}
    best = found["characters since the line began"]
    assert (best.layer, best.part, best.unit) == (0, "h", 2) and best.r > 0.99, best
    assert all(abs(tr.r) <= 1 + 1e-12 for tr in found.values())


def test_features_of_prose_made_by_hand():
    text = 'Say `hi.\' (no) "ok"\nab'
    np.testing.assert_array_equal(features.column(text), [*range(1, 20), 0, 1, 2])
    assert "".join(c for c, q in zip(text, features.in_quotation(text)) if q) == "`hi.'\"ok\""
    assert "".join(c for c, q in zip(text, features.bracket_depth(text)) if q) == "(no)"
    assert features.position_in_word(text)[:4].tolist() == [1, 2, 3, 0]
    assert "".join(c for c, q in zip(text, features.after_sentence(text)) if q) == ".' ("      # up to the next letter
    assert features.in_quotation("`don't,' she")[:8].tolist() == [1] * 8, "an apostrophe inside a word does not close"
    assert features.in_quotation("don't and won't").sum() == 0, "nor does it open"
    curly = "\u201cHi,\u201d she said"
    assert "".join(c for c, q in zip(curly, features.in_quotation(curly)) if q) == "\u201cHi,\u201d"


def test_features_of_code_made_by_hand():
    code = "def f(x):\n    s = f'{x}' + \"a\"\n    if d['k'] [1]:\n\treturn (s, [x])\n"
    quoted = "".join(c for c, q in zip(code, features.in_quotation(code)) if q)
    assert quoted == "'{x}'\"a\"'k'", "both kinds of quote, and a string prefix"
    depth = features.bracket_depth(code)
    assert depth[code.index("(x")] == 1 and depth[code.index("'k'")] == 1 and depth[code.index("1]")] == 1
    assert depth[code.index("[x]") + 1] == 2 and depth[code.index("])") + 1] == 1 and depth[-1] == 0
    assert max(depth) == 2, "( [ { all count, and close"
    indent = features.indentation(code)
    lines = code.split("\n")
    assert [indent[code.index(line)] for line in lines[:4]] == [0, 4, 4, 4], "a tab counts 4"
    assert features.indentation("  a\n b")[2] == 2 and features.indentation("  a\n b")[3] == 2, "the newline too"
    digits = features.regex_feature(r"[0-9]+")("ab12 3")
    assert digits.tolist() == [0, 0, 1, 1, 0, 1]
    with pytest.raises(re.error):
        features.regex_feature("(")


def test_a_feature_constant_over_the_text_has_no_unit():
    vocab = Vocabulary(TEXT)
    acts = probe.activations(CharLM(len(vocab), 4, "gru", rng=0), vocab.encode(TEXT[:80]))
    (tracker,) = probe.feature_units(acts, TEXT[:80], {"never": lambda text: np.zeros(len(text))})
    assert tracker.r == 0.0


@pytest.mark.parametrize("of", ["loss", "logit"])
def test_input_gradients_are_the_finite_difference_derivatives_of_each_prediction(of):
    vocab = Vocabulary(TEXT)
    ids = vocab.encode(TEXT[:30])
    for cell in ("lstm", "gru", "rnn"):
        model = CharLM(len(vocab), 4, cell, num_layers=2, rng=1)
        acts = probe.activations(model, ids)
        positions, K = np.array([2, 7, 12, 25]), 5                             # 2: the window starts at the text
        dX = probe.input_gradients(model, ids, acts, positions, K, of)       # (K + 1, P, V)
        for p, t in enumerate(positions):
            start = max(0, t - K)
            state0 = model.forward(ids[:start, None])[1] if start else None  # the text's own state there
            X0 = np.array(model.embed.forward(ids[start:t + 1, None]))       # (t - start + 1, 1, V)

            def objective(model=model, X0=X0, state0=state0, target=ids[t + 1]):
                H, _ = model.rnn.forward(X0, state0)
                logits = model.out.forward(H)[-1, 0]
                log_p = logits[target] - logits.max() - np.log(np.exp(logits - logits.max()).sum())
                return -log_p if of == "loss" else logits[target]
            want = numerical_gradient(objective, X0)[:, 0][::-1]             # row k: k steps before t
            np.testing.assert_allclose(dX[:len(want), p], want, rtol=1e-6, atol=1e-9, err_msg=f"{cell}, {t}")
            assert not dX[len(want):, p].any(), "before the text: 0"
    with pytest.raises(ValueError, match="positions"):
        probe.input_gradients(model, ids, acts, [29], K, of)                 # the last token has no next one
    with pytest.raises(ValueError, match="acts: expected the activations of these 20 tokens"):
        probe.input_gradients(model, ids[:20], acts, [5], K, of)


def test_connectivity_is_the_norm_of_each_input_gradient_in_any_chunks(monkeypatch):
    vocab = Vocabulary(TEXT)
    ids = vocab.encode(TEXT[:40])
    model = CharLM(len(vocab), 5, "gru", num_layers=2, rng=2, embedding_dim=3)
    acts = probe.activations(model, ids)
    conn = probe.connectivity(model, ids, acts, lags=6)
    assert conn.shape == (39, 7)
    assert np.isnan(conn[2, 3:]).all() and not np.isnan(conn[2, :3]).any() and not np.isnan(conn[6:]).any()
    dX = probe.input_gradients(model, ids, acts, np.arange(39), 6)
    np.testing.assert_allclose(np.nan_to_num(conn), np.linalg.norm(dX, axis=-1).T, rtol=1e-12)
    monkeypatch.setattr(probe, "CHUNK_BYTES", 1)                              # one position a chunk
    np.testing.assert_allclose(probe.connectivity(model, ids, acts, lags=6), conn, rtol=1e-12)
    logit = probe.connectivity(model, ids, acts, lags=6, of="logit", positions=[10, 20])
    assert logit.shape == (2, 7) and not np.allclose(logit, conn[[10, 20]])
    for bad, message in [(dict(of="prob"), "of: expected one of loss, logit"),
                         (dict(lags=40), "ids: expected at least lags \\+ 2 = 42 tokens"),
                         (dict(positions=[39]), "positions")]:
        with pytest.raises(ValueError, match=message):
            probe.connectivity(model, ids, acts, **{"lags": 6, **bad})


def test_reach_is_the_spread_over_positions_relative_to_lag_0():
    conn = np.array([[2.0, 1.0, 0.5], [4.0, 1.0, 0.4], [1.0, 0.5, 0.5], [3.0, np.nan, np.nan]])
    r = probe.reach(conn)
    assert r.positions == 3, "the position whose window leaves the text is left out"
    np.testing.assert_allclose(r.median, [1.0, 0.5, 0.25])
    np.testing.assert_allclose(r.q25, [1.0, 0.375, 0.175])
    np.testing.assert_allclose(r.q75, [1.0, 0.5, 0.375])
    assert r.at(2) == (0.175, 0.25, 0.375)
    with pytest.raises(ValueError, match="no position"):
        probe.reach(conn[3:])


def test_an_lstm_with_a_large_forget_bias_reaches_further_than_a_tanh_rnn_with_small_weights():
    vocab = Vocabulary(TEXT)
    ids = vocab.encode(TEXT[:300])
    rnn = CharLM(len(vocab), 16, "rnn", rng=0)
    rnn.rnn.layers[0].cell.W_hh *= 0.3
    lstm = CharLM(len(vocab), 16, "lstm", rng=0, forget_bias=5.0)
    r_rnn, r_lstm = (probe.reach(probe.connectivity(m, ids, probe.activations(m, ids), lags=30)) for m in (rnn, lstm))
    assert r_rnn.median[10] < 1e-2 < r_lstm.median[10]
    assert r_lstm.q25[20] > 1e3 * r_rnn.q75[20], "the whole spread, not just the middle"


def test_top_predictions_are_the_likeliest_next_characters():
    vocab = Vocabulary(TEXT)
    acts = probe.activations(CharLM(len(vocab), 4, "lstm", rng=0), vocab.encode(TEXT[:10]))
    top = probe.top_predictions(acts, vocab, 5)
    assert len(top) == 10 and all(len(row) == 5 for row in top)
    assert [p for _, p in top[3]] == sorted(acts.probs[3], reverse=True)[:5]


# --- claims beside controls -------------------------------------------------------------------------------------
def test_a_hand_wired_counting_unit_is_a_detector_beside_an_untrained_control():
    text = (CORPUS_START * 2)[:1200]
    vocab = Vocabulary(text)
    model, control = counting_model(vocab), CharLM(len(vocab), 6, "rnn", nonlinearity="relu", rng=3)
    ids = vocab.encode(text)
    column = {"characters since the line began": features.column}
    (claim,) = probe.unit_claims(probe.activations(model, ids), probe.activations(control, ids), text, column)
    assert (claim.layer, claim.part, claim.unit) == (0, "h", 2) and claim.r > 0.99
    assert claim.detector and claim.measurable and claim.threshold == max(abs(claim.control_r), claim.shuffled_r)
    assert claim.shuffled_r < 0.5, "the feature shuffled in blocks no longer lines up with the counting unit"


def test_a_network_is_never_a_detector_beside_itself_and_a_constant_feature_is_not_measurable():
    vocab = Vocabulary(TEXT)
    ids = vocab.encode(TEXT)
    acts = probe.activations(CharLM(len(vocab), 8, "lstm", rng=4), ids)
    claims = probe.unit_claims(acts, acts, TEXT, {**features.FEATURES, "never": lambda text: np.zeros(len(text))})
    assert [c.feature for c in claims] == [*features.FEATURES, "never"]
    assert not any(c.detector for c in claims), "the control equals it: nothing training found"
    assert all(c.r == c.control_r for c in claims)
    assert not claims[-1].measurable and claims[-1].r == 0.0
    with pytest.raises(ValueError, match="text: expected the 600 characters"):
        probe.unit_claims(acts, acts, TEXT[:-1])


def test_block_shuffling_keeps_the_blocks_and_their_values():
    F = np.arange(10.0)[:, None]
    shuffled = probe._block_shuffled(F, 3, np.random.default_rng(0))
    assert sorted(shuffled[:, 0]) == list(range(10))
    blocks = [tuple(shuffled[i:i + 3, 0]) for i in range(len(shuffled)) if shuffled[i, 0] % 3 == 0]
    assert set(blocks) == {(0, 1, 2), (3, 4, 5), (6, 7, 8), (9,)} | {b for b in blocks if b[0] == 9}


# --- the n-gram baseline ----------------------------------------------------------------------------------------
def brute_force_witten_bell(train, ids, V, n, t):
    """P_n(ids[t + 1] | ids[.. t]) by counting, straight from the formula in seqnn.ngram's docstring."""
    history, w = list(ids[:t + 1]), ids[t + 1]
    if n == 1:
        return (np.sum(train == w) + 1) / (len(train) + V)
    if len(history) < n - 1:
        return brute_force_witten_bell(train, ids, V, n - 1, t)
    h = tuple(history[-(n - 1):])
    grams = [tuple(train[i:i + n]) for i in range(len(train) - n + 1)]
    followers = [g[-1] for g in grams if g[:-1] == h]
    lower = brute_force_witten_bell(train, ids, V, n - 1, t)
    if not followers:
        return lower
    return (followers.count(w) + len(set(followers)) * lower) / (len(followers) + len(set(followers)))


def test_ngram_losses_are_witten_bell_by_the_formula():
    rng = np.random.default_rng(0)
    V = 4
    train, ids = rng.integers(0, V, 300), rng.integers(0, V, 40)
    train[:60] = np.tile([0, 1, 2], 20)                  # some contexts seen often, some never
    bits = ngram.ngram_losses(train, ids, V, orders=4)
    assert bits.shape == (4, 39)
    want = [[-np.log2(brute_force_witten_bell(train, ids, V, n, t)) for t in range(39)] for n in range(1, 5)]
    np.testing.assert_allclose(bits, want, rtol=1e-12)


@pytest.mark.parametrize("n", [1, 2, 3, 5])
def test_each_ngram_model_is_a_distribution_over_the_next_token(n):
    rng = np.random.default_rng(1)
    V = 5
    train = rng.integers(0, V - 1, 500)                  # the last token never occurs: add-one gives it some
    for context in ([0, 1, 2, 3], [3, 3, 3, 3], [4, 4, 4, 4]):
        p = [2.0 ** -ngram.ngram_losses(train, np.array([*context, w]), V, orders=n)[-1, -1] for w in range(V)]
        assert abs(sum(p) - 1) < 1e-12 and min(p) > 0, (context, p)


def test_kinds_of_character_and_the_table_by_kind():
    text = "Hi, don't (x) \"a\" 12\n"
    kinds = ngram.kind_of(text)
    assert kinds[:3] == ["a word's first letter", "inside a word", "punctuation"]
    assert kinds[text.index("'")] == "inside a word" and kinds[text.index("(")] == "bracket"
    assert kinds[text.index('"')] == "quote mark" and kinds[-1] == "newline" and kinds[-2] == "digit"
    model_bits = np.arange(len(text), dtype=float)
    ngram_bits = np.stack([model_bits + 1, model_bits - 0.5, model_bits + 2])   # the 2-gram is the best model
    rows = ngram.by_kind(model_bits, ngram_bits, kinds)
    assert rows[-1][0] == "all" and rows[-1][1] == len(text) == sum(r[1] for r in rows[:-1])
    assert all(better == 0.0 for *_, better in rows), "the 2-gram is better everywhere"
    first = rows[0]
    assert first[0] == "a word's first letter" and first[1] == 4
    np.testing.assert_allclose(first[3], ngram_bits[:, [0, 4, 11, 15]].mean(axis=1))


def test_ngram_losses_refuse_bad_input():
    with pytest.raises(ValueError, match="ids: expected at least 2 tokens"):
        ngram.ngram_losses(np.array([0, 1]), np.array([0]), 2)
    with pytest.raises(ValueError, match="orders: 9-grams of a 200-token vocabulary do not fit"):
        ngram.ngram_losses(np.array([0, 1]), np.array([0, 1]), 200, orders=9)
    with pytest.raises(ValueError, match="train_ids"):
        ngram.ngram_losses(np.array([0, 5]), np.array([0, 1]), 2)
