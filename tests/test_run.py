"""A training run's lifecycle: checkpoints, bit-identical resume, signals, one trainer per folder,
--overwrite, divergence, sizes, damaged checkpoints and failed writes; real processes and real signals where
the promise is about them."""

import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import seqnn
from seqnn.data import Vocabulary, read_text
from seqnn.models import CharLM
from seqnn.train import StreamTrainer, evaluate

from conftest import CORPUS_START, TINY, samples, seqnn_fails, seqnn_main, seqnn_process

DATA = Path(__file__).parent / "data"


# --- a whole run ----------------------------------------------------------------------------------------------
def test_train_writes_checkpoints_metrics_plot_and_shows_progress(text, tmp_path, capsys):
    code, out, err = seqnn_main(capsys, "train", text, *TINY, "--steps", "12", "--out", tmp_path / "run")
    assert code == 0, err
    folder = tmp_path / "run"
    assert sorted(os.listdir(folder)) == [".seqnn-lock", "best.npz", "last.npz", "loss.png", "metrics.csv"]
    assert "6 steps per epoch" in out and "stop at 12 steps" in out
    assert re.search(r"^step 3/12 \| epoch 0\.50 \| loss \d\.\d{3} bpc \| lr 0\.005 \| val - \| [\d,]+ chars/s \| "
                     r"0:00:\d\d left$", out, re.M)
    assert re.search(r"^step 7/12 \| epoch 1\.17 \| loss .* \| val \d\.\d{3} bpc \|", out, re.M)
    assert sorted(samples(out)) == [5, 10, 12], "a sample at each validation, and a final one at the stopping step"
    assert f"loss curves: {folder}/loss.png" in out and "done: step 12" in out

    rows = (folder / "metrics.csv").read_text().splitlines()
    assert rows[0] == "step,time,train_loss,train_bpc,val_loss,val_bpc,chars_per_s,grad_norm,lr"
    assert [int(r.split(",")[0]) for r in rows[1:]] == list(range(1, 13))
    val_rows = [r.split(",") for r in rows[1:] if r.split(",")[4]]
    assert [int(r[0]) for r in val_rows] == [5, 10, 12]
    for r in val_rows:
        assert float(r[5]) == pytest.approx(float(r[4]) / np.log(2), rel=1e-5), "bpc = nats / ln 2"
        assert float(r[3]) == pytest.approx(float(r[2]) / np.log(2), rel=1e-5) and float(r[8]) == 0.005

    model, vocab, training = seqnn.io.load_checkpoint(folder / "last.npz")
    assert isinstance(model, CharLM) and model.dtype == np.float32 and vocab == Vocabulary(read_text([text]))
    assert training["trainer"]["steps"] == 12 and training["trainer"]["epoch"] == 2
    assert training["options"]["hidden"] == 8 and training["text"]["files"] == [os.path.abspath(text)]
    ids = vocab.encode(read_text([text]))
    val = evaluate(model, ids[-29:], 10, 4)                  # the held-out tail, as the run measured it
    assert val == pytest.approx(training["log"]["val_loss"][-1], rel=1e-6)
    best = seqnn.io.load_checkpoint(folder / "best.npz")[2]
    assert best["best_loss"] == min(training["log"]["val_loss"]) and best["trainer"]["steps"] == best["best_step"]


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


COSINE = ["--lr-schedule", "cosine", "--warmup", "3"]
STEP_DECAY = ["--lr-schedule", "step", "--lr-decay", "0.5", "--lr-decay-after", "1"]     # halved after epochs 1, 2


@pytest.mark.parametrize("dtype, stop_at, schedule", [
    ("float32", 7, []), ("float32", 6, []), ("float64", 7, []), ("float64", 6, []),
    ("float32", 7, COSINE), ("float64", 6, STEP_DECAY), ("float32", 2, COSINE)],
    ids=["float32-mid-epoch", "float32-epoch-end", "float64-mid-epoch", "float64-epoch-end", "cosine-mid-epoch",
         "step-decay-epoch-end", "cosine-in-warmup"])
def test_run_interrupted_by_ctrl_c_and_resumed_is_bit_identical(dtype, stop_at, schedule, text, tmp_path, capsys,
                                                               monkeypatch):
    # two layers with dropout: the resumed run must also restore the dropout generator
    opts = [*TINY, "--dtype", dtype, "--layers", "2", "--dropout", "0.2", "--steps", "16", *schedule]
    code, whole_out, _ = seqnn_main(capsys, "train", text, *opts, "--out", tmp_path / "whole")
    assert code == 0

    with monkeypatch.context() as m:
        _interrupt_at(m, stop_at)
        code, first_out, _ = seqnn_main(capsys, "train", text, *opts, "--out", tmp_path / "split")
    assert code == 130
    assert f"interrupted at step {stop_at}; saved {tmp_path / 'split'}/last.npz" in first_out
    assert f"seqnn train --resume {tmp_path / 'split'}" in first_out
    code, second_out, _ = seqnn_main(capsys, "train", "--resume", tmp_path / "split")
    assert code == 0 and f"resuming {tmp_path / 'split'}/last.npz at step {stop_at}" in second_out

    _same_run(tmp_path / "whole" / "last.npz", tmp_path / "split" / "last.npz")
    _same_run(tmp_path / "whole" / "best.npz", tmp_path / "split" / "best.npz")
    resumed_samples = {**samples(first_out), **samples(second_out)}
    assert resumed_samples == samples(whole_out) and len(resumed_samples) == 4
    assert (tmp_path / "whole" / "metrics.csv").read_text().count("\n") == 17
    if schedule:                                      # the rate moved, and both runs moved it the same way
        rates = [re.findall(r"^step (\d+)/16 .*\| lr ([\d.e-]+) \|", out, re.M) for out in (whole_out,)][0]
        assert len({lr for _, lr in rates}) >= 3, rates
        assert rates == re.findall(r"^step (\d+)/16 .*\| lr ([\d.e-]+) \|", first_out + second_out, re.M)
    whole_csv = [r.split(",")[:1] + r.split(",")[2:6] + r.split(",")[7:]      # all but the timings
                 for r in (tmp_path / "whole" / "metrics.csv").read_text().splitlines()]
    split_csv = [r.split(",")[:1] + r.split(",")[2:6] + r.split(",")[7:]
                 for r in (tmp_path / "split" / "metrics.csv").read_text().splitlines()]
    assert whole_csv == split_csv

    texts = [seqnn_main(capsys, "sample", tmp_path / name, "--prime", "Al", "--length", "40", "--seed", "3")[1]
             for name in ("whole", "split")]
    assert texts[0] == texts[1] and texts[0].startswith("Al")


def test_run_stopped_by_its_rule_and_extended_continues_the_same_training(text, tmp_path, capsys):
    opts = [*TINY, "--layers", "2", "--dropout", "0.2"]
    assert seqnn_main(capsys, "train", text, *opts, "--steps", "14", "--out", tmp_path / "whole")[0] == 0
    assert seqnn_main(capsys, "train", text, *opts, "--steps", "8", "--out", tmp_path / "split")[0] == 0
    code, out, err = seqnn_main(capsys, "train", "--resume", tmp_path / "split")
    assert code == 1 and "already at step 8, where its rule (8 steps) stops it" in err
    code, out, err = seqnn_main(capsys, "train", "--resume", tmp_path / "split", "--steps", "14")
    assert code == 0, err
    # the extra validation at step 8 changes nothing in the training itself
    _same_run(tmp_path / "whole" / "last.npz", tmp_path / "split" / "last.npz", whole_history=False)


def test_the_header_says_the_schedule_and_cosine_needs_a_known_length(text, tmp_path, capsys):
    code, out, _ = seqnn_main(capsys, "train", text, *TINY, "--steps", "12", "--out", tmp_path / "a", *COSINE)
    assert code == 0 and "adam lr 0.005 (warmup 3 steps, then cosine to 0.0005 at step 12)" in out
    code, out, _ = seqnn_main(capsys, "train", text, *TINY, "--steps", "12", "--out", tmp_path / "b", *STEP_DECAY)
    assert code == 0 and "adam lr 0.005 (x0.5 after each epoch from epoch 1)" in out
    err = seqnn_fails(capsys, "train", text, *TINY, "--minutes", "1", "--out", tmp_path / "c", *COSINE)
    assert "--lr-schedule cosine decays over the run's length, which --minutes alone does not fix" in err
    assert not (tmp_path / "c").exists()


def test_piped_output_shows_the_first_step_every_validation_and_nothing_else_within_ten_seconds(text, tmp_path):
    argv = [a for a in TINY if a not in ("--log-seconds", "0")]          # the default: every 10 seconds
    proc = seqnn_process("train", text, *argv, "--steps", "12", "--out", tmp_path / "run")
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    status = [line.split(" |")[0] for line in out.splitlines() if " | epoch " in line]
    assert status == ["step 1/12", "step 5/12", "step 10/12"], out      # a short run: these, within 10 s
    quiet = seqnn_process("train", text, *argv, "--steps", "12", "--out", tmp_path / "quiet", "--quiet")
    out, err = quiet.communicate(timeout=120)
    assert quiet.returncode == 0 and " | epoch " not in out and "step 10: validation" in out, (out, err)


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


def test_train_refuses_dropout_without_stacked_layers_and_an_occupied_folder(text, trained, capsys):
    err = seqnn_fails(capsys, "train", text, *TINY, "--dropout", "0.5", "--steps", "2")
    assert "--dropout acts between stacked layers, so with --layers 1 it would do nothing" in err
    err = seqnn_fails(capsys, "train", text, *TINY, "--steps", "2", "--out", trained)
    assert f"--out: {trained} already holds a run; continue it with --resume {trained}, or pass --overwrite" in err
    assert seqnn_main(capsys, "train", text, *TINY, "--steps", "2", "--out", trained, "--overwrite")[0] == 0


def test_resume_refuses_what_would_make_it_another_run(text, trained, tmp_path, capsys):
    err = seqnn_fails(capsys, "train", "--resume", trained, "--hidden", "16", "--steps", "20")
    assert "--resume: --hidden cannot change when resuming" in err
    other = tmp_path / "other.txt"
    other.write_text(CORPUS_START[:290])
    err = seqnn_fails(capsys, "train", other, "--resume", trained, "--steps", "20")
    assert f"--resume: the text ({other}) is not the text this run trained on (291 characters" in err
    err = seqnn_fails(capsys, "train", "--resume", tmp_path / "nowhere", "--steps", "20")
    assert f"--resume: {tmp_path / 'nowhere'}/last.npz does not exist" in err
    plain = tmp_path / "plain"
    plain.mkdir()
    model, vocab, _ = seqnn.io.load_checkpoint(trained / "last.npz")
    seqnn.io.save(model, plain / "last.npz", vocab)
    err = seqnn_fails(capsys, "train", "--resume", plain, "--steps", "20")
    assert "is a model file without a training state" in err


def test_resume_may_change_the_learning_rate(trained, capsys):
    code, out, _ = seqnn_main(capsys, "train", "--resume", trained, "--steps", "12", "--lr", "0.0005")
    assert code == 0 and "adam lr 0.0005" in out
    assert seqnn.io.load_checkpoint(trained / "last.npz")[2]["trainer"]["optimizer"]["lr"] == 0.0005


def test_a_diverging_run_stops_naming_the_step_and_keeps_the_last_good_checkpoint(text, tmp_path, capsys,
                                                                                 monkeypatch):
    original = StreamTrainer.step

    def step_then_blow_up(self):            # a weight turns infinite after step 7, as in a diverging run
        result = original(self)
        if self.steps == 7:
            self.model.out.params["b_y"].value[0] = np.inf
        return result
    monkeypatch.setattr(StreamTrainer, "step", step_then_blow_up)
    err = seqnn_fails(capsys, "train", text, *TINY, "--steps", "20", "--out", tmp_path / "run")
    last = tmp_path / "run" / "last.npz"
    assert (f"seqnn train: error: training diverged at step 8 (epoch 1, chunk 1): the outputs are not finite (the "
            f"run has diverged); nothing was updated; {last} (step 5) and {last.parent / 'best.npz'} (step 5) are "
            "unchanged. Try a smaller --lr (now 0.005) or --clip (now 5.0)") in err
    model, _, training = seqnn.io.load_checkpoint(last)
    assert training["trainer"]["steps"] == 5 and np.isfinite(model.out.b_y).all()


# --- signals: SIGTERM and SIGHUP end a run as Ctrl-C does ----------------------------------------------------------
def _training(tmp_path, text, *extra, until="step 3/"):
    """A real ``seqnn train`` process on ``text`` (steps of a few milliseconds), once its output shows ``until``."""
    proc = seqnn_process("train", text, *TINY, "--hidden", "64", "--steps", "100000", "--out", tmp_path / "run",
                         *extra)
    for line in proc.stdout:
        if line.startswith(until):
            return proc
    raise AssertionError(f"the run ended before '{until}': {proc.communicate()}")


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
@pytest.mark.parametrize("name, code", [("SIGTERM", 143), ("SIGHUP", 129)])
def test_sigterm_and_sighup_save_last_npz_and_say_how_to_resume(name, code, text, tmp_path, capsys):
    proc = _training(tmp_path, text)
    proc.send_signal(getattr(signal, name))
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == code and "Traceback" not in err, err
    assert f"{name}: stopping after this step (a second {name} stops at once, without saving)" in out
    step = int(re.search(rf"^{name}: interrupted at step (\d+); saved {tmp_path / 'run'}/last.npz\. Continue with: "
                         rf"seqnn train --resume {tmp_path / 'run'}$", out, re.M).group(1))
    assert seqnn.io.load_checkpoint(tmp_path / "run" / "last.npz")[2]["trainer"]["steps"] == step
    code, out, err = seqnn_main(capsys, "train", "--resume", tmp_path / "run", "--steps", step + 2)
    assert code == 0 and f"at step {step} " in out, err


def test_a_second_signal_stops_at_once_without_saving(text, tmp_path, capsys, monkeypatch):
    original = StreamTrainer.step

    def step_then_two_signals(self):                # real signals; the second comes before the step has ended
        result = original(self)
        if self.steps == 7:
            os.kill(os.getpid(), signal.SIGTERM)
            os.kill(os.getpid(), signal.SIGTERM)
        return result
    monkeypatch.setattr(StreamTrainer, "step", step_then_two_signals)
    code, out, err = seqnn_main(capsys, "train", text, *TINY, "--steps", "20", "--out", tmp_path / "run")
    folder = tmp_path / "run"
    assert code == 143 and "Traceback" not in err
    assert (f"SIGTERM again: stopped at once, without saving; {folder}/last.npz (step 5) and {folder}/best.npz "
            f"(step 5) are unchanged. Continue with: seqnn train --resume {folder}") in out
    assert seqnn.io.load_checkpoint(folder / "last.npz")[2]["trainer"]["steps"] == 5
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL, "the handlers are given back"


# --- one trainer per folder ---------------------------------------------------------------------------------------
def test_a_second_trainer_in_the_same_folder_is_refused_at_once_naming_the_first(text, tmp_path, capsys):
    proc = _training(tmp_path, text, until="step 6/")          # it has saved at step 5
    folder = tmp_path / "run"
    try:
        for argv in (["train", "no-such.txt", "--out", folder],   # refused before the text is even read
                     ["train", "no-such.txt", "--out", folder, "--overwrite"],
                     ["train", "--resume", folder, "--steps", "200000"]):
            err = seqnn_fails(capsys, *argv)
            assert (f"seqnn train: error: {folder} is in use by another seqnn train (process {proc.pid}): one "
                    "trainer per folder") in err
    finally:
        proc.kill()                                               # SIGKILL: no handler runs, no cleanup
        proc.communicate()
    step = seqnn.io.load_checkpoint(folder / "last.npz")[2]["trainer"]["steps"]
    code, out, err = seqnn_main(capsys, "train", "--resume", folder, "--steps", step + 1)
    assert code == 0, "the OS released the killed trainer's lock: " + err


def test_overwrite_clears_the_previous_run_before_the_first_step(trained, text, capsys, monkeypatch):
    original = StreamTrainer.step

    def step_then_sigterm(self):                     # the new run ends at step 2, before its first validation
        result = original(self)
        if self.steps == 2:
            os.kill(os.getpid(), signal.SIGTERM)
        return result
    monkeypatch.setattr(StreamTrainer, "step", step_then_sigterm)
    code, out, _ = seqnn_main(capsys, "train", text, *TINY, "--cell", "gru", "--steps", "20", "--out", trained,
                              "--overwrite")
    assert code == 143
    assert f"--overwrite: removed the previous run's last.npz, best.npz, metrics.csv, loss.png from {trained}/" in out
    assert sorted(os.listdir(trained)) == [".seqnn-lock", "last.npz", "metrics.csv"]
    assert (trained / "metrics.csv").read_text().count("\n") == 3, "the header and this run's two steps"
    monkeypatch.undo()
    model = seqnn.io.load_checkpoint(trained / "last.npz")[0]
    code, out, err = seqnn_main(capsys, "evaluate", trained)
    assert model.config["cell"] == "gru" and code == 0 and out.startswith(f"{trained}/last.npz on"), err


def test_a_folder_means_best_npz_only_when_it_belongs_to_the_same_run(text, tmp_path, capsys):
    for name, cell in (("old", "gru"), ("new", "rnn")):
        code = seqnn_main(capsys, "train", text, *TINY, "--cell", cell, "--steps", "5", "--out", tmp_path / name)[0]
        assert code == 0
    new = tmp_path / "new"
    (new / "best.npz").write_bytes((tmp_path / "old" / "best.npz").read_bytes())   # an earlier run's best.npz
    code, out, err = seqnn_main(capsys, "evaluate", new)
    assert code == 0 and out.startswith(f"{new}/last.npz on"), err
    assert (f"seqnn evaluate: note: {new}/best.npz is from an earlier run in this folder than {new}/last.npz, so "
            f"{new}/last.npz is used") in err

    (new / "best.npz").write_bytes((new / "last.npz").read_bytes()[:2000])          # a damaged best.npz
    code, out, err = seqnn_main(capsys, "sample", new, "--length", "5")
    assert code == 0 and len(out) == 6
    assert re.search(rf"seqnn sample: note: path: {new}/best.npz is not a valid seqnn model file \(.*\); "
                     rf"{new}/last.npz is used instead", err), err


# --- divergence with finite numbers ----------------------------------------------------------------------------------
@pytest.mark.parametrize("eval_every, rule", [
    (100, r"step 20: the median training loss of the last 20 steps is [\d.,e+]+ nats/char"),
    (5, r"step 5: the validation loss is [\d.,e+]+ nats/char")])
def test_a_run_that_blows_up_with_finite_numbers_is_stopped(eval_every, rule, text, tmp_path, capsys):
    err = seqnn_fails(capsys, "train", text, *TINY, "--optimizer", "sgd", "--lr", "1e6", "--clip", "0", "--steps",
                      "200", "--eval-every", eval_every, "--out", tmp_path / "run")
    V = len(Vocabulary(read_text([text])))
    assert re.search(rf"seqnn train: error: training diverged at {rule}, more than twice what guessing uniformly "
                     rf"costs \(2 ln V = {2 * np.log(V):.2f}\); no checkpoint had been saved yet\. Try a smaller --lr "
                     r"\(now 1e\+06\) or --clip \(now off\)", err), err


def test_divergence_keeps_the_checkpoints_of_the_run(trained, capsys):
    before = {name: (trained / name).read_bytes() for name in ("last.npz", "best.npz")}
    err = seqnn_fails(capsys, "train", "--resume", trained, "--lr", "1e5", "--clip", "0", "--steps", "200")
    assert (f"{trained}/last.npz (step 10) and {trained}/best.npz (step 10) are unchanged. Try a smaller --lr "
            "(now 100000) or --clip (now off)") in err
    assert before == {name: (trained / name).read_bytes() for name in before}


def test_the_divergence_rule_never_fires_on_the_defaults_over_the_bundled_corpus(tmp_path, capsys):
    """A whole default run (20 epochs, 880 steps; recorded in tests/data) replayed through the rule, and a
    short default run for real."""
    from seqnn.app.run import Divergence
    rows = [line.split(",") for line in (DATA / "default-run.csv").read_text().splitlines()[1:]]
    watch = Divergence(72)
    for step, train_loss, val_loss in rows:
        assert watch.train_loss(float(train_loss)) is None, step
        assert not val_loss or watch.val_loss(float(val_loss)) is None, step
    assert len(rows) == 880 and max(float(r[1]) for r in rows[20:]) < watch.limit / 2
    code, out, err = seqnn_main(capsys, "train", "--steps", "22", "--eval-every", "22", "--eval-chars", "2000",
                                "--sample-chars", "0", "--out", tmp_path / "run")
    assert code == 0 and "done: step 22" in out, err


# --- sizes are checked before anything is allocated --------------------------------------------------------------
def test_a_model_larger_than_the_memory_is_refused_before_it_is_built(text, tmp_path, capsys):
    err = seqnn_fails(capsys, "train", text, "--hidden", "16384", "--layers", "64", "--batch", "2", "--seq-len", "5",
                      "--out", tmp_path / "run")
    assert re.search(r"seqnn train: error: this model needs about [\d.]+ TiB \(parameters [\d.]+ [GT]iB, gradients "
                     r"and optimizer state [\d.]+ [GT]iB, activations of one step [\d.]+ [MGK]iB, the optimizer's "
                     r"update [\d.]+ [GT]iB\), more than the [\d.]+ \w+ this machine has available; lower --hidden "
                     r"\(16384\) or --layers \(64\)", err), err
    assert not (tmp_path / "run").exists(), "a folder the refused run made is removed again"


def test_a_big_model_says_what_it_builds_before_it_builds_it(text, tmp_path, capsys, monkeypatch):
    from seqnn.app import runsetup
    monkeypatch.setattr(runsetup, "BIG", 10_000)            # bytes: this tiny model is "big" here
    code, out, err = seqnn_main(capsys, "train", text, *TINY, "--steps", "1", "--out", tmp_path / "run")
    assert code == 0, err
    first = out.splitlines()[0]
    assert re.fullmatch(r"building the model: 1 LSTM layer x 8, [\d,]+ parameters \([\d.]+ KiB in float32\); with "
                        r"their gradients, adam's state and a step's activations the run needs about [\d.]+ KiB: "
                        r"building it takes a while", first), first


# --- damaged checkpoints, failed writes ----------------------------------------------------------------------------
def _rewrite_record(path, change):
    model, vocab, training = seqnn.io.load_checkpoint(path)
    change(training)
    seqnn.io.save(model, path, vocab, training=training)


DAMAGE = {                                   # what a crafted or damaged training record holds -> what is said
    "an option missing": (lambda t: t["options"].pop("batch"), r"its options lack --batch, so it was not written by "
                          r"this version of seqnn train"),
    "an option of a wrong type": (lambda t: t["options"].update(hidden="8"), r"its option --hidden is '8', which "
                                  r"--hidden does not take: the training record is damaged"),
    "an option out of range": (lambda t: t["options"].update(dropout=1.5), r"its option --dropout is 1.5"),
    "options of another model": (lambda t: t["options"].update(layers=2), r"the training record is damaged \(its "
                                 r"model is not the one its options describe: num_layers differ\)"),
    "no run id": (lambda t: t.pop("run_id"), r"the training record is damaged \(run_id missing or not what seqnn "
                  r"train writes\)"),
    "a history cut short": (lambda t: t["log"].update(loss=t["log"]["loss"][:3]), r"the training record is damaged "
                            r"\(its history of steps is incomplete\)"),
    "a trainer state of another shape": (lambda t: t["trainer"].update(chunk=999), r"the training record is damaged "
                                         r"\(state\['chunk'\]: expected a chunk in \[0, 6\)"),
    "a best step of no kind": (lambda t: t.update(best_step="five"), r"the training record is damaged \(its best "
                               r"loss and step are \([\d.]+, 'five'\)\)"),
}


@pytest.mark.parametrize("what", DAMAGE)
def test_a_damaged_training_record_is_one_line_that_names_what_and_the_intact_checkpoint(what, trained, capsys):
    change, said = DAMAGE[what]
    _rewrite_record(trained / "last.npz", change)
    err = seqnn_fails(capsys, "train", "--resume", trained, "--steps", "14")
    assert re.search(rf"--resume: {re.escape(str(trained))}/last.npz: {said}", err), err
    assert err.rstrip().endswith(f"; {trained}/best.npz (step 10) is intact: continue from it with seqnn train "
                                 f"--resume {trained}/best.npz"), err


def test_resume_from_a_damaged_last_npz_says_best_npz_is_intact_and_how_to_continue_from_it(trained, capsys):
    last, best = trained / "last.npz", trained / "best.npz"
    last.write_bytes(last.read_bytes()[:1000])
    err = seqnn_fails(capsys, "train", "--resume", trained, "--steps", "20")
    assert re.search(rf"--resume: path: {last} is not a valid seqnn model file \(.*\); {best} \(step 10\) is intact: "
                     rf"continue from it with seqnn train --resume {best}$", err.strip()), err
    code, out, err = seqnn_main(capsys, "train", "--resume", best, "--steps", "15")
    assert code == 0 and f"resuming {best} at step 10" in out, err
    assert seqnn.io.load_checkpoint(last)[2]["trainer"]["steps"] == 15, "last.npz is whole again"


@pytest.mark.skipif(sys.platform == "win32", reason="RLIMIT_FSIZE is POSIX")
def test_a_failed_write_names_the_file_and_leaves_the_checkpoints_intact(trained):
    import resource
    before = {name: (trained / name).read_bytes() for name in ("last.npz", "best.npz")}

    def files_of_at_most_8_kib():                   # a real write error: the OS refuses to grow a file (EFBIG)
        resource.setrlimit(resource.RLIMIT_FSIZE, (8192, 8192))
    done = subprocess.run([sys.executable, "-m", "seqnn", "train", "--resume", str(trained), "--steps", "20"],
                          capture_output=True, text=True, timeout=120, preexec_fn=files_of_at_most_8_kib)
    assert done.returncode == 1 and "Traceback" not in done.stderr, done.stderr
    assert done.stderr == (f"seqnn train: error: cannot write {trained}/last.npz (File too large); {trained}/last.npz "
                           f"(step 10) and {trained}/best.npz (step 10) are unchanged. Free some space (or make the "
                           f"folder writable), then continue with: seqnn train --resume {trained}\n")
    assert before == {name: (trained / name).read_bytes() for name in before}
    assert not (trained / ".last.npz.seqnn-tmp").exists()


# --- best.npz and the run's record agree after any kill ---------------------------------------------------------------
KILLED_BETWEEN_THE_SAVES = """
import os, signal, sys
import seqnn.io
from seqnn.app.cli import main
save, saved = seqnn.io.save, []
def save_then_die(model, path, *args, **kwargs):       # a real SIGKILL after the second last.npz, before best.npz
    save(model, path, *args, **kwargs)
    saved.append(os.path.basename(path))
    if saved.count("last.npz") == 2:
        os.kill(os.getpid(), signal.SIGKILL)
seqnn.io.save = save_then_die
sys.exit(main(sys.argv[1:]))
"""


def test_a_sigkill_between_saving_last_and_best_leaves_a_run_that_knows_its_best(text, tmp_path, capsys):
    folder = tmp_path / "run"
    done = subprocess.run([sys.executable, "-c", KILLED_BETWEEN_THE_SAVES, "train", text, *TINY, "--steps", "20",
                           "--out", folder], capture_output=True, text=True, timeout=120)
    assert done.returncode == -signal.SIGKILL, done.stderr
    last, best = (seqnn.io.read_record(folder / name) for name in ("last.npz", "best.npz"))
    assert (last["trainer"]["steps"], last["best_step"], best["trainer"]["steps"]) == (10, 10, 5), \
        "killed between the saves of step 10: best.npz still holds step 5"

    code, out, err = seqnn_main(capsys, "sample", folder, "--length", "5")       # the best is in last.npz
    assert code == 0 and (f"{folder}/best.npz is not the best checkpoint {folder}/last.npz names (step 10; the run "
                          f"stopped between its two saves), so {folder}/last.npz is used") in err
    code, out, err = seqnn_main(capsys, "train", "--resume", folder, "--steps", "12")
    assert code == 0, err
    assert (f"note: {folder}/best.npz did not hold this run's best, step 10 (the run stopped between saving last.npz "
            "and best.npz); written again from last.npz, which holds it") in out
    best = seqnn.io.read_record(folder / "best.npz")
    last = seqnn.io.read_record(folder / "last.npz")
    assert best["trainer"]["steps"] == last["best_step"] and best["run_id"] == last["run_id"]


# --- a closed output (seqnn train ... | head) ------------------------------------------------------------------------
@pytest.mark.skipif(sys.platform == "win32", reason="POSIX pipes")
@pytest.mark.parametrize("lines", [2, 8], ids=["in-the-header", "while-training"])
def test_a_closed_output_stops_the_run_with_last_npz_saved_and_the_resume_it_names_works(lines, text, tmp_path,
                                                                                         capsys):
    """The reader of the output ends (``| head``): the run stops as a signal stops it, last.npz saved (at step 0
    too), says how to continue on the standard error and exits 141 (128 + SIGPIPE), never a disk error."""
    folder = tmp_path / "run"
    proc = seqnn_process("train", text, *TINY, "--hidden", "64", "--steps", "100000", "--out", folder)
    for _ in range(lines):
        proc.stdout.readline()
    proc.stdout.close()                                          # what head does once it has its lines
    err = proc.stderr.read()
    assert proc.wait(timeout=60) == 141, err
    said = re.fullmatch(rf"seqnn train: the output was closed \(its reader ended\); stopped at step (\d+) and saved "
                        rf"{folder}/last\.npz\. Continue with: seqnn train --resume {folder}\n", err)
    step = int(said.group(1))
    assert "Free some space" not in err and seqnn.io.read_record(folder / "last.npz")["trainer"]["steps"] == step
    code, out, err = seqnn_main(capsys, "train", "--resume", folder, "--steps", step + 2)
    assert code == 0 and f"at step {step} " in out, err


# --- nothing outside the run's folder, and nothing removed before the new run is sure to start ----------------------
@pytest.mark.skipif(sys.platform == "win32", reason="POSIX links")
@pytest.mark.parametrize("target", ["a file outside", "nothing"])
def test_a_lock_or_log_that_is_a_link_is_refused_and_nothing_outside_the_folder_is_written(target, text, trained,
                                                                                           tmp_path, capsys):
    outside = tmp_path / "outside.txt"
    if target == "a file outside":
        outside.write_text("mine\n")
    lock = trained / ".seqnn-lock"
    lock.unlink()
    lock.symlink_to(outside)
    err = seqnn_fails(capsys, "train", "--resume", trained, "--steps", "12")
    assert f"{lock}: is a link; the lock of a run must be a plain file in its folder (remove the link)" in err
    lock.unlink()
    (trained / "metrics.csv").unlink()
    (trained / "metrics.csv").symlink_to(outside)
    err = seqnn_fails(capsys, "train", "--resume", trained, "--steps", "12")
    assert f"{trained}/metrics.csv: is a link; seqnn writes only plain files (remove the link)" in err
    assert (outside.read_text() == "mine\n") if target == "a file outside" else not outside.exists()


@pytest.mark.parametrize("argv, message", [
    (["--lr-schedule", "cosine", "--minutes", "1"], "--lr-schedule cosine decays over the run's length"),
    (["--lr-decay", "0.5", "--steps", "3"], "--lr-decay shape the step schedule only, and this run's is constant"),
    (["--lr-decay-after", "2", "--lr-schedule", "cosine", "--steps", "3"], "--lr-decay-after shape the step schedule "
                                                                           "only, and this run's is cosine"),
    (["--steps", "3", "--hidden", "100000"], "--hidden: expected an integer in [1, 16,384]"),
])
def test_overwrite_removes_nothing_when_the_new_run_is_refused(argv, message, text, trained, capsys):
    before = {name: (trained / name).read_bytes() for name in ("last.npz", "best.npz", "metrics.csv")}
    code, _, err = seqnn_main(capsys, "train", text, *TINY, *argv, "--out", trained, "--overwrite")
    assert code in (1, 2) and message in err, err
    assert {name: (trained / name).read_bytes() for name in before} == before, "the old run is untouched"


def test_overwrite_and_resume_together_and_decay_without_its_schedule_on_resume_are_refused(trained, capsys):
    err = seqnn_fails(capsys, "train", "--resume", trained, "--steps", "12", "--overwrite")
    assert "--overwrite: a resumed run goes on in its own folder with its own model, so there is nothing to" in err
    err = seqnn_fails(capsys, "train", "--resume", trained, "--steps", "12", "--lr-decay", "0.5")
    assert "--lr-decay shape the step schedule only, and this run's is constant: add --lr-schedule step" in err


def test_a_resume_that_changes_the_learning_rates_says_so_in_one_line(text, tmp_path, capsys):
    folder = tmp_path / "run"
    assert seqnn_main(capsys, "train", text, *TINY, *COSINE, "--steps", "10", "--out", folder)[0] == 0
    code, out, err = seqnn_main(capsys, "train", "--resume", folder, "--steps", "30")
    assert code == 0, err
    assert re.search(r"^note: the learning-rate schedule changes: it was warmup 3 steps, then cosine to 0\.0005 at "
                     r"step 10, it is warmup 3 steps, then cosine to 0\.0005 at step 30; step 11 takes lr 0\.00\d+ "
                     r"\(it would have taken 0\.0005\)$", out, re.M), out
    assert seqnn_main(capsys, "train", text, *TINY, "--steps", "10", "--out", tmp_path / "constant")[0] == 0
    code, out, _ = seqnn_main(capsys, "train", "--resume", tmp_path / "constant", "--steps", "12")
    assert code == 0 and "schedule changes" not in out, "a longer run at a constant rate changes no rate"
    code, out, _ = seqnn_main(capsys, "train", "--resume", tmp_path / "constant", "--steps", "14", "--lr", "0.001")
    assert code == 0 and "note: the learning-rate schedule changes: it was constant, it is constant; step 13 takes " \
                         "lr 0.001 (it would have taken 0.005)" in out


# --- fine-tuning: a new run from a trained model's weights ----------------------------------------------------------
def test_init_from_starts_a_new_run_from_a_trained_model_on_another_text(trained, tmp_path, capsys):
    new_text = tmp_path / "new.txt"
    new_text.write_text(CORPUS_START[1000:1290])
    known = set(seqnn.io.load(trained / "best.npz")[1].tokens)
    new_text.write_text("".join(c for c in new_text.read_text() if c in known) * 2)
    code, out, err = seqnn_main(capsys, "train", new_text, "--init-from", trained, *[a for a in TINY if a not in (
        "--hidden", "8", "--layers", "1")], "--steps", "5", "--lr", "1e-9", "--out", tmp_path / "tuned")
    assert code == 0, err
    assert f"--init-from: the weights of {trained}; this run fine-tunes them" in out and "1 layer x 8 hidden" in out
    start, tuned = seqnn.io.load(trained / "best.npz")[0], seqnn.io.load(tmp_path / "tuned" / "last.npz")[0]
    for (name, a), b in zip(start.named_parameters(), tuned.parameters()):      # five steps of lr 1e-9: the start
        np.testing.assert_allclose(a.value, b.value, atol=1e-7, err_msg=name)
    record = seqnn.io.read_record(tmp_path / "tuned" / "last.npz")
    assert record["text"]["files"] == [str(new_text)] and record["trainer"]["steps"] == 5

    err = seqnn_fails(capsys, "train", new_text, "--init-from", trained, "--hidden", "16", "--out", tmp_path / "x")
    assert "--init-from: " in err and "holds a 1 x 8 LSTM (float32, dropout 0.0); --hidden 16 would make another " \
                                      "model: leave them out" in err
    new_text.write_text("Ünïcode ÿ\n" * 100)
    err = seqnn_fails(capsys, "train", new_text, "--init-from", trained, "--out", tmp_path / "y")
    assert re.search(r"TEXT: \d character\(s\) the model's vocabulary does not have: 'Ü', 'ï', 'ÿ' .*; a fine-tuned "
                     r"model reads only these: replace or remove the others in TEXT first", err), err
    err = seqnn_fails(capsys, "train", "--resume", trained, "--init-from", trained)
    assert "--init-from: a resumed run goes on in its own folder with its own model" in err


def test_ctrl_c_during_the_sample_of_a_validation_stops_it_at_once(text, tmp_path, capsys, monkeypatch):
    from seqnn.app import run
    stream = run.stream_text

    def stream_then_ctrl_c(*args, **kwargs):          # a real SIGINT once ten characters of the sample are out
        for k, c in enumerate(stream(*args, **kwargs)):
            if k == 10:
                os.kill(os.getpid(), signal.SIGINT)
            yield c
    monkeypatch.setattr(run, "stream_text", stream_then_ctrl_c)
    code, out, _ = seqnn_main(capsys, "train", text, *TINY, "--sample-chars", "10000", "--steps", "20", "--out",
                              tmp_path / "run")
    assert code == 130 and "Ctrl-C: interrupted at step 5; saved" in out
    sample = re.search(r"^Ctrl-C: stopping after this step .*\n((?:    .*\n)+)", out, re.M).group(1)
    assert len(sample.replace("\n    ", "\n")) <= 4 + 10 + 1, f"ten characters, not ten thousand: {sample!r}"
