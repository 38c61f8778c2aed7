"""Every example runs and reaches its stated target (shortened where that still holds)."""

import io
import re
import subprocess
import sys
from contextlib import redirect_stdout
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
sys.path.insert(0, str(EXAMPLES))
import generate_names  # noqa: E402
import name_tagger  # noqa: E402
import remember  # noqa: E402
import reverse_seq2seq  # noqa: E402
import sentiment  # noqa: E402


def run_main(module, argv):
    out = io.StringIO()
    with redirect_stdout(out):
        module.main(argv)
    return out.getvalue()


def test_sentiment_reaches_target():
    _, _, acc = sentiment.train(epochs=2, log=None)
    assert acc >= sentiment.TARGET_ACCURACY


def test_sentiment_runs():
    text = run_main(sentiment, ["--epochs", "1", "--cell", "gru"])
    assert "'the movie was not bad'" in text and "test accuracy" in text


def test_name_tagger_reaches_target():
    _, _, (acc, found) = name_tagger.train(epochs=2, log=None)
    assert acc >= name_tagger.TARGET_ACCURACY and found >= 0.9


def test_name_tagger_runs():
    assert "(NAMES in capitals)" in run_main(name_tagger, ["--epochs", "1"])


def test_generate_names_reaches_target():
    _, _, perplexity = generate_names.train(log=None)
    training, held_out = generate_names.split_names(0)
    assert perplexity < generate_names.TARGET_PERPLEXITY < generate_names.unigram_perplexity(training, held_out)


def test_generate_names_runs():
    text = run_main(generate_names, ["--epochs", "2"])
    assert text.count("temperature") == 3


def test_reverse_seq2seq_reaches_target():
    _, acc = reverse_seq2seq.train(steps=600, log=None)
    assert acc >= reverse_seq2seq.TARGET_ACCURACY


def test_reverse_seq2seq_runs():
    assert "held-out sequence accuracy" in run_main(reverse_seq2seq, ["--steps", "20"])


def test_remember_gated_cells_with_open_gates_learn_what_the_rnn_cannot():
    rnn = remember.train("RNN (tanh)", T=50)
    lstm = remember.train("LSTM, forget bias 3", T=50)
    assert lstm >= remember.TARGET_ACCURACY, f"LSTM with forget bias 3 at T = 50: accuracy {lstm}"
    assert rnn <= 0.6, f"the RNN at T = 50 was expected near chance (0.5), got {rnn}"


def test_remember_open_gate_passes_the_gradient_back():
    assert remember.gradient_reaching_start("RNN (tanh)") < 1e-8
    assert remember.gradient_reaching_start("LSTM, forget bias 3") > 1e-2
    assert remember.gradient_reaching_start("GRU, update bias 3") > 1e-2


def test_remember_sets_the_gate_bias():
    cell = remember.make_model("GRU, update bias 3").rnn.layers[0].cell
    assert (cell.b_z == 3.0).all() and not (cell.b_r == 3.0).any()


def test_remember_runs():
    text = run_main(remember, ["--lengths", "4", "--steps", "5", "--models", "RNN (tanh)", "LSTM"])
    assert "T = 4" in text and "RNN (tanh)" in text and "LSTM" in text


def test_remembers_summary_is_read_from_its_table():
    lines = remember.summary({"RNN (tanh)": [1.0, 0.5], "LSTM": [1.0, 0.52], "LSTM, forget bias 3": [1.0, 0.99]},
                             [10, 50])
    assert lines[0] == ("At T = 50, learned (accuracy >= 0.95): 'LSTM, forget bias 3'; near chance (< 0.6): "
                        "'RNN (tanh)', 'LSTM'.")
    assert "only when that gate starts near 1" in lines[1]
    lines = remember.summary({"RNN (tanh)": [0.97, 0.55], "LSTM": [0.99, 0.97]}, [10, 50])
    assert lines == ["At T = 50, learned (accuracy >= 0.95): 'LSTM'; near chance (< 0.6): 'RNN (tanh)'."], (
        "no claim about open gates that this table does not show")
    text = run_main(remember, ["--lengths", "4", "--steps", "5", "--models", "RNN (tanh)"])
    assert "At T = 4, learned" in text


@pytest.mark.parametrize("script", sorted(p.name for p in EXAMPLES.glob("*.py")))
def test_every_example_explains_each_option_and_its_default_in_help(script):
    done = subprocess.run([sys.executable, str(EXAMPLES / script), "--help"], capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0 and done.stdout.startswith("usage: "), done.stderr
    section = done.stdout.split("options:\n", 1)[1]
    entries = re.split(r"\n(?=  -)", section.split("\n\n")[0])            # one entry per option
    for entry in entries:
        if entry.strip().startswith("-h, --help"):
            continue
        flag = entry.split()[0]
        assert len(entry.split()) > 2 and "(default:" in entry, f"{script}: {flag} lacks a description or default"
