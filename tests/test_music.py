"""Tunes in ABC notation: read (keys, accidentals and their bar, octaves, lengths, repeats), checked, heard at the
right pitch (by FFT) and for the right time, written as real WAV files; seqnn play and seqnn sample --tunes; a short
training run on the bundled tunes."""

import re
import wave
from fractions import Fraction

import numpy as np
import pytest

from seqnn import music, sound
from seqnn.app import runsetup

from conftest import seqnn_fails, seqnn_main

TUNES = runsetup.corpus_path("tunes").read_text(encoding="utf-8")


def tune(body: str, headers: str = "M:4/4\nL:1/4\nK:C") -> music.Tune:
    return music.parse_tune(f"X:1\nT:test\n{headers}\n{body}\n")


def pitches(t: music.Tune) -> list:
    return [n.pitches[0] if n.pitches else None for bar in t.bars for n in bar.notes]


def heard(samples: np.ndarray, start: float, end: float) -> float:
    """The strongest frequency (Hz) between ``start`` and ``end`` seconds, by FFT, to 0.3 Hz."""
    a, b = int(start * sound.RATE), int(end * sound.RATE)
    spectrum = np.abs(np.fft.rfft(samples[a:b] * np.hanning(b - a), n=1 << 16))
    return float(np.argmax(spectrum) * sound.RATE / (1 << 16))


# --- pitch and time ----------------------------------------------------------------------------------------------
def test_a_scale_sounds_at_equal_temperament_within_one_percent():
    t = tune("C,2 D,2 | A,2 C2 | D E F G | A B c d | e' a'2 z |", "M:4/4\nL:1/4\nQ:1/4=120\nK:C")
    samples, whole = sound.render(t), sound.seconds_per_whole(t)
    notes = music.notes_in_time(t)
    assert [p[0] for p, _, _ in notes] == [48, 50, 57, 60, 62, 64, 65, 67, 69, 71, 72, 74, 88, 93]
    for (p,), start, length in notes:
        want = 440 * 2 ** ((p - 69) / 12)
        got = heard(samples, float(start) * whole, float(start + length) * whole)
        assert abs(got - want) / want < 0.01, (p, got, want)
    assert abs(float(sound.frequency(69)) - 440) < 1e-12 and abs(float(sound.frequency(60)) - 261.6256) < 1e-3


def test_notes_and_rests_sound_at_their_times_and_end_at_their_lengths():
    t = tune("C2 z D/ E3/2 | G4 |", "M:4/4\nL:1/4\nQ:1/4=60\nK:C")       # a quarter note lasts 1 s
    samples = sound.render(t)
    second = sound.RATE
    assert len(samples) == 9 * second + 1                                  # 2 + 1 + 0.5 + 1.5 + 4 s
    assert np.all(samples[2 * second + 1:3 * second] == 0)                 # the rest is silence
    for start, end in ((0, 2), (3, 3.5), (3.5, 5), (5, 9)):                # each note sounds through its length...
        middle = samples[int((start + 0.4 * (end - start)) * second):int((start + 0.6 * (end - start)) * second)]
        assert np.abs(middle).max() > 0.01, (start, end)
        assert abs(samples[int(end * second) - 1]) < 0.01                  # ... and has ended by its end
    assert abs(heard(samples, 3, 3.5) - 293.66) < 2.9 and abs(heard(samples, 3.5, 5) - 329.63) < 3.3


def test_the_tempo_and_the_unit_set_the_length_of_a_note():
    assert sound.seconds_per_whole(tune("C|")) == 2.0                      # default Q: 1/4 = 120
    assert sound.seconds_per_whole(tune("C|", "M:6/8\nL:1/8\nQ:3/8=60\nK:C")) == pytest.approx(8 / 3)
    assert [n.length for n in tune("C C2 C/ C3/2 C// C/3|", "M:none\nL:1/8\nK:C").bars[0].notes] == [
        Fraction(1, 8), Fraction(1, 4), Fraction(1, 16), Fraction(3, 16), Fraction(1, 32), Fraction(1, 24)]
    assert tune("C|", "M:2/4\nK:C").bars[0].notes[0].length == Fraction(1, 16)    # L: 1/16 below 3/4 by default


def test_broken_rhythm_triplets_ties_and_chords():
    notes = tune("A>B c<d (3efg a2-a2 [CEG]2 [ce]|", "M:none\nL:1/8\nK:C").bars[0].notes
    assert [n.length * 8 for n in notes[:7]] == [Fraction(3, 2), Fraction(1, 2), Fraction(1, 2), Fraction(3, 2),
                                                 Fraction(2, 3), Fraction(2, 3), Fraction(2, 3)]
    assert notes[7].tie and not notes[8].tie
    assert notes[9].pitches == (60, 64, 67) and notes[9].length == Fraction(1, 4)    # a chord: played
    played = music.notes_in_time(tune("a2-a2 b|", "M:none\nL:1/8\nK:C"))
    assert played == [((81,), Fraction(0), Fraction(1, 2)), ((83,), Fraction(1, 2), Fraction(1, 8))]  # one note


# --- keys, accidentals, octaves ----------------------------------------------------------------------------------
@pytest.mark.parametrize("key, sharpened", [
    ("C", {}), ("G", {"F": 1}), ("D Major", {"F": 1, "C": 1}), ("A Dorian", {"F": 1}), ("E Minor", {"F": 1}),
    ("Em", {"F": 1}), ("D Mixolydian", {"F": 1}), ("F#m", {"F": 1, "C": 1, "G": 1}), ("Bb", {"B": -1, "E": -1}),
    ("F", {"B": -1}), ("G Dorian", {"B": -1}), ("none", {}), ("Ador", {"F": 1}), ("C Lydian", {"F": 1}),
])
def test_key_signatures_with_their_modes(key, sharpened):
    assert music.key_signature(key) == sharpened


def test_accidentals_hold_to_the_end_of_the_bar_and_the_key_elsewhere():
    assert pitches(tune("^F F f | F =F F ^^C _B __B z|", "M:none\nL:1/4\nK:C")) == [
        66, 66, 77, 65, 65, 65, 62, 70, 69, None]             # ^F holds for F in its octave only, to the bar line
    assert pitches(tune("F c =F F | F C|", "M:none\nL:1/4\nK:D")) == [66, 73, 65, 65, 66, 61]


def test_octave_marks():
    assert pitches(tune("C,, C, C c c' c'' B, b|", "M:none\nL:1/4\nK:C")) == [36, 48, 60, 72, 84, 96, 59, 83]


# --- repeats, endings, bars --------------------------------------------------------------------------------------
@pytest.mark.parametrize("body, order", [
    ("A | B :| c |]", "ABABc"),
    ("A |: B | c :| d |]", "ABcBcd"),
    ("A | B |[1 c :|[2 d |]", "ABcABd"),
    ("A | B |1 c :|2 d | e |]", "ABcABde"),
    ("A :: B :| c |]", "AABBc"),
    ("A | [1 B | c :| [2 d e |]", "ABcAde"),
    ("A B | c :|\nd | e :|", "ABcABcdede"),
])
def test_repeats_and_endings_are_played_out(body, order):
    t = tune(body, "M:none\nL:1/4\nK:C")
    names = {69: "A", 71: "B", 72: "c", 74: "d", 76: "e"}
    assert "".join(names[p[0]] for p, _, _ in music.notes_in_time(t)) == order


def test_well_formed_means_the_headers_and_every_bar_the_meters_length():
    assert music.well_formed(tune("C D E F | G A B c | c4 |]"))
    assert music.well_formed(tune("E | C D E F | G A B :| G2 E |]"))         # pickups at the edges of sections
    assert music.problems(tune("C D E F | G A B | c4 |]")) == [
        "bar 2 (line 6) holds 3/4 of a whole note; the meter's bar holds 1"]
    assert music.problems(tune("C D E F G | c4 |]")) == [
        "bar 1 (line 6) holds 5/4 of a whole note; the meter's bar holds 1"]  # longer is wrong anywhere
    assert music.problems(music.parse_tune("X:1\nL:1/4\nK:C\nC D E F|\n")) == ["no T: header", "no M: header"]
    assert music.problems(music.parse_tune("X:1\nT:t\nM:4/4\n")) == ["no K: header", "no notes"]


@pytest.mark.parametrize("text, message", [
    ("X:1\nT:t\nM:4/4\nK:C\nC D q E|\n", r"tune X:1 't', line 5, column 5: unexpected 'q'"),
    ("X:1\nT:t\nM:4/4 CDEF|\nK:C\nC|\n", r"tune X:1 't', line 3, column 3: M: expected a meter such as 6/8, C or "
                                         r"C\|, got '4/4 CDEF\|'"),
    ("X:7\nT:t\nM:4/4\nK:H Major\nC|\n", r"tune X:7 't', line 4, column 3: K: expected a key such as G"),
    ("X:1\nT:t\nM:4/4\nK:C\nC [CEG D|\n", r"line 5, column 3: a chord is not closed"),
    ("X:1\nT:t\nM:4/4\nK:C\nC D>|\n", r"line 5, column 5: a broken rhythm \(> or <\) has no note after it"),
    ("X:1\nT:t\nM:4/4\nC D|\nK:C\n", r"line 4, column 1: music before the K: line"),
    ("X:1\nT:t\nM:4/4\nK:C\nC \"Am D|\n", r"line 5, column 3: a quoted text is not closed"),
    ("X:1\nT:t\nM:4/4\nL:1/0\nK:C\nC|\n", r"line 4, column 3: L: expected a unit length such as 1/8"),
    ("X:1\nT:t\nM:4/4\nK:C\nC c''''''''|\n", r"line 5, column 3: \"c''''''''\" is outside the 128 MIDI pitches"),
])
def test_what_cannot_be_read_is_named_with_its_tune_line_and_column(text, message):
    with pytest.raises(music.ABCError, match=message):
        music.read_abc(text)


def test_the_bundled_tunes_are_read_all_but_three_whose_text_is_broken():
    tunes = music.split_tunes(TUNES)
    assert len(tunes) == 804 and all(body.startswith("X:") for _, body in tunes)
    broken = []
    for start, body in tunes:
        try:
            music.parse_tune(body, start)
        except music.ABCError as err:
            broken.append(str(err))
    assert len(broken) == 3, broken             # notes on two M: lines, and an 's' among the notes of one tune
    assert sum("M: expected a meter" in b for b in broken) == 2 and any("unexpected 's'" in b for b in broken)


# --- the commands ------------------------------------------------------------------------------------------------
def test_play_writes_a_wav_file_of_the_chosen_tune(tmp_path, capsys):
    (tmp_path / "two.abc").write_text("X:1\nT:First\nM:2/4\nL:1/8\nK:G\nGABc|d4|]\n\nX:2\nT:Second\nM:2/4\nL:1/8\n"
                                      "Q:1/4=60\nK:D\nd2 f2|a4|]\n")
    code, out, err = seqnn_main(capsys, "play", tmp_path / "two.abc", "--tune", "2", "--out", tmp_path / "b.wav")
    assert code == 0 and out == f"wrote {tmp_path / 'b.wav'}: 'Second' (X:2), 0:00:04, 3 notes, well formed\n", err
    with wave.open(str(tmp_path / "b.wav")) as w:
        assert (w.getnchannels(), w.getsampwidth(), w.getframerate()) == (1, 2, sound.RATE)
        assert w.getnframes() == 4 * sound.RATE + 1                         # two bars of 2/4 at 60 quarters a minute
    assert seqnn_main(capsys, "play", tmp_path / "two.abc")[0] == 0 and (tmp_path / "two.wav").exists()
    assert "--tune 3: " in seqnn_fails(capsys, "play", tmp_path / "two.abc", "--tune", "3")
    (tmp_path / "bad.abc").write_text("X:1\nT:t\nM:2/4\nK:C\nC q|\n")
    assert f"{tmp_path / 'bad.abc'}: tune X:1 't', line 5, column 3: unexpected 'q'" in seqnn_fails(
        capsys, "play", tmp_path / "bad.abc")


def test_a_short_run_on_the_bundled_tunes_then_tunes_written_as_abc_and_wav(tmp_path, capsys):
    code, out, err = seqnn_main(capsys, "train", "--corpus", "tunes", "--hidden", "32", "--layers", "1", "--batch",
                                "8", "--seq-len", "50", "--steps", "40", "--eval-every", "20", "--sample-chars", "0",
                                "--eval-chars", "2000", "--out", tmp_path / "run", "--quiet")
    assert code == 0 and "the bundled corpus, 804 folk tunes in ABC notation" in out, err
    assert f"Try: seqnn sample {tmp_path / 'run'} --tunes 4 --out tunes" in out
    code, out, err = seqnn_main(capsys, "sample", tmp_path / "run", "--tunes", "3", "--out", tmp_path / "tunes")
    lines = out.strip().splitlines()
    assert code == 0 and len(lines) == 4 and re.fullmatch(r"\d of 3 tunes well formed; .*", lines[-1]), out + err
    for k, line in enumerate(lines[:3], 1):
        abc = tmp_path / "tunes" / f"tune-{k}.abc"
        assert line.startswith(str(abc)) and abc.read_text().startswith(f"X:{k}\n")
        assert (", well formed" in line or "not well formed" in line) == (tmp_path / "tunes" / f"tune-{k}.wav"
                                                                          ).exists(), line
    assert code == 0 and seqnn_main(capsys, "evaluate", tmp_path / "run")[0] == 0    # its validation text, again
    assert "--out: is the folder of --tunes" in seqnn_fails(capsys, "sample", tmp_path / "run", "--out", tmp_path)
    assert "leave out --prime" in seqnn_fails(capsys, "sample", tmp_path / "run", "--tunes", "1", "--prime", "X")


def test_tunes_from_a_model_of_other_text_and_a_corpus_beside_a_text_are_refused(trained, text, tmp_path, capsys):
    assert "so it was not trained on tunes in ABC notation" in seqnn_fails(capsys, "sample", trained, "--tunes", "1",
                                                                           "--out", tmp_path / "t")
    assert "--corpus tunes: names the bundled text learned when no TEXT is given" in seqnn_fails(
        capsys, "train", text, "--corpus", "tunes", "--out", tmp_path / "r")


def test_the_experiment_tells_a_copy_of_a_training_tune_from_a_new_one():
    import importlib.util
    from pathlib import Path
    path = Path(__file__).resolve().parents[1] / "experiments" / "music.py"
    spec = importlib.util.spec_from_file_location("music_experiment", path)
    experiment = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(experiment)
    start, body = music.split_tunes(TUNES)[1]
    renamed = "X:9\nT:Mine\n" + body.split("\n", 2)[2]              # a training tune under another name: a copy
    assert experiment.copied(renamed, TUNES)
    assert not experiment.copied(renamed.replace("GF|DGGB", "GF|DGBB"), TUNES)
    assert experiment.ROWS and set(experiment.RUNS) >= {"tunes-1min", "tunes-5min", "tunes-20min", "mit-setting"}
