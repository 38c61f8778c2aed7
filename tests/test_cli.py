"""The command line: the parser, sample and evaluate, and every bad input: one line, never a traceback."""

import os
import re
import shlex
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

import seqnn
from seqnn.app import cli
from seqnn.data import Vocabulary, read_text
from seqnn.models import CharLM, SequenceClassifier
from seqnn.train import evaluate

from conftest import CORPUS_START, TINY, seqnn_fails, seqnn_main


def test_sample_primes_then_continues_deterministically(trained, capsys):
    code, out, _ = seqnn_main(capsys, "sample", trained / "best.npz", "--prime", "Alice", "--length", "50",
                              "--seed", "1")
    assert code == 0 and out.startswith("Alice") and len(out) == len("Alice") + 50 + 1
    assert seqnn_main(capsys, "sample", trained, "--prime", "Alice", "--length", "50", "--seed", "1")[1] == out, (
        "a folder means its best.npz; the same seed gives the same text")
    assert seqnn_main(capsys, "sample", trained, "--prime", "Alice", "--length", "50", "--seed", "2")[1] != out

    model, vocab, _ = seqnn.io.load_checkpoint(trained / "best.npz")
    greedy = seqnn_main(capsys, "sample", trained, "--prime", "Al", "--length", "8", "--temperature", "0")[1]
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
    code, out, _ = seqnn_main(capsys, "sample", trained, "--prime-file", tmp_path / "prime.txt", "--length", "20",
                       "--top-k", "1")
    assert code == 0 and out.startswith("Alice was\n")
    greedy = seqnn_main(capsys, "sample", trained, "--prime-file", tmp_path / "prime.txt", "--length", "20",
                 "--temperature", "0")[1]
    assert out == greedy, "top-k 1 is greedy"


def test_num_samples_prints_n_separated_texts_reproducible_from_the_seed(trained, capsys):
    argv = ["sample", trained, "--prime", "Alice", "--length", "30", "--seed", "4"]
    code, out, _ = seqnn_main(capsys, *argv, "--num-samples", "3")
    assert code == 0 and seqnn_main(capsys, *argv, "--num-samples", "3")[1] == out, "the same seed, the same texts"
    parts = re.split(r"(?:^|\n)--- sample (\d) of 3 ---\n", out)
    assert parts[0] == "" and parts[1::2] == ["1", "2", "3"], out
    texts = [t.removesuffix("\n") for t in parts[2::2]]
    assert all(t.startswith("Alice") and len(t) == 35 for t in texts) and len(set(texts)) == 3, texts
    assert seqnn_main(capsys, *argv)[1] == texts[0] + "\n", "the first of N is the text of one sample"
    assert seqnn_main(capsys, *argv, "--num-samples", "3", "--seed", "5")[1] != out


def test_top_p_on_the_command_line(trained, capsys):
    argv = ["sample", trained, "--prime", "Alice", "--length", "30"]
    greedy = seqnn_main(capsys, *argv, "--temperature", "0")[1]
    assert seqnn_main(capsys, *argv, "--top-p", "1e-9")[1] == greedy, "the nucleus of one: greedy"
    assert seqnn_main(capsys, *argv, "--top-p", "1", "--seed", "2")[1] == seqnn_main(capsys, *argv, "--seed", "2")[1]
    for bad in ("0", "1.5", "nan"):
        err = seqnn_fails(capsys, *argv, "--top-p", bad, code=2)
        assert f"argument --top-p: expected a probability in (0, 1], got {bad}" in err


def test_the_closing_hint_primes_with_characters_the_model_knows_and_works(tmp_path, capsys):
    path = tmp_path / "lower.txt"
    path.write_text(CORPUS_START.lower().replace("t", "d"))   # no 'T', no 't': 'The' cannot be read
    code, out, _ = seqnn_main(capsys, "train", path, *TINY, "--steps", "5", "--out", tmp_path / "my run")
    hint = re.search(r"Try: (seqnn sample .*)$", out.strip()).group(1)
    argv = shlex.split(hint)[1:]                            # as a shell reads it: quoted for the space and the '
    assert argv == ["sample", str(tmp_path / "my run"), "--prime", "alice's"], hint     # the text's first word
    code, sampled, err = seqnn_main(capsys, *argv, "--length", "5")
    assert code == 0 and not err, err


def test_evaluate_reports_nats_perplexity_and_bits(trained, text, capsys):
    code, out, _ = seqnn_main(capsys, "evaluate", trained)
    assert code == 0 and "the validation split of" in out
    model, vocab, training = seqnn.io.load_checkpoint(trained / "best.npz")
    nats = float(re.search(r"loss (\d\.\d+) nats/char", out).group(1))
    assert nats == pytest.approx(training["best_loss"], abs=5e-5)
    perplexity = float(re.search(r"perplexity (\d+\.\d+)", out).group(1))
    bits = float(re.search(r"(\d\.\d+) bits/char", out).group(1))
    assert perplexity == pytest.approx(np.exp(nats), abs=2e-3) and bits == pytest.approx(nats / np.log(2), abs=2e-4)

    code, out, _ = seqnn_main(capsys, "evaluate", trained / "best.npz", text)
    whole = evaluate(model, vocab.encode(read_text([text])), 10, 4)          # the run's own --seq-len and --batch
    assert code == 0 and float(re.search(r"loss (\d\.\d+)", out).group(1)) == pytest.approx(whole, abs=5e-5)


@pytest.mark.parametrize("extra", [[], ["--eval-chars", "60"]])
def test_evaluate_reads_as_training_validated_with_the_runs_own_batch_and_characters(extra, tmp_path, capsys):
    path = tmp_path / "long.txt"
    path.write_text(CORPUS_START)                          # 200 characters held out: batch 4 and 32 read them apart
    argv = ["train", path, *TINY, "--steps", "10", "--out", tmp_path / "run", *extra]
    assert seqnn_main(capsys, *argv)[0] == 0
    best = seqnn.io.load_checkpoint(tmp_path / "run" / "best.npz")[2]["best_loss"]

    def nats(*more):
        code, out, err = seqnn_main(capsys, "evaluate", tmp_path / "run", *more)
        assert code == 0, err
        return float(re.search(r"loss (\d\.\d+) nats/char", out).group(1)), out

    own, out = nats()
    assert own == pytest.approx(best, abs=1e-4)
    assert ("its first 60 characters (--eval-chars)" in out) == bool(extra)
    assert abs(nats("--batch", "32")[0] - best) > 1e-3, "--batch still overrides, and here it matters"
    if extra:
        assert abs(nats("--eval-chars", "0")[0] - best) > 1e-3, "--eval-chars 0: the whole validation text"


@pytest.mark.parametrize("kind, message", [
    ("missing", r"seqnn train: error: .*nothing.txt: no such file"),
    ("empty", r"seqnn train: error: .*empty.txt: the file is empty"),
    ("binary", r"seqnn train: error: .*binary.bin: looks binary \(a NUL byte at offset 2\)"),
    ("latin1", r"seqnn train: error: .*latin1.txt: is not UTF-8 text \(byte 0xe9 at offset 3\)"),
    ("folder", r"seqnn train: error: .*: is a folder, expected a text file"),
    ("fifo", r"seqnn train: error: .*pipe: is not a regular file \(a pipe, device or socket\); expected a text file"),
    ("short", r"seqnn train: error: the text is too short: 40 characters leave 36 for training after --val-fraction "
              r"0.1, and one batch of --batch 4 x \(--seq-len 10 \+ 1\) needs 44"),
])
def test_train_refuses_bad_text(kind, message, tmp_path, capsys):
    path = tmp_path / {"missing": "nothing.txt", "empty": "empty.txt", "binary": "binary.bin",
                       "latin1": "latin1.txt", "folder": "folder", "fifo": "pipe", "short": "short.txt"}[kind]
    if kind == "empty":
        path.write_bytes(b"")
    elif kind == "binary":
        path.write_bytes(b"PK\x00\x03\x04" * 50)
    elif kind == "latin1":
        path.write_bytes("caf\xe9 au lait\n".encode("latin-1") * 30)
    elif kind == "folder":
        path.mkdir()
    elif kind == "fifo":                              # reading it would wait for a writer forever
        if not hasattr(os, "mkfifo"):
            pytest.skip("named pipes are POSIX")
        os.mkfifo(path)
    elif kind == "short":
        path.write_text("x" * 39)
    assert re.match(message, seqnn_fails(capsys, "train", path, *TINY, "--steps", "2", "--out", tmp_path / "run"))
    assert not (tmp_path / "run").exists(), "nothing is left behind"


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
    (["--lr-schedule", "linear"], "argument --lr-schedule: invalid choice: 'linear'"),
    (["--lr-decay", "0"], r"argument --lr-decay: expected a factor in \(0, 1\], got 0"),
    (["--warmup", "-5"], "argument --warmup: expected an integer >= 0, got -5"),
    (["--threads", "0"], 'argument --threads: expected "auto" or a positive integer, got 0'),
    (["--threads", "many"], 'argument --threads: expected "auto" or a positive integer, got \'many\''),
    (["--sample-chars", "20000"], r"argument --sample-chars: expected an integer in \[0, 10,000\] \(a sample is "
                                  r"shown at every validation; for a longer text: seqnn sample RUN --length N\)"),
])
def test_train_refuses_nonsensical_options(argv, message, text, tmp_path, capsys):
    err = seqnn_fails(capsys, "train", text, *argv, code=2)
    assert re.search("seqnn train: error: " + message, err), err


def test_sample_and_evaluate_refuse_bad_input(trained, text, tmp_path, capsys):
    err = seqnn_fails(capsys, "sample", trained, "--prime", "Zoë")
    assert re.search(r"seqnn sample: error: --prime: 2 character\(s\) the model's vocabulary does not have: "
                     r"'Z', 'ë' \(it knows \d+:", err)
    assert "argument --temperature: expected a number >= 0, got -1" in seqnn_fails(
        capsys, "sample", trained, "--temperature", "-1", code=2)
    assert "--top-k: expected at most" in seqnn_fails(capsys, "sample", trained, "--top-k", "500")
    assert "argument --length: expected a positive integer" in seqnn_fails(capsys, "sample", trained, "--length", "0",
                                                                     code=2)
    assert "--prime: expected at least one character" in seqnn_fails(capsys, "sample", trained, "--prime", "")
    assert f"{tmp_path}/none.npz: no such checkpoint or run folder" in seqnn_fails(capsys, "sample",
                                                                                    tmp_path / "none.npz")

    broken = tmp_path / "broken.npz"
    broken.write_bytes((trained / "best.npz").read_bytes()[:3000])
    assert re.search(r"seqnn sample: error: path: .*broken.npz is not a valid seqnn model file \(",
                     seqnn_fails(capsys, "sample", broken))
    classifier = tmp_path / "classifier.npz"
    seqnn.io.save(SequenceClassifier(5, 2, 4, rng=0), classifier, Vocabulary("abcde"))
    assert "classifier.npz: holds a SequenceClassifier; expected a CharLM (a model from seqnn train)" in seqnn_fails(
        capsys, "evaluate", classifier)

    other = tmp_path / "other.txt"
    other.write_text("Zürich\n")
    assert "TEXT: 2 character(s) the model's vocabulary does not have: 'Z', 'ü'" in seqnn_fails(
        capsys, "evaluate", trained, other)


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
    code, out, _ = seqnn_main(capsys, "sample", tmp_path / "m.npz", "--length", "12")
    assert code == 0 and len(out) == 13 and set(out[:-1]) <= set("abc")


def test_evaluate_without_text_refuses_a_training_text_that_has_changed(trained, text, capsys):
    with open(text, "a") as f:
        f.write("a line added after training\n")
    err = seqnn_fails(capsys, "evaluate", trained)
    assert f"TEXT (none given): the text ({text}) is not the text this run trained on (291 characters" in err


# --- never a traceback: Ctrl-C anywhere, out of memory, an unexpected error -------------------------------------------
def test_ctrl_c_while_the_library_loads_is_one_line():
    """A real SIGINT at the moment numpy is imported (inside main: `import seqnn` loads nothing heavy)."""
    program = ("import builtins, os, signal, sys\n"
               "real = builtins.__import__\n"
               "def importing(name, *args, **kwargs):\n"
               "    if name == 'numpy':\n"
               "        os.kill(os.getpid(), signal.SIGINT)\n"
               "    return real(name, *args, **kwargs)\n"
               "builtins.__import__ = importing\n"
               "from seqnn.__main__ import run\n"
               "sys.argv = ['seqnn', 'evaluate', 'run']\n"
               "run()\n")
    done = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, timeout=60)
    assert done.returncode == 130 and done.stderr == "seqnn evaluate: interrupted (Ctrl-C)\n", done.stderr


def test_ctrl_c_while_reading_the_text_is_one_line(text, tmp_path, capsys, monkeypatch):
    import os
    import signal

    from seqnn.app import runsetup
    real_read = runsetup.read_text

    def read_then_ctrl_c(paths):                    # a real SIGINT while the text is read
        os.kill(os.getpid(), signal.SIGINT)
        return real_read(paths)
    monkeypatch.setattr(runsetup, "read_text", read_then_ctrl_c)
    assert seqnn_fails(capsys, "train", text, *TINY, "--out", tmp_path / "run", code=130) == (
        "seqnn train: interrupted (Ctrl-C)\n")
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize("error, message", [
    (MemoryError(), "seqnn train: error: out of memory; lower --hidden, --layers, --batch or --seq-len, or close "
                    "other programs\n"),
    (ZeroDivisionError("float division by zero"), "seqnn train: internal error: ZeroDivisionError: float division by "
                                                  "zero (a bug in seqnn; run it again with --debug for the whole "
                                                  "traceback)\n")])
def test_out_of_memory_and_an_unexpected_error_are_one_line(error, message, text, tmp_path, capsys, monkeypatch):
    from seqnn.app import runsetup

    def failing(*args, **kwargs):
        raise error
    monkeypatch.setattr(runsetup, "StreamTrainer", failing)
    assert seqnn_fails(capsys, "train", text, *TINY, "--out", tmp_path / "run") == message
    if isinstance(error, ZeroDivisionError):
        with pytest.raises(ZeroDivisionError):       # --debug: the whole traceback
            seqnn_main(capsys, "train", text, *TINY, "--out", tmp_path / "run", "--debug")


# --- sample streams ------------------------------------------------------------------------------------------------
@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
def test_sample_prints_as_it_generates_and_ctrl_c_ends_the_line(trained):
    import signal

    from conftest import seqnn_process
    proc = seqnn_process("sample", trained, "--prime", "Al\n", "--length", 10 ** 8, "--temperature", "3")
    assert proc.stdout.readline() == "Al\n"
    generated = proc.stdout.readline()                # 10^8 characters would take hours: these come as they are made
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130 and err == "seqnn sample: interrupted (Ctrl-C)\n", err
    assert generated.endswith("\n") and out.endswith("\n")


def test_sample_with_a_temperature_so_small_it_underflows_is_greedy(trained, capsys):
    greedy = seqnn_main(capsys, "sample", trained, "--prime", "Al", "--length", "30", "--temperature", "0")[1]
    code, out, err = seqnn_main(capsys, "sample", trained, "--prime", "Al", "--length", "30", "--temperature",
                                "1e-300")
    assert code == 0 and out == greedy, err


# --- every write error names the file: a full disk, made with a limit on the size of a file (RLIMIT_FSIZE) ---------
def _limited(limit: int):
    """For a child process: files may grow to ``limit`` bytes; a write past it fails (EFBIG) instead of a signal."""
    def limit_files():
        import resource
        import signal
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    return limit_files


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX resource limits")
def test_a_full_disk_is_one_line_that_names_the_file_and_leaves_no_part_of_one(trained, text, tmp_path):
    def seqnn(*argv, limit=4096, stdout=subprocess.PIPE):
        return subprocess.run([sys.executable, "-m", "seqnn", *map(str, argv)], stdout=stdout, stderr=subprocess.PIPE,
                              text=True, timeout=120, preexec_fn=_limited(limit))

    done = seqnn("train", text, *TINY, "--steps", "6", "--out", tmp_path / "new")
    assert done.returncode == 1 and done.stderr.count("\n") == 1, done.stderr
    assert f"cannot write {tmp_path / 'new'}/last.npz (File too large); no checkpoint had been saved yet" in done.stderr
    assert not any(name.endswith("seqnn-tmp") for name in os.listdir(tmp_path / "new"))

    done = seqnn("exercises", tmp_path / "ex", limit=3000)                   # bptt.py, the fifth, does not fit
    assert done.returncode == 1 and done.stderr.endswith(f"error: {tmp_path / 'ex'}/bptt.py: File too large\n")
    assert os.listdir(tmp_path / "ex") == [], "all or none: nothing blocks the rerun"
    assert seqnn("exercises", tmp_path / "ex", limit=10 ** 6).returncode == 0

    done = seqnn("inspect", trained, "--out", tmp_path / "page", limit=20_000)
    assert done.returncode == 1 and f"error: {tmp_path / 'page'}/" in done.stderr and "File too large" in done.stderr

    with open(tmp_path / "sample.txt", "w") as out:
        done = seqnn("sample", trained, "--length", "5000", stdout=out, limit=1000)
    assert done.returncode == 1 and done.stderr.endswith("error: the standard output: File too large\n"), done.stderr


def test_text_files_may_stand_anywhere_among_the_options(text, tmp_path, capsys):
    second = tmp_path / "more.txt"
    second.write_text(CORPUS_START[700:990])
    code, out, err = seqnn_main(capsys, "train", text, *TINY, "--steps", "2", second, "--out", tmp_path / "run")
    assert code == 0 and f"text: {text}, {second}:" in out, err
    code, out, err = seqnn_main(capsys, "evaluate", "--batch", "2", tmp_path / "run", text)
    assert code == 0 and f"on {text} (" in out, err


def test_a_sample_that_says_nothing_says_why_and_what_to_try(tmp_path, capsys):
    vocab = Vocabulary("The cat.\n")
    model = CharLM(len(vocab), 4, rng=0)
    model.out.b_y = np.where(np.array(vocab.tokens) == " ", 50.0, 0.0)        # it always expects a space
    seqnn.io.save(model, tmp_path / "spaces.npz", vocab)
    code, out, err = seqnn_main(capsys, "sample", tmp_path / "spaces.npz", "--length", "40", "--temperature", "0.5")
    assert code == 0 and out == " " * 40 + "\n"
    assert ("seqnn sample: note: the text is only white space: at --temperature 0.5 the model keeps taking its "
            "likeliest next character; start it from text it knows (--prime The), or raise --temperature") in err
    code, out, err = seqnn_main(capsys, "sample", tmp_path / "spaces.npz", "--length", "10")
    assert code == 0 and err == "", "a short text is not judged"


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
def test_ctrl_c_at_any_moment_of_start_up_is_one_line_and_exit_130(text, tmp_path):
    """Real SIGINTs at random moments of the first second of `seqnn train` (start-up, reading, building, the first
    steps): never a traceback, at most one line on the standard error, exit 130 (or 0 for a run that had ended).
    A signal before Python itself has started ends the process as the operating system does (status -2, that is
    130 in a shell), with nothing to print. One that lands while the interpreter is still starting (its `site`
    module running the .pth files, `runpy` finding the package for `-m`: on a loaded machine, milliseconds after
    the start) is Python's own, before the first line of seqnn runs: a KeyboardInterrupt whose traceback holds
    no frame of seqnn's."""
    delays = np.random.default_rng(0).uniform(0.0, 1.0, 16) ** 2         # more of them in the first 100 ms
    for k, delay in enumerate(delays):
        proc = subprocess.Popen([sys.executable, "-m", "seqnn", "train", text, *TINY, "--steps", "3", "--out",
                                 str(tmp_path / f"run{k}")], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        time.sleep(delay)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
        if proc.returncode in (1, -signal.SIGINT) and err.rstrip().endswith("KeyboardInterrupt") and \
                "src/seqnn/" not in err:                       # Python's own start-up, before seqnn's first line
            continue
        assert "Traceback" not in err and err.count("\n") <= 1, (delay, err)
        assert proc.returncode in (130, -signal.SIGINT) or (proc.returncode == 0 and "done: step 3" in out), \
            (delay, proc.returncode, err)
        assert proc.returncode != -signal.SIGINT or err == "", (delay, err)


def test_a_clean_up_that_fails_because_of_ctrl_c_is_still_ctrl_c(monkeypatch, capsys):
    """The moment the random SIGINTs above once hit: argparse's intermixed parsing cut short mid-way fails in its
    `finally` (AttributeError: 'save_nargs'), with the KeyboardInterrupt as its context. It is a Ctrl-C: exit
    130, one line, not an internal error."""
    class Parser:
        def parse_args(self, argv):
            try:
                raise KeyboardInterrupt
            finally:
                raise AttributeError("'_StoreAction' object has no attribute 'save_nargs'")

    monkeypatch.setattr(cli, "build_parser", Parser)
    assert cli.main(["train"]) == 130
    out, err = capsys.readouterr()
    assert err == "seqnn: interrupted (Ctrl-C)\n" and out == ""
