"""The command line: train / sample / evaluate, checkpoints, bit-identical resume, and every bad input.

The runs are tiny (hidden 8, chunks of 10 characters, 4 streams) so that a whole
train -> stop -> resume cycle takes a fraction of a second; the behaviour tested
is the same as for a real run.
"""

import os
import re
import signal
import subprocess
import sys

import numpy as np
import pytest

import seqnn
from seqnn import cli, runlog, runsetup as runs
from seqnn.data import Vocabulary, read_text
from seqnn.models import CharLM, SequenceClassifier
from seqnn.train import StreamTrainer, evaluate

CORPUS_START = read_text([runs.corpus_path()])[:2000]
TINY = ["--hidden", "8", "--layers", "1", "--seq-len", "10", "--batch", "4", "--val-fraction", "0.1",
        "--eval-every", "5", "--sample-chars", "30", "--log-every", "1"]


@pytest.fixture
def text(tmp_path):
    """291 characters (a newline is added): 262 for training = 4 streams of 65 rows = 6 chunks of 10 per epoch."""
    path = tmp_path / "text.txt"
    path.write_text(CORPUS_START[400:690])
    return str(path)


def run(capsys, *argv):
    """(exit status, stdout, stderr) of ``seqnn argv...`` run in this process."""
    code = cli.main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def samples(out: str) -> dict:
    """{step: the sample text shown after that step's validation} from a run's output."""
    found = {}
    for m in re.finditer(r"^step (\d+): validation .*\n((?:    .*\n)+)", out, re.M):
        found[int(m.group(1))] = m.group(2)
    return found


# --- a whole run ----------------------------------------------------------------------------------------------
def test_train_writes_checkpoints_metrics_plot_and_shows_progress(text, tmp_path, capsys):
    code, out, err = run(capsys, "train", text, *TINY, "--steps", "12", "--out", tmp_path / "run")
    assert code == 0, err
    folder = tmp_path / "run"
    assert sorted(os.listdir(folder)) == [".seqnn-lock", "best.npz", "last.npz", "loss.png", "metrics.csv"]
    assert "6 steps per epoch" in out and "stop at 12 steps" in out
    assert re.search(r"^step 3/12 \| epoch 0\.50 \| loss \d\.\d{3} \| val - \| [\d,]+ chars/s \| 0:00:\d\d left$",
                     out, re.M)
    assert re.search(r"^step 7/12 \| epoch 1\.17 \| loss .* \| val \d\.\d{3} bpc \|", out, re.M)
    assert sorted(samples(out)) == [5, 10, 12], "a sample at each validation, and a final one at the stopping step"
    assert f"loss curves: {folder}/loss.png" in out and "done: step 12" in out

    rows = (folder / "metrics.csv").read_text().splitlines()
    assert rows[0] == "step,time,train_loss,val_loss,val_bpc,chars_per_s,grad_norm"
    assert [int(r.split(",")[0]) for r in rows[1:]] == list(range(1, 13))
    val_rows = [r.split(",") for r in rows[1:] if r.split(",")[3]]
    assert [int(r[0]) for r in val_rows] == [5, 10, 12]
    for r in val_rows:
        assert float(r[4]) == pytest.approx(float(r[3]) / np.log(2), rel=1e-5), "bpc = nats / ln 2"

    model, vocab, training = seqnn.io.load_checkpoint(folder / "last.npz")
    assert isinstance(model, CharLM) and model.dtype == np.float32 and vocab == Vocabulary(read_text([text]))
    assert training["trainer"]["steps"] == 12 and training["trainer"]["epoch"] == 2
    assert training["options"]["hidden"] == 8 and training["text"]["files"] == [os.path.abspath(text)]
    ids = vocab.encode(read_text([text]))
    val = evaluate(model, ids[-29:], 10, 4)                  # the held-out tail, as the run measured it
    assert val == pytest.approx(training["log"]["val_loss"][-1], rel=1e-6)
    best = seqnn.io.load_checkpoint(folder / "best.npz")[2]
    assert best["best_loss"] == min(training["log"]["val_loss"]) and best["trainer"]["steps"] == best["best_step"]


def test_bundled_corpus_is_read_through_the_same_path_as_a_users_file(monkeypatch):
    calls = []
    monkeypatch.setattr(runs, "read_text", lambda paths: calls.append(list(paths)) or "text\n")
    assert runs.load_text([])[0] == "text\n" and len(calls) == 1
    corpus = read_text(calls[0])
    assert len(corpus) == 148_476 and corpus.startswith("                ALICE'S ADVENTURES IN WONDERLAND")


# --- bit-identical resume ---------------------------------------------------------------------------------------
def _interrupt_at(monkeypatch, step):
    """Make a real SIGINT (Ctrl-C) arrive while step ``step`` runs."""
    original = StreamTrainer.step

    def step_then_interrupt(self):
        result = original(self)
        if self.steps == step:
            os.kill(os.getpid(), signal.SIGINT)
        return result
    monkeypatch.setattr(StreamTrainer, "step", step_then_interrupt)


def _same_run(a, b, whole_history=True):
    ma, _, ta = seqnn.io.load_checkpoint(a)
    mb, _, tb = seqnn.io.load_checkpoint(b)
    for (name, pa), pb in zip(ma.named_parameters(), mb.parameters()):
        assert pa.value.dtype == pb.value.dtype and np.array_equal(pa.value, pb.value), f"{name} differs"
    for key in ("loss", "grad_norm", "step"):
        assert np.array_equal(ta["log"][key], tb["log"][key]), f"the {key} history differs"
    oa, ob = ta["trainer"]["optimizer"], tb["trainer"]["optimizer"]
    assert oa["steps"] == ob["steps"] and all(np.array_equal(oa["slots"][k], ob["slots"][k]) for k in oa["slots"])
    assert all(np.array_equal(x, y) for x, y in zip(ta["trainer"]["state"], tb["trainer"]["state"]))
    assert ta["trainer"]["generators"] == tb["trainer"]["generators"]
    if whole_history:
        assert np.array_equal(ta["log"]["val_step"], tb["log"]["val_step"])
        assert np.array_equal(ta["log"]["val_loss"], tb["log"]["val_loss"])
        assert (ta["best_loss"], ta["best_step"]) == (tb["best_loss"], tb["best_step"])


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("stop_at", [7, 6], ids=["mid-epoch", "epoch-end"])
def test_run_interrupted_by_ctrl_c_and_resumed_is_bit_identical(dtype, stop_at, text, tmp_path, capsys,
                                                               monkeypatch):
    # two layers with dropout: the resumed run must also restore the dropout generator
    opts = [*TINY, "--dtype", dtype, "--layers", "2", "--dropout", "0.2", "--steps", "16"]
    code, whole_out, _ = run(capsys, "train", text, *opts, "--out", tmp_path / "whole")
    assert code == 0

    with monkeypatch.context() as m:
        _interrupt_at(m, stop_at)
        code, first_out, _ = run(capsys, "train", text, *opts, "--out", tmp_path / "split")
    assert code == 130
    assert f"interrupted at step {stop_at}; saved {tmp_path / 'split'}/last.npz" in first_out
    assert f"seqnn train --resume {tmp_path / 'split'}" in first_out
    code, second_out, _ = run(capsys, "train", "--resume", tmp_path / "split")
    assert code == 0 and f"resuming {tmp_path / 'split'}/last.npz at step {stop_at}" in second_out

    _same_run(tmp_path / "whole" / "last.npz", tmp_path / "split" / "last.npz")
    _same_run(tmp_path / "whole" / "best.npz", tmp_path / "split" / "best.npz")
    resumed_samples = {**samples(first_out), **samples(second_out)}
    assert resumed_samples == samples(whole_out) and len(resumed_samples) == 4
    assert (tmp_path / "whole" / "metrics.csv").read_text().count("\n") == 17
    whole_csv = [r.split(",")[:1] + r.split(",")[2:5] + r.split(",")[6:]      # all but the timings
                 for r in (tmp_path / "whole" / "metrics.csv").read_text().splitlines()]
    split_csv = [r.split(",")[:1] + r.split(",")[2:5] + r.split(",")[6:]
                 for r in (tmp_path / "split" / "metrics.csv").read_text().splitlines()]
    assert whole_csv == split_csv

    texts = [run(capsys, "sample", tmp_path / name, "--prime", "Al", "--length", "40", "--seed", "3")[1]
             for name in ("whole", "split")]
    assert texts[0] == texts[1] and texts[0].startswith("Al")


def test_run_stopped_by_its_rule_and_extended_continues_the_same_training(text, tmp_path, capsys):
    opts = [*TINY, "--layers", "2", "--dropout", "0.2"]
    assert run(capsys, "train", text, *opts, "--steps", "14", "--out", tmp_path / "whole")[0] == 0
    assert run(capsys, "train", text, *opts, "--steps", "8", "--out", tmp_path / "split")[0] == 0
    code, out, err = run(capsys, "train", "--resume", tmp_path / "split")
    assert code == 1 and "already at step 8, where its rule (8 steps) stops it" in err
    code, out, err = run(capsys, "train", "--resume", tmp_path / "split", "--steps", "14")
    assert code == 0, err
    # the extra validation at step 8 changes nothing in the training itself
    _same_run(tmp_path / "whole" / "last.npz", tmp_path / "split" / "last.npz", whole_history=False)


def test_real_ctrl_c_in_a_terminal_process_saves_and_says_how_to_resume(text, tmp_path):
    proc = subprocess.Popen([sys.executable, "-m", "seqnn", "train", text, *TINY, "--hidden", "64",
                             "--steps", "100000", "--out", str(tmp_path / "run")],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    for line in proc.stdout:                    # wait until it is training
        if line.startswith("step 3/"):
            break
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "Traceback" not in err and "Ctrl-C: stopping after this step" in out
    step = int(re.search(r"interrupted at step (\d+); saved", out).group(1))
    assert seqnn.io.load_checkpoint(tmp_path / "run" / "last.npz")[2]["trainer"]["steps"] == step


# --- sample and evaluate ----------------------------------------------------------------------------------------
@pytest.fixture
def trained(text, tmp_path, capsys):
    assert run(capsys, "train", text, *TINY, "--steps", "10", "--out", tmp_path / "run")[0] == 0
    return tmp_path / "run"


def test_sample_primes_then_continues_deterministically(trained, capsys):
    code, out, _ = run(capsys, "sample", trained / "best.npz", "--prime", "Alice", "--length", "50", "--seed", "1")
    assert code == 0 and out.startswith("Alice") and len(out) == len("Alice") + 50 + 1
    assert run(capsys, "sample", trained, "--prime", "Alice", "--length", "50", "--seed", "1")[1] == out, (
        "a folder means its best.npz; the same seed gives the same text")
    assert run(capsys, "sample", trained, "--prime", "Alice", "--length", "50", "--seed", "2")[1] != out

    model, vocab, _ = seqnn.io.load_checkpoint(trained / "best.npz")
    greedy = run(capsys, "sample", trained, "--prime", "Al", "--length", "8", "--temperature", "0")[1]
    ids, state = list(vocab.encode("Al")), None
    logits, state = model.forward(np.array(ids)[:, None], None)
    expected = ""
    for _ in range(8):                                   # argmax, fed back: greedy decoding by hand
        token = int(np.argmax(logits[-1, 0]))
        expected += vocab.tokens[token]
        logits, state = model.forward(np.array([[token]]), state)
    assert greedy == "Al" + expected + "\n"


def test_sample_prime_file_and_top_k(trained, tmp_path, capsys):
    (tmp_path / "prime.txt").write_text("Alice was")
    code, out, _ = run(capsys, "sample", trained, "--prime-file", tmp_path / "prime.txt", "--length", "20",
                       "--top-k", "1")
    assert code == 0 and out.startswith("Alice was\n")
    greedy = run(capsys, "sample", trained, "--prime-file", tmp_path / "prime.txt", "--length", "20",
                 "--temperature", "0")[1]
    assert out == greedy, "top-k 1 is greedy"


def test_evaluate_reports_nats_perplexity_and_bits(trained, text, capsys):
    code, out, _ = run(capsys, "evaluate", trained)
    assert code == 0 and "the validation split of" in out
    model, vocab, training = seqnn.io.load_checkpoint(trained / "best.npz")
    nats = float(re.search(r"loss (\d\.\d+) nats/char", out).group(1))
    assert nats == pytest.approx(training["best_loss"], abs=5e-5)
    perplexity = float(re.search(r"perplexity (\d+\.\d+)", out).group(1))
    bits = float(re.search(r"(\d\.\d+) bits/char", out).group(1))
    assert perplexity == pytest.approx(np.exp(nats), abs=2e-3) and bits == pytest.approx(nats / np.log(2), abs=2e-4)

    code, out, _ = run(capsys, "evaluate", trained / "best.npz", text)
    whole = evaluate(model, vocab.encode(read_text([text])), 10, 32)
    assert code == 0 and float(re.search(r"loss (\d\.\d+)", out).group(1)) == pytest.approx(whole, abs=5e-5)


# --- bad input: one line, the option or file named, a non-zero exit, never a traceback --------------------------
def _fail(capsys, *argv, code=1):
    got, out, err = run(capsys, *argv)
    assert got == code, (out, err)
    assert "Traceback" not in err and err.count("\n") == 1, err
    return err


@pytest.mark.parametrize("kind, message", [
    ("missing", r"seqnn train: error: .*nothing.txt: no such file"),
    ("empty", r"seqnn train: error: .*empty.txt: the file is empty"),
    ("binary", r"seqnn train: error: .*binary.bin: looks binary \(a NUL byte at offset 2\)"),
    ("latin1", r"seqnn train: error: .*latin1.txt: is not UTF-8 text \(byte 0xe9 at offset 3\)"),
    ("folder", r"seqnn train: error: .*: is a folder, expected a text file"),
    ("short", r"seqnn train: error: the text is too short: 40 characters leave 36 for training after --val-fraction "
              r"0.1, and one batch of --batch 4 x \(--seq-len 10 \+ 1\) needs 44"),
])
def test_train_refuses_bad_text(kind, message, tmp_path, capsys):
    path = tmp_path / {"missing": "nothing.txt", "empty": "empty.txt", "binary": "binary.bin",
                       "latin1": "latin1.txt", "folder": "folder", "short": "short.txt"}[kind]
    if kind == "empty":
        path.write_bytes(b"")
    elif kind == "binary":
        path.write_bytes(b"PK\x00\x03\x04" * 50)
    elif kind == "latin1":
        path.write_bytes("caf\xe9 au lait\n".encode("latin-1") * 30)
    elif kind == "folder":
        path.mkdir()
    elif kind == "short":
        path.write_text("x" * 39)
    assert re.match(message, _fail(capsys, "train", path, *TINY, "--steps", "2", "--out", tmp_path / "run"))
    assert not (tmp_path / "run" / "last.npz").exists()


@pytest.mark.parametrize("argv, message", [
    (["--hidden", "-3"], r"argument --hidden: expected an integer in \[1, 16,384\], got -3"),
    (["--batch", "0"], "argument --batch: expected a positive integer, got 0"),
    (["--seq-len", "ten"], "argument --seq-len: expected a positive integer, got 'ten'"),
    (["--val-fraction", "1"], "argument --val-fraction: expected a fraction strictly between 0 and 1, got 1"),
    (["--val-fraction", "0"], "argument --val-fraction: expected a fraction strictly between 0 and 1, got 0"),
    (["--lr", "-0.1"], "argument --lr: expected a positive number, got -0.1"),
    (["--lr", "nan"], "argument --lr: expected a positive number, got nan"),
    (["--clip", "-1"], "argument --clip: expected a number >= 0, got -1"),
    (["--dropout", "1"], r"argument --dropout: expected a probability in \[0, 1\), got 1"),
    (["--minutes", "0"], "argument --minutes: expected a positive number, got 0"),
    (["--cell", "transformer"], "argument --cell: invalid choice: 'transformer'"),
])
def test_train_refuses_nonsensical_options(argv, message, text, tmp_path, capsys):
    err = _fail(capsys, "train", text, *argv, code=2)
    assert re.search("seqnn train: error: " + message, err), err


def test_train_refuses_dropout_without_stacked_layers_and_an_occupied_folder(text, trained, capsys):
    err = _fail(capsys, "train", text, *TINY, "--dropout", "0.5", "--steps", "2")
    assert "--dropout acts between stacked layers, so with --layers 1 it would do nothing" in err
    err = _fail(capsys, "train", text, *TINY, "--steps", "2", "--out", trained)
    assert f"--out: {trained} already holds a run; continue it with --resume {trained}, or pass --overwrite" in err
    assert run(capsys, "train", text, *TINY, "--steps", "2", "--out", trained, "--overwrite")[0] == 0


def test_resume_refuses_what_would_make_it_another_run(text, trained, tmp_path, capsys):
    err = _fail(capsys, "train", "--resume", trained, "--hidden", "16", "--steps", "20")
    assert "--resume: --hidden cannot change when resuming" in err
    other = tmp_path / "other.txt"
    other.write_text(CORPUS_START[:290])
    err = _fail(capsys, "train", other, "--resume", trained, "--steps", "20")
    assert f"--resume: the text ({other}) is not the text this run trained on (291 characters" in err
    err = _fail(capsys, "train", "--resume", tmp_path / "nowhere", "--steps", "20")
    assert f"--resume: {tmp_path / 'nowhere'}/last.npz does not exist" in err
    plain = tmp_path / "plain"
    plain.mkdir()
    model, vocab, _ = seqnn.io.load_checkpoint(trained / "last.npz")
    seqnn.io.save(model, plain / "last.npz", vocab)
    err = _fail(capsys, "train", "--resume", plain, "--steps", "20")
    assert "is a model file without a training state" in err


def test_resume_may_change_the_learning_rate(trained, capsys):
    code, out, _ = run(capsys, "train", "--resume", trained, "--steps", "12", "--lr", "0.0005")
    assert code == 0 and "adam lr 0.0005" in out
    assert seqnn.io.load_checkpoint(trained / "last.npz")[2]["trainer"]["optimizer"]["lr"] == 0.0005


def test_sample_and_evaluate_refuse_bad_input(trained, text, tmp_path, capsys):
    err = _fail(capsys, "sample", trained, "--prime", "Zoë")
    assert re.search(r"seqnn sample: error: --prime: 2 character\(s\) the model's vocabulary does not have: "
                     r"'Z', 'ë' \(it knows \d+:", err)
    assert "argument --temperature: expected a number >= 0, got -1" in _fail(
        capsys, "sample", trained, "--temperature", "-1", code=2)
    assert "--top-k: expected at most" in _fail(capsys, "sample", trained, "--top-k", "500")
    assert "argument --length: expected a positive integer" in _fail(capsys, "sample", trained, "--length", "0",
                                                                     code=2)
    assert "--prime: expected at least one character" in _fail(capsys, "sample", trained, "--prime", "")
    assert f"{tmp_path}/none.npz: no such checkpoint or run folder" in _fail(capsys, "sample", tmp_path / "none.npz")

    broken = tmp_path / "broken.npz"
    broken.write_bytes((trained / "best.npz").read_bytes()[:3000])
    assert re.search(r"seqnn sample: error: path: .*broken.npz is not a valid seqnn model file \(",
                     _fail(capsys, "sample", broken))
    classifier = tmp_path / "classifier.npz"
    seqnn.io.save(SequenceClassifier(5, 2, 4, rng=0), classifier, Vocabulary("abcde"))
    assert "classifier.npz: holds a SequenceClassifier; expected a CharLM (a model from seqnn train)" in _fail(
        capsys, "evaluate", classifier)

    other = tmp_path / "other.txt"
    other.write_text("Zürich\n")
    assert "TEXT: 2 character(s) the model's vocabulary does not have: 'Z', 'ü'" in _fail(
        capsys, "evaluate", trained, other)


def test_a_diverging_run_stops_naming_the_step_and_keeps_the_last_good_checkpoint(text, tmp_path, capsys,
                                                                                 monkeypatch):
    original = StreamTrainer.step

    def step_then_blow_up(self):            # a weight turns infinite after step 7, as in a diverging run
        result = original(self)
        if self.steps == 7:
            self.model.out.params["b_y"].value[0] = np.inf
        return result
    monkeypatch.setattr(StreamTrainer, "step", step_then_blow_up)
    err = _fail(capsys, "train", text, *TINY, "--steps", "20", "--out", tmp_path / "run")
    last = tmp_path / "run" / "last.npz"
    assert (f"seqnn train: error: training diverged at step 8 (epoch 1, chunk 1): the outputs are not finite (the "
            f"run has diverged); nothing was updated; {last} (step 5) and {last.parent / 'best.npz'} (step 5) are "
            "unchanged. Try a smaller --lr (now 0.005) or --clip (now 5.0)") in err
    model, _, training = seqnn.io.load_checkpoint(last)
    assert training["trainer"]["steps"] == 5 and np.isfinite(model.out.b_y).all()


# --- the display and the entry points ---------------------------------------------------------------------------
class FakeTerminal:
    def __init__(self, tty):
        self.tty, self.written = tty, []

    def isatty(self):
        return self.tty

    def write(self, s):
        self.written.append(s)

    def flush(self):
        pass


def test_progress_redraws_in_place_on_a_terminal_and_prints_lines_otherwise(monkeypatch):
    terminal = FakeTerminal(True)
    show = runlog.Progress(terminal, log_every=5)
    clock = iter([10.0, 10.05, 10.3])
    monkeypatch.setattr(runlog.time, "monotonic", lambda: next(clock))
    for step in (1, 2, 3):
        show.status(step, f"step {step}")
    show.say("a permanent line")
    assert terminal.written == ["\rstep 1\x1b[K", "\rstep 3\x1b[K", "\r\x1b[K", "a permanent line\n"], (
        "redrawn in place, at most every 0.1 s; a permanent line clears the status line first")

    plain = FakeTerminal(False)
    show = runlog.Progress(plain, log_every=5)
    for step in range(1, 11):
        show.status(step, f"step {step}")
    assert plain.written == ["step 5\n", "step 10\n"]


def test_module_and_help_texts_run_as_programs():
    for argv in (["--help"], ["train", "--help"], ["sample", "--help"], ["evaluate", "--help"]):
        done = subprocess.run([sys.executable, "-m", "seqnn", *argv], capture_output=True, text=True, timeout=60)
        assert done.returncode == 0 and done.stdout.startswith("usage: seqnn"), done.stderr
    done = subprocess.run([sys.executable, "-m", "seqnn", "train", "--help"], capture_output=True, text=True)
    for option in ("--cell", "--hidden", "--layers", "--dropout", "--seq-len", "--batch", "--optimizer", "--lr",
                   "--clip", "--steps", "--epochs", "--minutes", "--val-fraction", "--eval-every", "--dtype",
                   "--seed", "--out", "--resume"):
        assert option in done.stdout, option


def test_sample_without_a_prime_starts_from_a_token_the_model_knows(tmp_path, capsys):
    vocab = Vocabulary("abc")                           # a model saved through the API: no newline in it
    seqnn.io.save(CharLM(3, 4, rng=0), tmp_path / "m.npz", vocab)
    code, out, _ = run(capsys, "sample", tmp_path / "m.npz", "--length", "12")
    assert code == 0 and len(out) == 13 and set(out[:-1]) <= set("abc")


def test_evaluate_without_text_refuses_a_training_text_that_has_changed(trained, text, capsys):
    with open(text, "a") as f:
        f.write("a line added after training\n")
    err = _fail(capsys, "evaluate", trained)
    assert f"TEXT (none given): the text ({text}) is not the text this run trained on (291 characters" in err
