"""The worked solutions of the exercises, one module each: linted and type-checked like the rest of seqnn.

``seqnn exercises DIR --solutions`` writes these files as they are; ``seqnn
exercises DIR`` writes each with its ``# BEGIN`` ... ``# END`` blocks replaced
by a ``# TODO`` (``seqnn.course.exercises.skeleton``).
"""
