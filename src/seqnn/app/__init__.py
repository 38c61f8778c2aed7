"""The command line, ``seqnn train | sample | evaluate | inspect | exercises | grade``: the floor above the lecture.

It parses and composes what lies below it (``seqnn``'s layers, models, training
step and model files) and never computes any maths itself::

    cli.py        the parser (made from the option tables), main (never a traceback), one cmd_* per verb
    options.py    the option tables and the run's error type (standard library only: --help loads no numpy)
    run.py        one seqnn train run: the loop, validation, checkpoints, signals, divergence
    runsetup.py   what a run is made of: its text, its model (sized first), its optimizer and schedule
    folder.py     a run's folder: the lock, clearing it, what is intact, the model it stands for
    runlog.py     what a run shows and keeps: the status line, metrics.csv, loss.png
    inspect.py    seqnn inspect: the page, its plots and its summary (the analysis is seqnn.probe)
    plots.py      loss.png, saturation.png, reach.png
    threads.py    how many threads numpy's BLAS may use (--threads)
"""
