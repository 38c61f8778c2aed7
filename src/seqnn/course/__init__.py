"""The course: exercises a student fills in, and a grader that names what is wrong. It uses the lecture
(``seqnn``'s cells, engine and losses are its reference) and never the command line::

    exercises.py   the exercises, each made from its worked solution (solutions/*.py, real modules)
    local.py       the same calls on functions of this process (a notebook's cells): ``check``
    runner.py      the student's side: their file in a child process (limits, an audit hook), answering calls
    remote.py      the grader's side: that child started, called as if local, timed, killed with its group
    reference.py   the right answers (seqnn's cells, engine, losses), and finite differences of a student's forward
    mistakes.py    the one table of named mistakes, and what each computes
    compare.py     how an answer differs from the right one, in one line (the array, gate, time step, dtype, mistake)
    steps.py       the parts of the RNN, LSTM and GRU step exercises
    loops.py       the parts of backpropagation through time
    numerics.py    the parts of softmax and the loss, clipping, sampling
    parts.py       every exercise's parts, fixed, one point each
    grade.py       a file, a folder: a line per part, the student's output, a score
    gradebook.py   a class: one folder per student, grades.csv and JSON

In a notebook, ``seqnn.course.check("lstm_step", lstm_step_forward, lstm_step_backward)`` grades the functions
written in its cells, with the same parts and messages (``grade.check``).
"""


def __getattr__(name: str):
    if name == "check":                       # loaded when used: the command line imports this package too
        from .grade import check
        return check
    raise AttributeError(f"module 'seqnn.course' has no attribute {name!r}")
