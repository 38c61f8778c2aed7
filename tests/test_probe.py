"""seqnn.probe and seqnn inspect: activations from the engine's own forward, saturation of hand-set gates, a
hand-wired unit found by its feature, gradient reach against finite differences, the page, the command line."""

import html.parser
import re

import numpy as np
import pytest

import seqnn
from seqnn import probe
from seqnn.data import Vocabulary
from seqnn.gradient_check import numerical_gradient
from seqnn.models import CharLM

from conftest import CORPUS_START, TINY, seqnn_fails, seqnn_main

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
    np.testing.assert_array_equal(acts.layers[0]["h"][:, 2], probe.column(TEXT))
    found = {tr.feature: tr for tr in probe.feature_units(acts, TEXT)}
    best = found["characters since the line began"]
    assert (best.layer, best.part, best.unit) == (0, "h", 2) and best.r > 0.99, best
    assert all(abs(tr.r) <= 1 + 1e-12 for tr in found.values())


def test_features_of_a_text_made_by_hand():
    text = 'Say `hi.\' (no) "ok"\nab'
    np.testing.assert_array_equal(probe.column(text), [*range(1, 20), 0, 1, 2])
    assert "".join(c for c, q in zip(text, probe.in_quotation(text)) if q) == "`hi.\"ok"
    assert "".join(c for c, q in zip(text, probe.in_parentheses(text)) if q) == "(no)"
    assert probe.position_in_word(text)[:4].tolist() == [1, 2, 3, 0]
    assert "".join(c for c, q in zip(text, probe.after_sentence(text)) if q) == ".' ("          # up to the next letter
    assert probe.in_quotation("`don't,' she")[:7].tolist() == [1] * 7, "an apostrophe inside a word does not close"


def test_a_feature_constant_over_the_text_has_no_unit():
    vocab = Vocabulary(TEXT)
    acts = probe.activations(CharLM(len(vocab), 4, "gru", rng=0), vocab.encode(TEXT[:80]))
    (tracker,) = probe.feature_units(acts, TEXT[:80], {"never": lambda text: np.zeros(len(text))})
    assert tracker.r == 0.0


def test_input_gradients_are_the_finite_difference_derivatives_of_each_prediction():
    vocab = Vocabulary(TEXT)
    ids = vocab.encode(TEXT[:30])
    for cell in ("lstm", "gru", "rnn"):
        model = CharLM(len(vocab), 4, cell, num_layers=2, rng=1)
        acts = probe.activations(model, ids)
        positions, K = np.array([7, 12, 25]), 5
        dX = probe.input_gradients(model, ids, acts, positions, K)          # (K + 1, P, V)
        for p, t in enumerate(positions):
            start = t - K
            state0 = model.forward(ids[:start, None])[1] if start else None  # the text's own state there
            X0 = np.array(model.embed.forward(ids[start:t + 1, None]))       # (K + 1, 1, V)

            def loss(model=model, X0=X0, state0=state0, target=ids[t + 1]):
                H, _ = model.rnn.forward(X0, state0)
                logits = model.out.forward(H)[-1, 0]
                return -(logits[target] - logits.max() - np.log(np.exp(logits - logits.max()).sum()))
            want = numerical_gradient(loss, X0)[:, 0][::-1]                 # row k: k steps before t
            np.testing.assert_allclose(dX[:, p], want, rtol=1e-6, atol=1e-9, err_msg=f"{cell}, position {t}")


def test_an_lstm_with_a_large_forget_bias_reaches_further_than_a_tanh_rnn_with_small_weights():
    vocab = Vocabulary(TEXT)
    ids = vocab.encode(TEXT)
    rnn = CharLM(len(vocab), 16, "rnn", rng=0)
    rnn.rnn.layers[0].cell.W_hh *= 0.3
    lstm = CharLM(len(vocab), 16, "lstm", rng=0, forget_bias=5.0)
    (rnn_curve, rnn_reach), (lstm_curve, lstm_reach) = (
        probe.gradient_reach(m, ids, probe.activations(m, ids), lags=40) for m in (rnn, lstm))
    assert rnn_reach is not None and rnn_reach < 10, rnn_curve
    assert lstm_reach is None or lstm_reach > 3 * rnn_reach, lstm_curve
    assert lstm_curve[20] / lstm_curve[0] > 1e3 * rnn_curve[20] / rnn_curve[0]


def test_top_predictions_are_the_likeliest_next_characters():
    vocab = Vocabulary(TEXT)
    acts = probe.activations(CharLM(len(vocab), 4, "lstm", rng=0), vocab.encode(TEXT[:10]))
    top = probe.top_predictions(acts, vocab, 5)
    assert len(top) == 10 and all(len(row) == 5 for row in top)
    assert [p for _, p in top[3]] == sorted(acts.probs[3], reverse=True)[:5]


# --- the page and the command line --------------------------------------------------------------------------------
class Balanced(html.parser.HTMLParser):
    """Checks that every element is closed in order; collects the text."""

    VOID = {"meta", "img", "br", "hr", "link"}

    def __init__(self):
        super().__init__()
        self.open, self.text = [], []

    def handle_starttag(self, tag, attrs):
        if tag not in self.VOID:
            self.open.append(tag)

    def handle_startendtag(self, tag, attrs):             # <meta ... />: opened and closed at once
        pass

    def handle_endtag(self, tag):
        assert self.open and self.open.pop() == tag, f"</{tag}> closes nothing open"

    def handle_data(self, data):
        self.text.append(data)


def test_inspect_writes_a_well_formed_page_with_the_text_escaped(tmp_path, capsys):
    path = tmp_path / "odd.txt"
    path.write_text("<script>alert('&amp;')</script> & \"quoted\"\n" * 8)
    assert seqnn_main(capsys, "train", path, *TINY, "--steps", "3", "--out", tmp_path / "run")[0] == 0
    code, out, err = seqnn_main(capsys, "inspect", tmp_path / "run", path, "--out", tmp_path / "page")
    assert code == 0, err
    page = (tmp_path / "page" / "index.html").read_text()
    assert "<script>" not in page and "&lt;" in page and ">&amp;<" in page          # one character a span
    parser = Balanced()
    parser.feed(page)
    parser.close()
    assert parser.open == []
    shown = "".join(parser.text)
    assert "<script>alert('&amp;')</script>" in shown, "the text reads back as it was"
    assert re.search(r"gradient reach, LSTM \(.*\): ", out) and "wrote" in out
    assert {p.name for p in (tmp_path / "page").iterdir()} == {"index.html", "saturation.png", "reach.png"}


def test_inspect_on_the_runs_own_validation_text_and_beside_another_run(text, tmp_path, capsys):
    for cell in ("lstm", "rnn"):
        argv = ["train", text, *TINY, "--steps", "3", "--cell", cell, "--out", tmp_path / cell]
        assert seqnn_main(capsys, *argv)[0] == 0
    code, out, err = seqnn_main(capsys, "inspect", tmp_path / "lstm", "--compare", tmp_path / "rnn", "--lags", "10")
    assert code == 0, err
    assert "gradient reach, LSTM" in out and "gradient reach, RNN" in out
    assert (tmp_path / "lstm" / "inspect" / "index.html").exists()
    assert "the validation split of" in (tmp_path / "lstm" / "inspect" / "index.html").read_text()


def test_inspect_refuses_bad_input_in_one_line(trained, text, tmp_path, capsys):
    other = tmp_path / "other.txt"
    other.write_text("Zoë and \u2603\n" * 3)
    cases = [
        (["inspect", tmp_path / "nowhere"], "no such checkpoint or run folder"),
        (["inspect", trained, other], r"TEXT: 3 character\(s\) the model's vocabulary does not have: 'Z', 'ë', '☃'"),
        (["inspect", trained, "--chars", "20001"], r"--chars: expected a number of characters in \[1, 20,000\]"),
        (["inspect", trained, "--units", "51"], r"--units: expected a number of units in \[1, 50\]"),
    ]
    empty = tmp_path / "empty-run"
    empty.mkdir()
    cases.append((["inspect", empty], "holds no best.npz or last.npz"))
    for argv, message in cases:
        assert re.search(message, seqnn_fails(capsys, *argv)), argv
    assert "argument --chars: expected a positive integer, got 0" in seqnn_fails(capsys, "inspect", trained,
                                                                                   "--chars", "0", code=2)
