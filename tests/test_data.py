import numpy as np
import pytest

from seqnn.data import Vocabulary, batchify, one_hot


def test_vocabulary_is_sorted_and_round_trips():
    v = Vocabulary("hello world")
    assert v.tokens == sorted(set("hello world"))
    assert v.decode(v.encode("hello")) == "hello"
    assert v.encode("hello").dtype == np.int64
    assert Vocabulary(["b", "a", "b"]).tokens == ["a", "b"]
    assert Vocabulary(["cat", "dog"]).decode([1, 0], sep=" ") == "dog cat"


def test_one_hot():
    out = one_hot(np.array([[0, 2], [1, 1]]), 3)
    assert out.shape == (2, 2, 3)
    assert np.array_equal(out.argmax(-1), [[0, 2], [1, 1]]) and np.array_equal(out.sum(-1), np.ones((2, 2)))
    assert one_hot(np.array([1]), 2, np.float32).dtype == np.float32


def test_batchify_columns_are_contiguous_text():
    data = batchify(np.arange(10), 2)          # 5 rows, 2 columns
    assert data.shape == (5, 2)
    assert np.array_equal(data[:, 0], [0, 1, 2, 3, 4]) and np.array_equal(data[:, 1], [5, 6, 7, 8, 9])
    with pytest.raises(ValueError, match="ids: expected at least"):
        batchify(np.arange(3), 2)
