"""What seqnn grade protects itself and the machine from, tried for real, and the class mode on a class of 30.

Each escape is a student's file that really tries it, graded by a real ``seqnn grade`` process: a forged report
(printed, or written on the channel), killing the grader, writing or deleting outside the exercise's folder,
leaving a process behind, printing megabytes, importing seqnn's reference, the network, memory and disk. Each
must be contained (the grader finishes, its report is its own, nothing outside changed) and named.
"""

import csv
import io
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

import seqnn
from seqnn.course.exercises import EXERCISES, skeleton, solution

from test_grade import BUGS

RNN = solution("rnn_step.py")


def grade_process(*argv, timeout=300):
    """``seqnn grade argv...`` as a real process: (exit status, stdout lines, stderr)."""
    done = subprocess.run([sys.executable, "-m", "seqnn", "grade", *map(str, argv)], capture_output=True, text=True,
                          timeout=timeout)
    return done.returncode, done.stdout.strip().splitlines(), done.stderr


def graded_file(tmp_path, source, *argv):
    folder = tmp_path / "student"
    folder.mkdir()
    (folder / "rnn_step.py").write_text(source)
    return grade_process(folder / "rnn_step.py", *argv)


def parts_of(lines):
    return [line for line in lines if line.startswith(("ok ", "WRONG "))]


def test_a_forged_report_is_the_students_output_not_the_grade(tmp_path):
    forged = ("print('ok    rnn_step.py: forward (the hello step, and seeded inputs)')\n"
              "print('ok    rnn_step.py: backward')\nprint('score: 2/2 parts right (all of them)')\n"
              "print('[[\"forward\", true, \"\"], [\"backward\", true, \"\"]]')\n"
              "import os\nos._exit(0)\n")
    code, lines, err = graded_file(tmp_path, forged)
    assert code == 1 and lines[-1] == "score: 0/2 parts right", lines
    assert all(line.startswith("WRONG") and "the process ended with status 0" in line for line in parts_of(lines))
    assert "  | score: 2/2 parts right (all of them)" in lines            # shown as what the student printed


def test_a_forged_answer_on_the_channel_is_only_a_wrong_value(tmp_path):
    forged = ("import os, json\nfor fd in range(3, 64):\n    for message in ({'ready': True}, {'values': [1.0]}):\n"
              "        data = json.dumps(message).encode()\n        try:\n"
              "            os.write(fd, len(data).to_bytes(8, 'big') + data)\n"
              "        except OSError:\n            pass\n"
              + RNN.split("import numpy as np", 1)[1].replace("a = x @ W_xh.T", "a = 2 * x @ W_xh.T"))
    code, lines, err = graded_file(tmp_path, forged)
    assert code == 1 and lines[-1] == "score: 0/2 parts right" and "Traceback" not in err, (lines, err)


@pytest.mark.parametrize("attack, refused", [
    ("import os, signal\nos.kill(os.getppid(), signal.SIGKILL)\n", r"os.kill\(\d+, ...\) is refused"),
    ("import os, signal\nos.killpg(os.getpgid(os.getppid()), signal.SIGKILL)\n", r"os.killpg\(\d+, ...\) is refused"),
    ("import subprocess\nsubprocess.Popen(['sleep', '313'])\n", r"import _posixsubprocess is refused"),
    ("import os\nos.system('sleep 313 &')\n", r"starting a process is refused \(os.system\)"),
    ("import os\nif os.fork() == 0:\n    import time\n    time.sleep(313)\n", r"starting a process is refused"),
    ("import socket\nsocket.create_connection(('pypi.org', 443))\n", r"socket.* is refused"),
    ("import ctypes\nctypes.CDLL(None).fork()\n", r"ctypes.dlopen is refused"),
])
def test_killing_the_grader_leaving_a_process_the_network_are_refused(attack, refused, tmp_path):
    code, lines, err = graded_file(tmp_path, attack + RNN)
    assert code == 1 and lines[-1] == "score: 0/2 parts right", (lines, err)    # the grader lived to say so
    assert all(re.search(f"your file cannot be imported: Refused: {refused}", line) for line in parts_of(lines))
    assert not [pid for pid, command in processes() if command == "sleep 313"], "a student's process is running"


@pytest.mark.parametrize("attack", [
    "open({keep!r}, 'w').write('gone')", "os.remove({keep!r})", "shutil.rmtree({folder!r})",
    "os.rename({keep!r}, {keep!r} + '.moved')", "open({new!r}, 'x')", "os.chmod({keep!r}, 0)",
    "shutil.copyfile(__file__, {new!r})", "os.chdir('/'); open('seqnn-was-here', 'w')",
])
def test_writing_or_deleting_outside_its_folder_is_refused(attack, tmp_path):
    outside = tmp_path / "teacher"
    outside.mkdir()
    keep, new = outside / "keep.txt", outside / "new.txt"
    keep.write_text("the teacher's")
    line = attack.format(keep=str(keep), new=str(new), folder=str(outside))
    code, lines, err = graded_file(tmp_path, f"import os, shutil\n{line}\n" + RNN)
    assert code == 1 and all("is refused" in x and "only the exercise's own folder may change" in x
                             for x in parts_of(lines)), (lines, err)
    assert keep.read_text() == "the teacher's" and sorted(os.listdir(outside)) == ["keep.txt"]
    assert not os.path.exists("/seqnn-was-here")


def test_a_file_may_write_in_its_own_folder_and_finds_its_own_modules_there(tmp_path):
    (tmp_path / "student").mkdir()
    (tmp_path / "student" / "helpers.py").write_text("def tanh(a):\n    import numpy as np\n    return np.tanh(a)\n")
    source = ("import os\nopen('notes.txt', 'w').write('mine')\nos.remove('notes.txt')\nfrom helpers import tanh\n"
              + RNN.replace("h = np.tanh(a)", "h = tanh(a)"))
    (tmp_path / "student" / "rnn_step.py").write_text(source)
    code, lines, err = grade_process(tmp_path / "student" / "rnn_step.py")
    assert code == 0 and lines[-1] == "score: 2/2 parts right (all of them)", (lines, err)


def test_megabytes_of_prints_are_shown_short_and_never_break_a_grade(tmp_path):
    source = RNN.replace("    # BEGIN\n    a = x @ W_xh.T", "    print('x' * 100_000)\n    # BEGIN\n    a = x @ W_xh.T")
    code, lines, err = graded_file(tmp_path, "for k in range(30_000):\n    print('line', k, 'of my debugging')\n"
                                   + source)
    assert code == 0 and lines[-1] == "score: 2/2 parts right (all of them)", (lines[-5:], err)
    said = next(line for line in lines if "rnn_step.py printed" in line)
    printed = int(re.search(r"printed ([\d,]+) bytes", said).group(1).replace(",", ""))
    assert printed > 5_000_000 and said.endswith("(the first of them):"), said
    assert len(lines) < 30 and "  | line 0 of my debugging" in lines


@pytest.mark.parametrize("attack", [
    "from seqnn.cells import RNNCell\n", "import importlib\nimportlib.import_module('seqnn')\n",
    "import sys\nsys.path.insert(0, {src!r})\nimport seqnn\n",
    "exec(open({solution!r}).read())\n",
])
def test_seqnns_reference_cannot_be_imported_or_read(attack, tmp_path):
    package = Path(seqnn.__file__).parent
    line = attack.format(src=str(package.parent), solution=str(package / "course" / "solutions" / "rnn_step.py"))
    code, lines, err = graded_file(tmp_path, line + RNN)
    assert code == 1 and lines[-1] == "score: 0/2 parts right", (lines, err)
    assert all(re.search(r"Refused: (import seqnn[.\w]* is refused: seqnn's reference implementations are the answers|"
                         r"reading .* is refused: it is seqnn's own code)", x) for x in parts_of(lines)), lines


@pytest.mark.parametrize("source, said", [
    ("import numpy as np\n\n\ndef rnn_step_forward(*a):\n    return np.ones(10 ** 11), None\n",
     r"forward .*: raised MemoryError"),
    ("def rnn_step_forward(*a):\n    open('big', 'wb').write(bytes(100 << 20))\n",
     r"forward .*: raised OSError: \[Errno 27\] File too large"),
    ("import time\n\n\ndef rnn_step_forward(*a):\n    time.sleep(60)\n", r"did not finish in 2 s"),
])
def test_memory_disk_and_time_are_limited(source, said, tmp_path):
    start = time.monotonic()
    code, lines, err = graded_file(tmp_path, source, "--time-limit", "2")
    assert code == 1 and any(re.search(said, line) for line in lines), (lines, err)
    assert lines[-1] == "score: 0/2 parts right" and time.monotonic() - start < 30


# --- a class -----------------------------------------------------------------------------------------------------
ONE_PART = ["tanh derivative 1 - h", "clipping each array", "temperature after the softmax", "an ignored rng",
            "bias averaged in the LSTM step", "the GRU's update gate derivative"]


WEEK = list(EXERCISES)[:7]              # what the class hands in: the first seven exercises (15 parts)


def make_class(folder: Path, size: int = 30) -> dict:
    """A class of ``size`` students with what classes hand in: right answers, untouched skeletons, one mistake, a
    missing file and a syntax error, an endless loop. Returns each student's expected total."""
    expected = {}
    for k in range(size):
        student = folder / f"student_{k:02d}"
        student.mkdir(parents=True)
        files = {n: solution(n) for n in WEEK}
        kind = k % 5
        if kind == 1:
            files = {n: skeleton(n) for n in WEEK}
        elif kind == 2:
            name, changes, _ = BUGS[ONE_PART[k % len(ONE_PART)]]
            for old, new in changes:
                files[name] = files[name].replace(old, new)
        elif kind == 3:
            del files["clip.py"]
            files["bptt.py"] = "def rnn_forward(X:\n"
        elif kind == 4 and k == 4:
            files["sampling.py"] = files["sampling.py"].replace("    # BEGIN\n    return int(",
                                                                "    # BEGIN\n    while True:\n        pass\n"
                                                                "    return int(")
        for name, text in files.items():
            (student / name).write_text(text)
        expected[student.name] = {0: 15, 1: 0, 2: 14, 3: 10, 4: 14 if k == 4 else 15}[kind]
    return expected


def test_a_class_of_30_is_graded_into_a_gradebook(tmp_path):
    expected = make_class(tmp_path / "submissions")
    start = time.monotonic()
    code, lines, err = grade_process(tmp_path / "submissions", "--class", "--json", "--csv", tmp_path / "book.csv",
                                     "--time-limit", "3", timeout=600)
    took = time.monotonic() - start
    print(f"\n30 students x 7 files graded in {took:.1f} s ({os.cpu_count()} cores)")
    assert code == 0 and f"wrote the gradebook {tmp_path / 'book.csv'}" in err, (lines[-5:], err)
    book = json.loads("\n".join(lines))
    assert {s: r["score"] for s, r in book.items()} == expected
    assert {r["out_of"] for r in book.values()} == {15}                   # the same denominator for everyone
    rows = list(csv.reader(io.StringIO((tmp_path / "book.csv").read_text())))
    header, rows = rows[0], {r[0]: r for r in rows[1:]}
    assert len(rows) == 30 and len(header) == 1 + 15 + 2 + 15 and header[16:18] == ["total", "out of"]
    assert header[1] == "rnn_step.py: forward (the 'hello' step, and seeded inputs)"
    assert {s: int(r[16]) for s, r in rows.items()} == expected
    missing = rows["student_03"][1 + 15 + 2 + header.index("clip.py: clip by the global norm") - 1]
    assert missing == "missing: no clip.py in student_03/"
    bptt = [m for h, m in zip(header[18:], rows["student_03"][18:]) if h.startswith("bptt.py")]
    assert len(bptt) == 4 and all(m.startswith("syntax error at line 1") for m in bptt)
    loop = dict(zip(header[18:], rows["student_04"][18:]))["sampling.py: sample (message)"]
    assert loop.startswith("did not finish in 3 s")
    assert all(m == "" for m in rows["student_00"][18:]) and rows["student_00"][1:16] == ["1"] * 15


def test_in_a_class_no_student_can_read_anothers_work(tmp_path):
    (tmp_path / "ada").mkdir()
    (tmp_path / "bo").mkdir()
    (tmp_path / "ada" / "rnn_step.py").write_text(RNN)
    (tmp_path / "bo" / "rnn_step.py").write_text(f"exec(open({str(tmp_path / 'ada' / 'rnn_step.py')!r}).read())\n")
    code, lines, err = grade_process(tmp_path, "--class", "--json")
    book = json.loads("\n".join(lines))
    assert code == 0 and book["ada"]["score"] == 2 and book["bo"]["score"] == 0, (lines, err)
    said = book["bo"]["files"]["rnn_step.py"]["parts"][0]["message"]
    assert re.search(r"Refused: reading .*ada/rnn_step.py is refused: it is in the class's submissions", said), said


def test_a_class_without_options_writes_its_gradebook_beside_the_students_and_prints_each_score(tmp_path):
    for student, files in (("ada", ["clip.py"]), ("bo", [])):
        (tmp_path / student).mkdir()
        for name in files:
            (tmp_path / student / name).write_text(solution(name))
    code, lines, err = grade_process(tmp_path, "--class", "--jobs", "1")
    assert code == 0 and lines == ["ada    1/1", "bo     0/1", "2 students, mean 0.5/1 (1 point a part; the parts: 1)",
                                   f"seqnn grade: wrote the gradebook {tmp_path / 'grades.csv'}"], (lines, err)
    assert (tmp_path / "grades.csv").read_text().splitlines()[2] == "bo,0,0,1,missing: no clip.py in bo/"


def test_ctrl_c_stops_a_class_at_once_and_kills_every_student_process(tmp_path):
    for k in range(4):
        (tmp_path / f"s{k}").mkdir()
        (tmp_path / f"s{k}" / "rnn_step.py").write_text("def rnn_step_forward(*a):\n    while True:\n        pass\n")
    grader = subprocess.Popen([sys.executable, "-m", "seqnn", "grade", str(tmp_path), "--class", "--jobs", "2"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and len(children_of(grader.pid)) < 2:    # two students' files running
        time.sleep(0.1)
    children = children_of(grader.pid)
    assert len(children) == 2, children
    grader.send_signal(2)
    out, err = grader.communicate(timeout=30)
    assert grader.returncode == 130 and err.strip().endswith("seqnn grade: interrupted (Ctrl-C)"), (out, err)
    assert "Traceback" not in err and not (tmp_path / "grades.csv").exists()
    assert not [p for p in children if os.path.exists(f"/proc/{p}")], "a student's process outlived the grader"


def processes() -> list:
    """(pid, command line) of every process, read from /proc (no pgrep needed)."""
    found = []
    for entry in os.listdir("/proc"):
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                found.append((int(entry), f.read().replace(b"\0", b" ").decode(errors="replace").strip()))
        except (ValueError, OSError):
            continue
    return found


def children_of(pid: int) -> list:
    """The pids whose parent is ``pid``, from /proc."""
    children = []
    for entry, _ in processes():
        try:
            with open(f"/proc/{entry}/stat") as f:
                if int(f.read().rsplit(")", 1)[1].split()[1]) == pid:
                    children.append(entry)
        except (OSError, IndexError, ValueError):
            continue
    return children
