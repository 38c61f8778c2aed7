"""What a run is made of: the text (the bundled corpus read like a user's file), the model sized before it is
built."""

import pytest

from seqnn.app import runsetup
from seqnn.data import read_text


def test_bundled_corpus_is_read_through_the_same_path_as_a_users_file(monkeypatch):
    calls = []
    monkeypatch.setattr(runsetup, "read_text", lambda paths: calls.append(list(paths)) or "text\n")
    assert runsetup.load_text([])[0] == "text\n" and len(calls) == 1
    corpus = read_text(calls[0])
    assert len(corpus) == 148_476 and corpus.startswith("                ALICE'S ADVENTURES IN WONDERLAND")


@pytest.mark.parametrize("cell, hidden, layers, batch, seq_len", [
    ("lstm", 64, 2, 16, 50), ("gru", 128, 1, 8, 40), ("rnn", 96, 3, 4, 60), ("lstm", 512, 2, 32, 100),
    ("lstm", 1024, 1, 2, 10)])                         # the last: Adam's update of W_hh outgrows the activations
def test_the_memory_estimate_is_within_a_factor_1_5_of_what_training_allocates(cell, hidden, layers, batch, seq_len,
                                                                                 tmp_path):
    import tracemalloc

    from seqnn.app.options import new_options
    path = tmp_path / "text.txt"
    path.write_text(read_text([runsetup.corpus_path()])[:20_000])
    opts = new_options(dict(cell=cell, hidden=hidden, layers=layers, batch=batch, seq_len=seq_len))
    tracemalloc.start()
    run = runsetup.make_run(opts, [path])
    for _ in range(2):                                # the second step: the optimizer's state exists
        run.trainer.step()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    estimate = sum(runsetup.memory_needed(opts, len(run.vocab)).values())
    assert peak / 1.5 < estimate < 1.5 * peak, (estimate, peak)
