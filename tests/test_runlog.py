"""What a run shows: the status line redrawn in place on a terminal, plain lines in a log."""

from seqnn import runlog

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
