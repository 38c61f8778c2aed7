import os

import numpy as np
import pytest

from seqnn.data import Vocabulary, adding_problem, batchify, read_text
from seqnn.functional import one_hot


def test_vocabulary_is_sorted_and_round_trips():
    v = Vocabulary("hello world")
    assert v.tokens == sorted(set("hello world"))
    assert v.decode(v.encode("hello")) == "hello"
    assert v.encode("hello").dtype == v.dtype == np.uint8
    assert Vocabulary(["b", "a", "b"]).tokens == ["a", "b"]
    assert Vocabulary(["cat", "dog"]).decode([1, 0], sep=" ") == "dog cat"


# Texts of every width Python keeps a string in: ASCII (1 byte a character), the Basic Multilingual Plane (2),
# characters beyond it (4, and 2 UTF-16 units each), and a lone surrogate (which UTF-16 cannot encode).
WIDE_TEXTS = ["hello world\n", "Ärger — ça va?\n", "smile \U0001F600 and \u00e9\U0001F680!", "odd \ud800 one"]


@pytest.mark.parametrize("text", WIDE_TEXTS)
@pytest.mark.parametrize("block", [3, 1 << 22])
def test_encoding_a_text_matches_the_token_by_token_definition(text, block, monkeypatch):
    import seqnn.data
    monkeypatch.setattr(seqnn.data, "BLOCK", block)        # several blocks, the last one partial, or one
    v = Vocabulary(text * 5)
    assert v.tokens == sorted(set(text))
    ids = v.encode(text * 5)
    assert ids.tolist() == [v.index[c] for c in text * 5]
    assert v.decode(ids) == text * 5 and v.decode(ids.astype(np.int64)) == text * 5
    with pytest.raises(ValueError, match=r"unknown token 'x' at position 7"):
        Vocabulary(text.replace("x", "")).encode(text.replace("x", "")[:7] + "x")


def test_ids_take_the_smallest_unsigned_type_that_holds_them():
    assert Vocabulary([chr(c) for c in range(256)]).dtype == np.uint8
    assert Vocabulary([chr(c) for c in range(257)]).dtype == np.uint16
    assert Vocabulary([str(c) for c in range(70_000)]).dtype == np.uint32
    words = Vocabulary(["cat", "dog"], specials=["<pad>"])
    assert words.encode(["dog", "cat"]).tolist() == [2, 1] and words.encode(["dog"]).dtype == np.uint8
    with pytest.raises(ValueError, match="unknown token 'c' at position 0"):
        words.encode("cat")                                # a string is read as characters


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


# --- read_text: the one reader for a user's files and the bundled corpus -------------------------------------
def test_read_text_joins_files_normalises_line_ends_and_keeps_utf8(tmp_path):
    (tmp_path / "a.txt").write_bytes("\ufeffÄpfel\r\nund Birnen".encode("utf-8"))   # BOM, CRLF, no final newline
    (tmp_path / "b.txt").write_bytes("über\rmorgen\n".encode("utf-8"))              # old Mac line end
    assert read_text([tmp_path / "a.txt", tmp_path / "b.txt"]) == "Äpfel\nund Birnen\nüber\nmorgen\n"
    assert read_text(tmp_path / "b.txt") == "über\nmorgen\n"


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be", "utf-32", "utf-32-le", "utf-32-be"])
def test_read_text_reads_utf16_and_utf32_announced_by_a_byte_order_mark(encoding, tmp_path):
    text = "Äpfel \U0001F34E\r\nund Birnen\n"
    marked = encoding in ("utf-16", "utf-32")              # these codecs write the mark themselves
    (tmp_path / "a.txt").write_bytes(text.encode(encoding) if marked else ("\ufeff" + text).encode(encoding))
    assert read_text(tmp_path / "a.txt") == "Äpfel \U0001F34E\nund Birnen\n"


@pytest.mark.parametrize("data, message", [
    ("plain text\n".encode("utf-16-le"), r"looks like UTF-16 \(LE\) without a byte-order mark; convert it to "
                                         r"UTF-8 first, e.g. iconv -f utf-16le -t utf-8"),
    ("plain text\n".encode("utf-16-be"), r"UTF-16 \(BE\) without a byte-order mark.*iconv -f utf-16be"),
    (b"\xff\xfe" + b"\x00\xd8" + b"a\x00", r"starts with a UTF-16 byte-order mark but is not UTF-16"),
    (bytes(64), r"looks binary \(a NUL byte at offset 0\)"),
    (b"\x89PNG\r\n\x1a\n" + bytes(12) + b"IHDR", r"looks binary"),
])
def test_read_text_tells_utf16_without_a_mark_from_binary(data, message, tmp_path):
    (tmp_path / "a.txt").write_bytes(data)
    with pytest.raises(ValueError, match=message):
        read_text(tmp_path / "a.txt")


@pytest.mark.parametrize("kind, message", [
    ("missing", r"missing.txt: no such file"),
    ("folder", r"folder: is a folder, expected a text file"),
    ("empty", r"empty.txt: the file is empty"),
    ("binary", r"binary.txt: looks binary \(a NUL byte at offset 3\); expected UTF-8 text"),
    ("latin1", r"latin1.txt: is not UTF-8 text \(byte 0xe4 at offset 1\); convert it first"),
])
def test_read_text_names_the_file_and_the_problem(kind, message, tmp_path):
    path = tmp_path / {"missing": "missing.txt", "folder": "folder", "empty": "empty.txt", "binary": "binary.txt",
                       "latin1": "latin1.txt"}[kind]
    if kind == "folder":
        path.mkdir()
    elif kind == "empty":
        path.write_bytes(b"")
    elif kind == "binary":
        path.write_bytes(b"abc\x00\x01\x02")
    elif kind == "latin1":
        path.write_bytes("Käse".encode("latin-1"))
    with pytest.raises(ValueError, match=message):
        read_text([path])
    with pytest.raises(ValueError, match="expected at least one file"):
        read_text([])


def test_adding_problem_has_one_marker_in_each_half_and_sums_the_marked_values():
    X, y = adding_problem(9, 500, rng=3)
    assert X.shape == (9, 500, 2) and y.shape == (500, 1) and X.dtype == y.dtype == np.float64
    values, markers = X[..., 0], X[..., 1]
    assert ((values >= 0) & (values < 1)).all() and set(np.unique(markers)) == {0.0, 1.0}
    assert (markers[:4].sum(axis=0) == 1).all() and (markers[4:].sum(axis=0) == 1).all()   # halves: t < 4, t >= 4
    first, second = markers[:4].argmax(axis=0), 4 + markers[4:].argmax(axis=0)
    assert set(first) == {0, 1, 2, 3} and set(second) == {4, 5, 6, 7, 8}                  # every position is drawn
    cols = np.arange(500)
    assert np.array_equal(y[:, 0], values[first, cols] + values[second, cols])


def test_adding_problem_baseline_is_one_sixth_and_draws_are_seeded():
    _, y = adding_problem(6, 200_000, rng=0, dtype=np.float32)
    assert y.dtype == np.float32
    assert np.mean((y - 1.0) ** 2) == pytest.approx(1 / 6, abs=2e-3)   # Var(U1 + U2) = 2/12
    assert all(np.array_equal(a, b) for a, b in zip(adding_problem(5, 4, rng=7), adding_problem(5, 4, rng=7)))
    assert not np.array_equal(adding_problem(5, 4, rng=7)[0], adding_problem(5, 4, rng=8)[0])


@pytest.mark.parametrize("args, error, words", [
    ((1, 4), ValueError, "T: expected at least 2"),
    ((0, 4), ValueError, "T: expected a positive int"),
    ((5, 0), ValueError, "batch_size: expected a positive int"),
    ((5, 2.0), ValueError, "batch_size: expected a positive int"),
])
def test_adding_problem_refuses_bad_sizes(args, error, words):
    with pytest.raises(error, match=words):
        adding_problem(*args)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes are POSIX")
def test_read_text_refuses_a_pipe_or_a_device_instead_of_waiting_on_it(tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)                                   # opening it for reading would block until a writer comes
    with pytest.raises(ValueError, match=r"pipe: is not a regular file \(a pipe, device or socket\)"):
        read_text([fifo])
    if os.path.exists("/dev/zero"):                   # a device that never ends
        with pytest.raises(ValueError, match="/dev/zero: is not a regular file"):
            read_text(["/dev/zero"])
