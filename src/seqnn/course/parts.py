"""Every exercise's parts, fixed: a crash, a syntax error or a time-out scores 0 for each part of its file, and
the number of parts never moves.

``PARTS[file](m)`` returns the checks of that file's parts (name -> a function that raises ``Wrong``), for the
student's file ``m`` (a ``remote.Remote``); ``part_names(file)`` the names alone. Each part is worth one point
(``POINTS``); docs/teaching.md lists them.
"""

from __future__ import annotations

from typing import Callable

from .ends import embedding_parts, output_layer_parts
from .loops import bptt_parts, gru_sequence_parts, truncated_bptt_parts
from .numerics import clip_parts, sampling_parts, softmax_loss_parts
from .steps import gru_step_parts, lstm_step_parts, rnn_step_parts
from .training import generate_parts, grad_check_parts, optimizers_parts, training_loop_parts

PARTS: dict[str, Callable] = {
    "rnn_step.py": rnn_step_parts, "lstm_step.py": lstm_step_parts, "gru_step.py": gru_step_parts,
    "softmax_loss.py": softmax_loss_parts,
    "bptt.py": bptt_parts, "clip.py": clip_parts, "sampling.py": sampling_parts,
    "embedding.py": embedding_parts, "output_layer.py": output_layer_parts, "grad_check.py": grad_check_parts,
    "optimizers.py": optimizers_parts, "truncated_bptt.py": truncated_bptt_parts,
    "gru_sequence.py": gru_sequence_parts, "generate.py": generate_parts, "training_loop.py": training_loop_parts,
}
POINTS = 1                                  # each part's


def part_names(file: str) -> list:
    """The names of the parts of exercise ``file`` (a key of ``PARTS``), in the order they are checked."""
    return list(PARTS[file](None))
