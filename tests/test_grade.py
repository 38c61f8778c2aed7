"""seqnn exercises and seqnn grade: the solutions pass, the skeletons fail one line a part, and ten classic
mistakes (and a few more) are each caught and named for what they are."""

import re
import subprocess
import sys

import pytest

from seqnn.course import grade
from seqnn.course.exercises import EXERCISES, skeleton, solution

from conftest import seqnn_fails, seqnn_main

ALL_PARTS = 15


def graded(tmp_path, name, source, **kwargs):
    path = tmp_path / name
    path.write_text(source)
    return grade.grade(str(path), **kwargs)


def test_the_solutions_pass_and_the_untouched_skeletons_fail_one_line_a_part(tmp_path, capsys):
    code, out, err = seqnn_main(capsys, "exercises", tmp_path / "sol", "--solutions")
    assert code == 0 and "wrote 7 solutions" in out, err
    code, out, _ = seqnn_main(capsys, "grade", tmp_path / "sol")
    assert code == 0 and out.strip().endswith(f"score: {ALL_PARTS}/{ALL_PARTS} parts right (all of them)"), out

    assert seqnn_main(capsys, "exercises", tmp_path / "ex")[0] == 0
    code, out, err = seqnn_main(capsys, "grade", tmp_path / "ex")
    lines = out.strip().splitlines()
    assert code == 1 and "Traceback" not in out + err and len(lines) == ALL_PARTS + 1, out
    assert all(re.match(r"WRONG \w+\.py: .+: \w+: not written yet \(fill in its # TODO\)$", line)
               for line in lines[:-1]), out
    assert lines[-1] == f"score: 0/{ALL_PARTS} parts right"


def test_an_exercise_file_grades_itself(tmp_path):
    (tmp_path / "clip.py").write_text(solution("clip.py"))
    done = subprocess.run([sys.executable, "clip.py"], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and done.stdout.strip().splitlines() == [
        "ok    clip.py: clip by the global norm", "score: 1/1 parts right (all of them)"], done.stdout + done.stderr


def test_exercises_never_overwrite_a_students_work(tmp_path, capsys):
    (tmp_path / "bptt.py").write_text("# my work\n")
    err = seqnn_fails(capsys, "exercises", tmp_path)
    assert "already holds bptt.py; seqnn exercises never overwrites a file" in err
    assert (tmp_path / "bptt.py").read_text() == "# my work\n" and not (tmp_path / "clip.py").exists()


# Each classic mistake: the file, the line(s) of the solution changed, and what the grader must call it.
BUGS = {
    "gate order swapped": ("lstm_step.py", [("i = sigmoid(a[:, :H])", "i = sigmoid(a[:, H:2 * H])"),
                                            ("f = sigmoid(a[:, H:2 * H])", "f = sigmoid(a[:, :H])")],
                           r"lstm_step.py: forward: h is wrong .*the gates are read in the wrong order "
                           r"\(i and f swapped\)"),
    "tanh derivative 1 - h": ("rnn_step.py", [("da = dh * (1 - h ** 2)", "da = dh * (1 - h)")],
                              r"rnn_step.py: backward: .*the tanh derivative is written 1 - h; it is 1 - h\*\*2"),
    "carried dh not added": ("bptt.py", [("rnn_step_backward(dH[t] + dh_next, caches[t])",
                                          "rnn_step_backward(dH[t], caches[t])")],
                             r"bptt.py: rnn_backward: dX \(first at time step t = 0 of 5\) is wrong .*"
                             r"the gradient from the step after \(dh_next\) is not added"),
    "forget gate on c_t": ("lstm_step.py", [("    df = dc * c_prev\n", "    df = dc * c\n")],
                           r"lstm_step.py: backward: dx is wrong .*dW_xh\[f\] is wrong .*"
                           r"the forget gate's gradient uses c_t; it multiplies c_\(t-1\)"),
    "cell-state gradient not carried": ("bptt.py", [("lstm_step_backward(dH[t] + dh_next, dc_next, caches[t])",
                                                     "lstm_step_backward(dH[t] + dh_next, 0 * dc_next, caches[t])")],
                                        r"bptt.py: lstm_backward: .*the cell state's gradient is not carried"),
    "softmax without the max": ("softmax_loss.py", [("z = logits - logits.max(axis=1, keepdims=True)",
                                                     "z = logits")],
                                r"softmax_loss.py: softmax \(and large logits\): .*exp\(1000\) overflows; subtract "
                                r"each row's maximum"),
    "clipping each array": ("clip.py", [("clipped = [g * scale for g in grads]",
                                         "clipped = [g * min(1.0, max_norm / (np.linalg.norm(g) + 1e-6)) "
                                         "for g in grads]")],
                            r"clip.py: clip by the global norm: each array is clipped by its own norm"),
    "temperature after the softmax": ("sampling.py", [("z = logits / temperature", "z = logits"),
                                                      ("return p / p.sum()", "return p / p.sum() / temperature")],
                                      r"sampling.py: next_distribution .*: the temperature is applied after the "
                                      r"softmax"),
    "off by one in the time loop": ("bptt.py", [("for t in range(T):\n        h, cache = rnn_step_forward",
                                                 "for t in range(T - 1):\n        h, cache = rnn_step_forward")],
                                    r"bptt.py: rnn_forward: H has 4 time steps, expected 5: an off-by-one in the "
                                    r"time loop"),
    "bias gradient not summed": ("rnn_step.py", [("db_h = da.sum(axis=0)", "db_h = da")],
                                 r"rnn_step.py: backward: db_h has shape \(B, H\) = \(3, 5\), expected \(H,\) = "
                                 r"\(5,\): the bias gradient is not summed over the batch"),
    # and what a grader must say of any mistake: the gate, the time step
    "the output gate's derivative": ("lstm_step.py", [("do * o * (1 - o)", "do * o")],
                                     r"lstm_step.py: backward: dx is wrong .*dW_hh\[o\] is wrong .*db_h\[o\]"),
    "the first state at every step": ("bptt.py", [("rnn_step_forward(X[t], h, W_xh",
                                                   "rnn_step_forward(X[t], h0, W_xh")],
                                      r"bptt.py: rnn_forward: H \(first at time step t = 1 of 5\) is wrong"),
    "a sigmoid where the tanh goes": ("rnn_step.py", [("h = np.tanh(a)", "h = 1 / (1 + np.exp(-a))"),
                                                      ("da = dh * (1 - h ** 2)", "da = dh * h * (1 - h)")],
                                      r"rnn_step.py: backward: .*but it is the exact gradient of your forward, so "
                                      r"fix the forward first"),
    "the GRU's reset before the product": ("gru_step.py", [("n = np.tanh(ax[:, 2 * H:] + r * hn)",
                                                            "n = np.tanh(ax[:, 2 * H:] + (r * h_prev) @ W_hh[2 * H:].T "
                                                            "+ b_hn)")],
                                           r"gru_step.py: forward: h is wrong .*the reset gate multiplies h_prev "
                                           r"before the product \(Cho et al.'s form\)"),
    "the GRU's z and 1 - z swapped": ("gru_step.py", [("    h = (1 - z) * n + z * h_prev\n",
                                                       "    h = z * n + (1 - z) * h_prev\n")],
                                      r"gru_step.py: forward: .*z and 1 - z are swapped"),
    "the GRU's update gate derivative": ("gru_step.py", [("dar, daz = dr * r * (1 - r), dz * z * (1 - z)",
                                                          "dar, daz = dr * r * (1 - r), dz * z")],
                                         r"gru_step.py: backward: dx is wrong .*dW_hh\[z\] is wrong"),
    "bias gradient averaged": ("rnn_step.py", [("db_h = da.sum(axis=0)", "db_h = da.mean(axis=0)")],
                               r"rnn_step.py: backward: db_h is wrong .*averaged over the batch; it is the sum"),
}


@pytest.mark.parametrize("bug", BUGS)
def test_a_classic_mistake_is_caught_and_named(bug, tmp_path):
    name, changes, message = BUGS[bug]
    source = solution(name)
    for old, new in changes:
        assert source.count(old) == 1, f"{old!r} must be in {name} once"
        source = source.replace(old, new)
    lines, ok = graded(tmp_path, name, source)
    assert not ok
    wrong = [line for line in lines if line.startswith("WRONG")]
    assert any(re.search(message, line) for line in wrong), "\n".join(lines)
    if bug == "a sigmoid where the tanh goes":
        assert "the lecture's 'hello' step gives h = [[0.6434, 0.3917]], expected [[0.5299, -0.4136]]" in lines[0]
    assert all(re.search(r"; see docs/\S+\.md#\S+$", line) for line in wrong), "\n".join(lines)


@pytest.mark.parametrize("source, message", [
    ("def rnn_step_forward(x:\n", r"WRONG rnn_step.py: file: syntax error at line 1"),
    ("import numpy_that_is_not_there\n", r"WRONG rnn_step.py: file: cannot be imported: ModuleNotFoundError: No "
                                         r"module named 'numpy_that_is_not_there' \(line 1\)"),
    ("def rnn_step_forward(*a):\n    while True:\n        pass\n", r"WRONG rnn_step.py: file: did not finish in 3 s "
                                                                   r"\(an endless loop\?\)"),
    ("import os\nos._exit(3)\n", r"WRONG rnn_step.py: file: the process ended with status 3"),
    ("def rnn_step_forward(*a):\n    return 1 / 0\n\n\ndef rnn_step_backward(*a):\n    return ()\n",
     r"WRONG rnn_step.py: forward .*: raised ZeroDivisionError: division by zero \(line 2\)"),
])
def test_what_is_not_a_wrong_answer_is_one_line_too(source, message, tmp_path):
    lines, ok = graded(tmp_path, "rnn_step.py", source, time_limit=3)
    assert not ok and any(re.match(message, line) for line in lines), lines
    assert lines[-1].startswith("score: 0/")


def test_grade_refuses_what_is_not_an_exercise(tmp_path, capsys):
    assert "holds none of the exercises" in seqnn_fails(capsys, "grade", tmp_path)
    (tmp_path / "mine.py").write_text("x = 1\n")
    assert "expected a folder of exercises or one of rnn_step.py" in seqnn_fails(capsys, "grade",
                                                                                  tmp_path / "mine.py")


def test_every_skeleton_states_its_equations_and_shapes_and_keeps_the_lectures_names():
    for name in EXERCISES:
        text = skeleton(name)
        doc = text.split('"""')[1]
        assert "TODO" in text and "NotImplementedError" in text and "Run ``python " + name in doc
        assert "(B, H)" in doc or "(N, V)" in doc or "(V,)" in doc or "norm" in doc
    assert all(n in skeleton("lstm_step.py") for n in ("W_xh", "W_hh", "b_h", "i, f, g, o", "c_prev"))
    assert all(n in skeleton("gru_step.py") for n in ("W_xh", "W_hh", "b_h", "b_hn", "r, z, n"))
