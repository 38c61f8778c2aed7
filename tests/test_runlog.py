"""What a run shows: the status line redrawn in place on a terminal, plain lines in a log."""

from seqnn.app import runlog


class FakeTerminal:
    def __init__(self, tty):
        self.tty, self.written = tty, []

    def isatty(self):
        return self.tty

    def write(self, s):
        self.written.append(s)

    def flush(self):
        pass


def test_progress_redraws_in_place_on_a_terminal_and_prints_lines_by_time_otherwise(monkeypatch):
    terminal = FakeTerminal(True)
    show = runlog.Progress(terminal, every=10)
    clock = iter([10.0, 10.05, 10.3])
    monkeypatch.setattr(runlog.time, "monotonic", lambda: next(clock))
    for step in (1, 2, 3):
        show.status({"step": f"step {step}"})
    show.say("a permanent line")
    assert terminal.written == ["\rstep 1\x1b[K", "\rstep 3\x1b[K", "\r\x1b[K", "a permanent line\n"], (
        "redrawn in place, at most every 0.1 s; a permanent line clears the status line first")

    plain = FakeTerminal(False)
    show = runlog.Progress(plain, every=10)
    times = {1: 100.0, 2: 101.0, 3: 109.9, 4: 110.0, 5: 111.0, 6: 115.0, 7: 121.0}
    for step, now in times.items():
        monkeypatch.setattr(runlog.time, "monotonic", lambda now=now: now)
        show.status({"step": f"step {step}"}, force=step == 5)              # step 5: a validation
    assert plain.written == ["step 1\n", "step 4\n", "step 5\n", "step 7\n"], (
        "the first step, then every 10 seconds from the last line, and at every validation")

    quiet = FakeTerminal(False)
    show = runlog.Progress(quiet, every=0, quiet=True)
    show.status({"step": "step 1"}, force=True)
    show.say("validation")
    assert quiet.written == ["validation\n"]
    every = FakeTerminal(False)
    show = runlog.Progress(every, every=0)
    for step in (1, 2, 3):
        show.status({"step": f"step {step}"})
    assert every.written == ["step 1\n", "step 2\n", "step 3\n"]


def test_the_status_line_fits_a_narrow_terminal_and_keeps_the_time_left(monkeypatch):
    fields = {"step": "step 120/5000", "epoch": "epoch 2.73", "loss": "loss 2.345 bpc", "lr": "lr 0.005",
              "val": "val 2.401 bpc", "speed": "52,113 chars/s", "left": "0:41:07 left"}
    full = " | ".join(fields.values())
    assert runlog.fit(fields, 200, runlog.Progress.DROP) == full
    assert runlog.fit(fields, 79, runlog.Progress.DROP) == ("step 120/5000 | epoch 2.73 | loss 2.345 bpc | "
                                                            "val 2.401 bpc | 0:41:07 left")
    assert runlog.fit(fields, 40, runlog.Progress.DROP) == "step 120/5000 | 0:41:07 left"
    terminal = FakeTerminal(True)
    monkeypatch.setattr(runlog.shutil, "get_terminal_size", lambda fallback: type("Size", (), {"columns": 80})())
    runlog.Progress(terminal).status(fields)
    assert terminal.written[0].endswith("0:41:07 left\x1b[K") and len(terminal.written[0]) <= 1 + 79 + 3
