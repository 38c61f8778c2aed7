"""A run's folder: which of its checkpoints belong to the run (the lock, clearing it and a damaged checkpoint are
tested with real runs and processes in test_run.py)."""

from seqnn.app.folder import same_run


def test_best_belongs_to_the_run_of_last_only_when_their_run_ids_agree():
    assert same_run({"run_id": "a", "trainer": {"steps": 3}}, {"run_id": "a", "best_step": 3})
    assert not same_run({"run_id": "a"}, {"run_id": "b"})
    assert not same_run({"trainer": {"steps": 3}}, {"run_id": "b"}), "one with an id, one without"
    assert not same_run({}, {}), "no ids: nothing says they are one run"
    assert not same_run(None, {"run_id": "a"}) and not same_run({"run_id": "a"}, None)
