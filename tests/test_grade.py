"""seqnn exercises and seqnn grade: the solutions pass, the skeletons fail one line a part, every mistake of the
table is caught and named for what it is (where the error is: the gate, the time step, the input changed in place,
the dtype), right answers written otherwise pass, and a file that crashes still scores over every part.

What the grader protects itself from (a student's file that forges a report, kills the grader, writes outside
its folder, ...) and the class mode are in test_grade_walls.py."""

import re
import subprocess
import sys

import numpy as np
import pytest

from seqnn.course import grade
from seqnn.course.exercises import EXERCISES, skeleton, solution

from conftest import seqnn_fails, seqnn_main

ALL_PARTS = 33


def graded(tmp_path, name, source, **kwargs):
    path = tmp_path / name
    path.write_text(source)
    return grade.grade(str(path), **kwargs)


def test_the_solutions_pass_and_the_untouched_skeletons_fail_one_line_a_part(tmp_path, capsys):
    code, out, err = seqnn_main(capsys, "exercises", tmp_path / "sol", "--solutions")
    assert code == 0 and "wrote 15 solutions" in out, err
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


# Each mistake: the file, the line(s) of the solution changed, and what the grader must call it. The first ones
# are the classic mistakes; then what issue 28 found the grader missed or misnamed.
BPTT_RNN_SUM = ("dX[t], dh_next, dWx, dWh, db = rnn_step_backward(dH[t] + dh_next, caches[t])   # h_t feeds step "
                "t + 1\n        dW_xh, dW_hh, db_h = dW_xh + dWx, dW_hh + dWh, db_h + db")
BUGS = {
    "gate order swapped": ("lstm_step.py", [("i = sigmoid(a[:, :H])", "i = sigmoid(a[:, H:2 * H])"),
                                            ("f = sigmoid(a[:, H:2 * H])", "f = sigmoid(a[:, :H])")],
                           r"lstm_step.py: forward: i is wrong .*the gates are read in the wrong order "
                           r"\(i and f swapped\)"),
    "tanh derivative 1 - h": ("rnn_step.py", [("da = dh * (1 - h ** 2)", "da = dh * (1 - h)")],
                              r"rnn_step.py: backward: .*the tanh derivative is written 1 - h; it is 1 - h\*\*2"),
    "carried dh not added": ("bptt.py", [("rnn_step_backward(dH[t] + dh_next, caches[t])",
                                          "rnn_step_backward(dH[t], caches[t])")],
                             r"bptt.py: rnn_backward: dX \(at time steps t <= 3: the error enters at t = 3, the last "
                             r"wrong step.*the gradient from the step after \(dh_next\) is not added"),
    "forget gate on c_t": ("lstm_step.py", [("    df = dc * c_prev ", "    df = dc * c ")],
                           r"lstm_step.py: backward: dx is wrong .*dW_xh\[f\] is wrong .*"
                           r"the forget gate's gradient uses c_t; it multiplies c_\(t-1\)"),
    "cell-state gradient not carried": ("bptt.py", [("lstm_step_backward(dH[t] + dh_next, dc_next, caches[t])",
                                                     "lstm_step_backward(dH[t] + dh_next, 0 * dc_next, caches[t])")],
                                        r"bptt.py: lstm_backward: .*the cell state's gradient is not carried"),
    "softmax without the max": ("softmax_loss.py", [("z = logits - logits.max(axis=1, keepdims=True)\n    e",
                                                     "z = logits\n    e")],
                                r"softmax_loss.py: softmax \(and large logits\): .*exp\(1000\) overflows; subtract "
                                r"each row's maximum"),
    "clipping each array": ("clip.py", [("clipped = [g * scale for g in grads]",
                                         "clipped = [g * min(1.0, max_norm / (np.linalg.norm(g) + 1e-6)) "
                                         "for g in grads]")],
                            r"clip.py: clip by the global norm: .*each array is clipped by its own norm"),
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
                                           r"gru_step.py: forward: .*h is wrong .*the reset gate multiplies h_prev "
                                           r"before the product \(Cho et al.'s form\)"),
    "the GRU's z and 1 - z swapped": ("gru_step.py", [("    h = (1 - z) * n + z * h_prev\n",
                                                       "    h = z * n + (1 - z) * h_prev\n")],
                                      r"gru_step.py: forward: .*z and 1 - z are swapped"),
    "the GRU's update gate derivative": ("gru_step.py", [("dar, daz = dr * r * (1 - r), dz * z * (1 - z)",
                                                          "dar, daz = dr * r * (1 - r), dz * z")],
                                         r"gru_step.py: backward: dx is wrong .*dW_hh\[z\] is wrong"),
    "bias gradient averaged": ("rnn_step.py", [("db_h = da.sum(axis=0)", "db_h = da.mean(axis=0)")],
                               r"rnn_step.py: backward: db_h is wrong .*averaged over the batch; it is the sum"),
    # inputs changed in place: named as such, not blamed on a part that is right
    "dh changed in place": ("rnn_step.py", [("    da = dh * (1 - h ** 2) ", "    dh *= 1 - h ** 2\n    da = dh ")],
                            r"rnn_step.py: backward: your rnn_step_backward changed dh in place"),
    "logits shifted in place": ("softmax_loss.py", [("z = logits - logits.max(axis=1, keepdims=True)\n    e",
                                                     "logits -= logits.max(axis=1, keepdims=True)\n    z = logits\n"
                                                     "    e")],
                                r"softmax_loss.py: softmax \(and large logits\): your softmax changed logits in place"),
    "logits divided in place": ("sampling.py", [("z = logits / temperature", "logits /= temperature\n    z = logits")],
                                r"sampling.py: next_distribution .*: your next_distribution changed logits in place"),
    # backward loops: the step where the error enters
    "a carry scaled": ("bptt.py", [("rnn_step_backward(dH[t] + dh_next, caches[t])",
                                    "rnn_step_backward(dH[t] + 0.5 * dh_next, caches[t])")],
                       r"bptt.py: rnn_backward: dX \(at time steps t <= 3: the error enters at t = 3"),
    # the named mistakes, in every exercise where they can happen
    "dh carry dropped in the LSTM loop": ("bptt.py", [("lstm_step_backward(dH[t] + dh_next, dc_next, caches[t])",
                                                       "lstm_step_backward(dH[t], dc_next, caches[t])")],
                                          r"bptt.py: lstm_backward: .*the gradient from the step after \(dh_next\) "
                                          r"is not added"),
    "both carries dropped": ("bptt.py", [("lstm_step_backward(dH[t] + dh_next, dc_next, caches[t])",
                                          "lstm_step_backward(dH[t], 0 * dc_next, caches[t])")],
                             r"bptt.py: lstm_backward: .*neither dh_next nor dc_next is carried"),
    "bias averaged in the LSTM step": ("lstm_step.py", [("db_h = da.sum(axis=0)", "db_h = da.mean(axis=0)")],
                                       r"lstm_step.py: backward: db_h is wrong .*averaged over the batch"),
    "biases averaged in the GRU step": ("gru_step.py", [("db_h = da_x.sum(axis=0)", "db_h = da_x.mean(axis=0)"),
                                                        ("db_hn = dhn.sum(axis=0)", "db_hn = dhn.mean(axis=0)")],
                                        r"gru_step.py: backward: db_h is wrong .*db_hn is wrong .*averaged over the "
                                        r"batch"),
    "bias averaged in BPTT": ("bptt.py", [(BPTT_RNN_SUM, BPTT_RNN_SUM.replace("db_h + db", "db_h + db / 3"))],
                              r"bptt.py: rnn_backward: db_h is wrong .*averaged over the batch"),
    "the weights of one step": ("bptt.py", [(BPTT_RNN_SUM, BPTT_RNN_SUM.replace("dW_xh + dWx, dW_hh + dWh, db_h + db",
                                                                                "dWx, dWh, db"))],
                                r"bptt.py: rnn_backward: dW_xh is wrong .*hold the gradient of one step only"),
    "dc without its path through h": ("lstm_step.py", [("    dc = dc + dh * o * (1 - tanh_c ** 2) ", "    dc = dc ")],
                                      r"lstm_step.py: backward: .*misses its path through h"),
    "dh_prev through W_hh transposed": ("rnn_step.py", [("dh_prev = da @ W_hh", "dh_prev = da @ W_hh.T")],
                                        r"rnn_step.py: backward: dh_prev is wrong .*dh_prev multiplies by W_hh\^T"),
    "clipping by value": ("clip.py", [("clipped = [g * scale for g in grads]",
                                       "clipped = [np.clip(g, -max_norm, max_norm) for g in grads]")],
                          r"clip.py: clip by the global norm: .*clipping by value"),
    "the norm without its square root": ("clip.py", [("norm = float(np.sqrt(sum(", "norm = float((sum(")],
                                         r"clip.py: clip by the global norm: .*the norm is the sum of squares"),
    "a small gradient scaled up": ("clip.py", [("if norm > max_norm else 1.0", "")],
                                   r"clip.py: clip by the global norm: a gradient of norm 0.22 .*is scaled up"),
    "the global maximum's shift": ("softmax_loss.py", [("z = logits - logits.max(axis=1, keepdims=True)\n    e",
                                                        "z = logits - logits.max()\n    e")],
                                   r"softmax_loss.py: softmax \(and large logits\): .*holds NaN or inf: every row is "
                                   r"shifted by the maximum of the whole array"),
    "the loss as the log of the softmax": ("softmax_loss.py", [
        ("log_p = z - np.log(np.exp(z).sum(axis=1, keepdims=True)) ",
         "log_p = np.log(np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)) ")],
        r"softmax_loss.py: cross-entropy .*: loss of logits \[\[1000, 0\], \[0, 3\]\], targets \[1, 1\] holds NaN "
        r"or inf: the loss takes log\(softmax\(logits\)\)"),
    "an ignored rng": ("sampling.py", [("int(rng.choice(len(logits)", "int(np.random.choice(len(logits)")],
                       r"sampling.py: sample: the same seed gave other draws"),
    "a generator made inside": ("sampling.py", [("int(rng.choice(len(logits)",
                                                 "int(np.random.default_rng(0).choice(len(logits)")],
                                r"sampling.py: sample: every seed gives the same draws"),
    "the GRU's direct path": ("gru_step.py", [("dh_prev = dh * z + da_h @ W_hh", "dh_prev = da_h @ W_hh")],
                              r"gru_step.py: backward: dh_prev is wrong .*misses its direct path"),
    "a weight's gradient transposed": ("rnn_step.py", [("dW_xh = da.T @ x", "dW_xh = x.T @ da")],
                                       r"rnn_step.py: backward: dW_xh is transposed: shape \(4, 5\), expected "
                                       r"\(5, 4\) \(the values are right\)"),
    "the backward loop run forwards": ("bptt.py", [("for t in reversed(range(T)):\n        dX[t], dh_next, dWx",
                                                    "for t in range(T):\n        dX[t], dh_next, dWx")],
                                       r"bptt.py: rnn_backward: .*the backward loop runs forwards in time"),
    "top-k off by one": ("sampling.py", [("kth = np.sort(z)[-top_k]", "kth = np.sort(z)[-top_k + 1]")],
                         r"sampling.py: next_distribution .*: top-k keeps 2 logits, not 3: an off-by-one"),
    "the softmax over the wrong axis": ("softmax_loss.py", [("return e / e.sum(axis=1, keepdims=True)",
                                                             "return e / e.sum(axis=0, keepdims=True)")],
                                        r"softmax_loss.py: softmax .*normalised over the wrong axis"),
    # forward parts, gate by gate
    "the LSTM's forget gate": ("lstm_step.py", [("f = sigmoid(a[:, H:2 * H])", "f = sigmoid(a[:, H:2 * H] + 1)")],
                               r"lstm_step.py: forward: f is wrong \(relative error [\d.e-]+\); c is wrong .*h is "
                               r"wrong .*: look at f, computed from rows H:2H \(the f block\) of W_xh, W_hh and b_h"),
    "the LSTM's output": ("lstm_step.py", [("h = o * np.tanh(c)", "h = o * c")],
                          r"lstm_step.py: forward: h is wrong \(relative error [\d.e-]+\): look at h = o \* "
                          r"tanh\(c\)"),
    "the GRU's update gate": ("gru_step.py", [("z = sigmoid(ax[:, H:2 * H] + ah[:, H:2 * H])",
                                               "z = sigmoid(ax[:, H:2 * H])")],
                              r"gru_step.py: forward: z is wrong .*h is wrong .*: look at z, computed from rows H:2H "
                              r"\(the z block\)"),
    # the dtype, named, and held to its own tolerance
    "a float32 answer that is wrong": ("rnn_step.py", [("h = np.tanh(a)\n",
                                                        "h = np.tanh(a + 0.01).astype(np.float32)\n")],
                                       r"rnn_step.py: forward .*: the lecture's 'hello' step gives h|h \(float32\) is "
                                       r"wrong \(relative error [\d.e-]+; float32 answers are held to rtol 0.0001\)"),
    # issue 29's exercises: each named mistake
    "an embedding that drops repeats": ("embedding.py", [("np.add.at(dW_embed, tokens, dX)",
                                                          "dW_embed[tokens] += dX")],
                                        r"embedding.py: embedding_backward .*dW_embed is wrong .*one occurrence's "
                                        r"gradient only: dW_embed\[tokens\] \+= dX"),
    "a loss that ignores the mask": ("output_layer.py", [("    dY *= mask[:, :, None] / kept\n",
                                                          "    dY /= mask.size\n"),
                                                         ("loss = -(log_p[t, b, targets] * mask).sum() / kept",
                                                          "loss = -log_p[t, b, targets].mean()")],
                                     r"sequence_loss .*: the loss is the mean over every position, padding included"),
    "a masked loss over T * B": ("output_layer.py", [("kept = mask.sum()", "kept = mask.size")],
                                 r"divided by T \* B, every position"),
    "a masked loss over B": ("output_layer.py", [("kept = mask.sum()", "kept = mask.shape[1]")],
                             r"divided by the batch size B \(summed over time, CS231n's convention\)"),
    "the output weights of one step": ("output_layer.py", [
        ('dW_hy = np.einsum("tbv,tbh->vh", dY, H)\n    db_y = dY.sum(axis=(0, 1))',
         "dW_hy = dY[-1].T @ H[-1]\n    db_y = dY[-1].sum(axis=0)")],
        r"output_backward: dW_hy is wrong .*db_y is wrong .*one step's gradient only"),
    "a one-sided difference": ("grad_check.py", [("x.flat[k] = old - eps\n        minus = f(x)",
                                                  "x.flat[k] = old\n        minus = f(x)"),
                                                 ("(plus - minus) / (2 * eps)", "(plus - minus) / eps")],
                               r"numerical_gradient: .*the difference is one-sided"),
    "a difference over eps": ("grad_check.py", [("(plus - minus) / (2 * eps)", "(plus - minus) / eps")],
                              r"numerical_gradient: .*divided by eps; its two points are 2 eps apart"),
    "x not put back": ("grad_check.py", [("        x.flat[k] = old\n        grad", "        grad")],
                       r"numerical_gradient: your numerical_gradient changed x in place"),
    "an absolute error": ("grad_check.py", [(" / np.maximum(np.abs(analytic) + np.abs(numeric), 1e-8)", "")],
                          r"relative_error: .*the error is absolute"),
    "a mean error": ("grad_check.py", [("return float(error.max())", "return float(error.mean())")],
                     r"relative_error: .*the error is the mean over the entries"),
    "no floor under the error": ("grad_check.py", [("np.maximum(np.abs(analytic) + np.abs(numeric), 1e-8)",
                                                    "(np.abs(analytic) + np.abs(numeric))")],
                                 r"relative_error: .*0 / 0 where both gradients are 0"),
    "SGD uphill": ("optimizers.py", [("BEGIN\n    w = w - lr * dw\n", "BEGIN\n    w = w + lr * dw\n")],
                   r"sgd_step: .*goes up the gradient"),
    "CS231n's velocity": ("optimizers.py", [("    v = mu * v + dw\n    w = w - lr * v\n",
                                             "    v = mu * v - lr * dw\n    w = w + v\n")],
                          r"momentum_step: v after step 3 is wrong .*v is kept as CS231n keeps it"),
    "dampened momentum": ("optimizers.py", [("v = mu * v + dw\n", "v = mu * v + (1 - mu) * dw\n")],
                          r"momentum_step: .*averages the gradient \(dampening\)"),
    "Adagrad's G of one step": ("optimizers.py", [("G = G + dw ** 2", "G = dw ** 2")],
                                r"adagrad_step: .*G holds this step's dw\^2 only"),
    "eps in Adagrad's root": ("optimizers.py", [("np.sqrt(G) + eps", "np.sqrt(G + eps)")],
                              r"adagrad_step: .*eps is inside the square root"),
    "Adam without bias correction": ("optimizers.py", [("m_hat = m / (1 - b1 ** t)", "m_hat = m"),
                                                       ("v_hat = v / (1 - b2 ** t)", "v_hat = v")],
                                     r"adam_step: .*without their bias correction"),
    "eps in Adam's root": ("optimizers.py", [("np.sqrt(v_hat) + eps", "np.sqrt(v_hat + eps)")],
                           r"adam_step: .*eps is inside the square root"),
    "Adam's v of dw": ("optimizers.py", [("v = b2 * v + (1 - b2) * dw ** 2", "v = b2 * v + (1 - b2) * dw")],
                       r"adam_step: .*v averages dw; it averages dw\^2"),
    "an optimizer that changes w in place": ("optimizers.py", [("BEGIN\n    w = w - lr * dw\n",
                                                                "BEGIN\n    w -= lr * dw\n")],
                                             r"sgd_step: your sgd_step changed w in place"),
    "the state not carried over chunks": ("truncated_bptt.py", [("        caches = []\n",
                                                                 "        caches = []\n        h = h0\n")],
                                          r"truncated_bptt: the state carried \(H\): H \(first at time step t = 3 of "
                                          r"7\) is wrong .*each chunk starts again from h0"),
    "the chunks' sums not reset": ("truncated_bptt.py", [("        dW_xh = dW_hh = db_h = 0\n", ""),
                                                         ("    h = h0\n",
                                                          "    h = h0\n    dW_xh = dW_hh = db_h = 0\n")],
                                   r"each chunk's gradients: .*includes the chunks before it"),
    "the gradient across the chunks' edges": ("truncated_bptt.py", [(
        "        chunks.append((dW_xh, dW_hh, db_h))\n    # END",
        "        chunks.append((dW_xh, dW_hh, db_h))\n"
        "    caches = [rnn_step_forward(X[t], ([h0] + H)[t], W_xh, W_hh, b_h)[1] for t in range(T)]\n"
        "    dh_next, steps = np.zeros_like(h0), [None] * T          # one backward over the whole sequence\n"
        "    for t in reversed(range(T)):\n"
        "        _, dh_next, *steps[t] = rnn_step_backward(dH[t] + dh_next, caches[t])\n"
        "    chunks = [tuple(sum(s[j] for s in steps[c:c + k]) for j in range(3)) for c in range(0, T, k)]\n"
        "    # END")], r"each chunk's gradients: .*the gradient crosses a chunk's edge"),
    "the last chunk dropped": ("truncated_bptt.py", [("range(0, T, k)", "range(0, T - k + 1, k)")],
                               r"truncated_bptt: each chunk's gradients: .*expected a list of 3: .*the last is "
                               r"shorter"),
    "the GRU's carry dropped": ("gru_sequence.py", [("gru_step_backward(dH[t] + dh_next, caches[t])",
                                                     "gru_step_backward(dH[t], caches[t])")],
                                r"gru_sequence.py: gru_backward: .*the gradient from the step after \(dh_next\) is "
                                r"not added"),
    "the GRU's weights of one step": ("gru_sequence.py", [(
        "dW_xh, dW_hh, db_h, db_hn = dW_xh + dWx, dW_hh + dWh, db_h + db, db_hn + dbn",
        "dW_xh, dW_hh, db_h, db_hn = dWx, dWh, db, dbn")], r"gru_backward: .*hold the gradient of one step only"),
    "generation not fed back": ("generate.py", [("        ids.append(x)\n",
                                                  "        ids.append(x)\n        x = first\n")],
                                r"generate .*: every step reads the first id"),
    "generation without the state": ("generate.py", [("logits, h = rnn_char_step(x, h, params)",
                                                      "logits, _ = rnn_char_step(x, h, params)")],
                                     r"generate .*: each step starts from the h given"),
    "generation that returns its first id": ("generate.py", [(
        "    x = first\n    for _ in range(n):", "    x = first\n    ids.append(first)\n    for _ in range(n - 1):")],
        r"generate .*: the ids start with first, the input"),
    "greedy generation": ("generate.py", [("x = int(rng.choice(len(logits), p=softmax(logits / temperature)))",
                                           "x = int(np.argmax(logits))")], r"generate .*: each id is the most likely"),
    "generation without the temperature": ("generate.py", [("p=softmax(logits / temperature)", "p=softmax(logits)")],
                                           r"generate .*: the temperature is not applied"),
    "generation from numpy's global state": ("generate.py", [(
        "x = int(rng.choice(len(logits), p=softmax(logits / temperature)))",
        "x = int(np.random.choice(len(logits), p=softmax(logits / temperature)))")],
        r"generate .*: the same seed gave other draws"),
    "training uphill": ("training_loop.py", [("params[k] - lr * grads[k]", "params[k] + lr * grads[k]")],
                        r"train on 'hello': .*goes up the gradient"),
    "targets not shifted": ("training_loop.py", [("inputs, targets = ids[:-1], ids[1:]", "inputs = targets = ids")],
                            r"train on 'hello': .*the targets are the inputs themselves"),
    "training without clipping": ("training_loop.py", [("        grads = clip(grads, 1.0)\n", "")],
                                  r"train on names: .*not clipped"),
    "an unsorted vocabulary": ("training_loop.py", [("chars = sorted(set(text))", "chars = list(dict.fromkeys(text))")],
                               r"train on 'hello': .*the vocabulary is in the order the characters first come"),
}


def checked(name, source, capsys):
    """``seqnn.course.check`` on the functions ``source`` defines, run in this process as a notebook's cell runs
    them: (its lines, the FileGrade)."""
    from seqnn.course import check
    cell: dict = {}
    exec(compile(source, name, "exec"), cell)                    # __name__ is not "__main__": no self-grading
    functions = [f for k, f in cell.items() if callable(f) and getattr(f, "__module__", None) is None]
    capsys.readouterr()
    result = check(name.removesuffix(".py"), *functions)
    return capsys.readouterr().out.strip().splitlines(), result


@pytest.mark.parametrize("bug", BUGS)
def test_a_classic_mistake_is_caught_and_named(bug, tmp_path, capsys):
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
    here, result = checked(name, source, capsys)             # in a notebook: the same parts, the same words
    assert not result.ok and [line for line in here if line.startswith("WRONG")] == wrong, "\n".join(here)


def test_check_in_a_notebook_passes_the_solutions_and_says_what_to_do_with_a_skeleton(capsys):
    for name in EXERCISES:
        lines, result = checked(name, solution(name), capsys)
        assert result.ok and lines[-1].endswith("(all of them)"), lines
        assert repr(result) == f"<{name}: {len(result.parts)}/{len(result.parts)} parts right>"
        lines, result = checked(name, skeleton(name), capsys)
        assert not result.ok and result.score == 0
        assert all(re.match(rf"WRONG {name}: .+: \w+: not written yet \(fill in its # TODO\)$", line)
                   for line in lines[:-1]), lines
    from seqnn.course import check
    with pytest.raises(ValueError, match=r"exercise: expected one of rnn_step, lstm_step, .* got 'lstm'"):
        check("lstm")
    with pytest.raises(ValueError, match=r"exercise: expected one of rnn_step, .* got 3"):
        check(3)
    with pytest.raises(TypeError, match="functions: expected the exercise's functions, got int 3"):
        check("clip", 3)
    assert "clip_by_global_norm was not given: define it (run its cell) and pass it to check" in "\n".join(
        checked("clip.py", "x = 1\n", capsys)[0])


VALID = {                                  # right answers written otherwise: each must pass
    "clipping without the 1e-6": ("clip.py", [("scale = max_norm / (norm + 1e-6)", "scale = max_norm / norm")]),
    "a float32 forward": ("rnn_step.py", [("h = np.tanh(a)\n", "h = np.tanh(a).astype(np.float32)\n")]),
    "a draw by the inverse CDF": ("sampling.py", [
        ("return int(rng.choice(len(logits), p=next_distribution(logits, temperature, top_k)))",
         "cdf = np.cumsum(next_distribution(logits, temperature, top_k))\n"
         "    return int(np.searchsorted(cdf / cdf[-1], rng.random(), side='right'))")]),
    "a draw by a multinomial": ("sampling.py", [
        ("return int(rng.choice(len(logits), p=next_distribution(logits, temperature, top_k)))",
         "return int(rng.multinomial(1, next_distribution(logits, temperature, top_k)).argmax())")]),
    "a softmax by the log-sum-exp": ("softmax_loss.py", [
        ("z = logits - logits.max(axis=1, keepdims=True)\n    e = np.exp(z)\n    return e / e.sum(axis=1, "
         "keepdims=True)",
         "m = logits.max(axis=1, keepdims=True)\n    return np.exp(logits - m - np.log(np.exp(logits - m).sum(axis=1, "
         "keepdims=True)))")]),
    "a backward that spoils its own cache after use": ("rnn_step.py", [
        ("    return dx, dh_prev, dW_xh, dW_hh, db_h\n",
         "    for a in cache:\n        a[...] = 0\n    return dx, dh_prev, dW_xh, dW_hh, db_h\n")]),
    "a loop that prints": ("bptt.py", [("    for t in range(T):\n        h, cache",
                                        "    for t in range(T):\n        print('step', t)\n        h, cache")]),
}


@pytest.mark.parametrize("case", VALID)
def test_a_right_answer_written_otherwise_passes(case, tmp_path):
    name, changes = VALID[case]
    source = solution(name)
    for old, new in changes:
        assert source.count(old) == 1, f"{old!r} must be in {name} once"
        source = source.replace(old, new)
    lines, ok = graded(tmp_path, name, source)
    assert ok, "\n".join(lines)


def test_the_dtype_is_named_and_the_tolerances_go_by_it():
    from seqnn.course.compare import differs
    want = np.linspace(0.1, 1, 6)
    assert differs("h", want.astype(np.float32), want) is None                          # float32: rtol 1e-4
    assert differs("h", want * (1 + 1e-3), want) == "h is wrong (relative error 0.001)"
    assert differs("h", (want * (1 + 1e-3)).astype(np.float32), want) == (
        "h (float32) is wrong (relative error 0.001; float32 answers are held to rtol 0.0001)")
    assert differs("h", want * (1 + 1e-7), want) is None                                 # float64: rtol 1e-6
    assert "float16, expected float64" in differs("h", want.astype(np.float16), want)


@pytest.mark.parametrize("source, message", [
    ("def rnn_step_forward(x:\n", r"WRONG rnn_step.py: .*: syntax error at line 1"),
    ("import numpy_that_is_not_there\n", r"WRONG rnn_step.py: .*: your file cannot be imported: "
                                         r"ModuleNotFoundError: No module named 'numpy_that_is_not_there' \(line 1\)"),
    ("def rnn_step_forward(*a):\n    while True:\n        pass\n", r"WRONG rnn_step.py: .*: did not finish in 3 s "
                                                                   r"\(an endless loop\?\)"),
    ("import os\nos._exit(3)\n", r"WRONG rnn_step.py: .*: the process ended with status 3"),
    ("def rnn_step_forward(*a):\n    return 1 / 0\n\n\ndef rnn_step_backward(*a):\n    return ()\n",
     r"WRONG rnn_step.py: forward .*: raised ZeroDivisionError: division by zero \(line 2\)"),
    ("def rnn_step_forward(*a):\n    return 1\n", r"WRONG rnn_step.py: forward .*: rnn_step_forward returned a int, "
                                                 r"expected 2: h, the cache"),
])
def test_what_is_not_a_wrong_answer_scores_0_for_each_part_and_the_parts_stay(source, message, tmp_path):
    lines, ok = graded(tmp_path, "rnn_step.py", source, time_limit=3)
    assert not ok and any(re.match(message, line) for line in lines), lines
    assert [line.split(":")[1] for line in lines[:2]] == [" forward (the 'hello' step, and seeded inputs)",
                                                          " backward"], lines
    assert lines[-1] == "score: 0/2 parts right", lines            # a crash never moves the number of parts


def test_grade_refuses_what_is_not_an_exercise(tmp_path, capsys):
    assert "holds none of the exercises" in seqnn_fails(capsys, "grade", tmp_path)
    (tmp_path / "mine.py").write_text("x = 1\n")
    assert "expected a folder of exercises or one of rnn_step.py" in seqnn_fails(capsys, "grade",
                                                                                  tmp_path / "mine.py")
    assert "a gradebook is written for a class only" in seqnn_fails(capsys, "grade", tmp_path, "--csv", "g.csv")
    assert "holds no student folders" in seqnn_fails(capsys, "grade", tmp_path, "--class")


BACKWARD_EQUATIONS = re.compile(r"\bd(W_\w+|b_\w+|a|x|h_prev|c_prev|logits)\s*=|dh_next|dc_next|1 - h\^2|"
                                r"\w \(1 - \w\)|summed over the batch")


GIVEN_STEPS = ("bptt.py", "truncated_bptt.py", "gru_sequence.py", "training_loop.py")


def test_the_skeletons_state_what_to_compute_and_the_shapes_not_the_backward_equations():
    for name in EXERCISES:
        text = skeleton(name)
        doc = text.split('"""')[1]
        assert "TODO" in text and "NotImplementedError" in text and "Run ``python " + name in doc
        assert "(B, H)" in doc or "(N, V)" in doc or "(V,)" in doc or "norm" in doc or "Shapes:" in doc
        assert not BACKWARD_EQUATIONS.search(doc), (name, BACKWARD_EQUATIONS.search(doc))
        if name not in GIVEN_STEPS:                            # (these give the steps: their exercise is the loop)
            assert not BACKWARD_EQUATIONS.search(text.split('"""', 2)[2]), name
    assert all(n in skeleton("lstm_step.py") for n in ("W_xh", "W_hh", "b_h", "i, f, g, o", "c_prev"))
    assert all(n in skeleton("gru_step.py") for n in ("W_xh", "W_hh", "b_h", "b_hn", "r, z, n"))
    assert BACKWARD_EQUATIONS.search(solution("rnn_step.py"))          # the solutions have them: the test can fail


def test_the_teachers_guide_lists_every_part_with_its_point():
    from pathlib import Path

    from seqnn.course.parts import PARTS, part_names
    guide = (Path(__file__).resolve().parents[1] / "docs" / "teaching.md").read_text()
    rows = re.findall(r"^\| (`\w+\.py`)? ?\| (.+?) \| 1 \|", guide, re.M)
    assert [part for _, part in rows] == [p for f in PARTS for p in part_names(f)]
    assert sum(1 for _ in rows) == ALL_PARTS


def test_every_exercise_points_to_a_docs_section_that_is_there():
    from pathlib import Path
    docs = Path(__file__).resolve().parents[1]

    def slug(heading):                                    # GitHub's anchor of a heading
        return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")

    for name, target in EXERCISES.items():
        page, _, anchor = target.partition("#")
        text = (docs / page).read_text(encoding="utf-8")
        assert not anchor or anchor in {slug(h) for h in re.findall(r"^#+ (.+)$", text, re.M)}, (name, target)
        assert f"({page}" in solution(name), f"{name}'s docstring names {page}, where the grader sends the student"
