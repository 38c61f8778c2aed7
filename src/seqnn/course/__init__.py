"""The course: exercises a student fills in, and a grader that names what is wrong. It uses the lecture
(``seqnn``'s cells, engine and losses are its reference) and never the command line::

    exercises.py   the exercises, each made from its worked solution (solutions/*.py, real modules)
    parts.py       what is checked in each exercise, and the reference it is checked against
    compare.py     how an answer differs from the right one, in one line (the array, gate, time step, mistake)
    grade.py       the runner: each file in a process of its own, a line per part, a score
"""
