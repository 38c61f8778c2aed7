"""Folk tunes in ABC notation, read: ``seqnn.music`` is the door (it says what a tune is and what it plays).

ABC (abcnotation.com) writes a tune as text: header lines (``X:1``, ``T:title``,
``M:6/8``, ``L:1/8``, ``K:D Major``), then its notes, one letter each
(``DFA d2A``: D, F, A, then a d twice as long, ...). This module reads the
subset the bundled tunes use (``src/seqnn/corpus/tunes.abc``), with the standard
library only:

- the headers X, T, M, L, Q and K (keys with their modes: ``K:A Dorian``,
  ``K:Em``, ``K:F#m``), also changed in the middle of a tune;
- notes C D E F G A B (the octave from middle C up), c d e f g a b (the octave
  above), raised by ``'`` and lowered by ``,`` an octave each;
- accidentals ``^`` (sharp), ``_`` (flat), ``=`` (natural), which hold for that
  note to the end of the bar; the key's sharps and flats elsewhere;
- lengths in units of L: ``2``, ``/2`` (or ``/``), ``3/2``, ``//``; broken rhythm
  ``A>B`` (3/2 then 1/2 of each) and ``A<B``; rests ``z`` (and ``x``);
- bar lines ``|``, ``||``, ``|]``, ``[|``; repeats ``|:`` ... ``:|`` and ``::``,
  with first and second endings ``[1`` ``[2`` (also ``|1``, ``:|2``);
- tuplets ``(3`` (and ``(2`` to ``(9``), ties ``-``;
- chords ``[CEG]``, **played** (all their notes at once, for the length of the
  first).

Skipped, read but not played: quoted text (``"Verse"``, chord symbols ``"Am"``),
decorations (``~``, ``.``, ``!trill!``), grace notes ``{g}``, slurs ``( )``, the
``!`` that ends a line of music in the bundled tunes, comments after ``%``.
Anything else is an ``ABCError`` naming the tune, the line and the column.

Pitches are MIDI note numbers (middle C, ``C``, is 60; ``A`` is 69, 440 Hz) and
lengths are fractions of a whole note. ``seqnn.music`` checks a tune and plays
out its repeats; ``seqnn.sound`` turns it into sound.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any, NoReturn

LETTERS = "CDEFGAB"
SEMITONES = dict(zip(LETTERS, (0, 2, 4, 5, 7, 9, 11)))
FIFTHS = "FCGDAEB"                       # the order sharps are added in (flats: the reverse)
MODES = {"maj": 0, "ion": 0, "mix": -1, "dor": -2, "aeo": -3, "min": -3, "m": -3, "phr": -4, "loc": -5, "lyd": 1}
REQUIRED = ("X", "T", "M", "K")          # the headers a well-formed tune has (L has a default)
DECORATIONS = set("~.HLMOPSTuv")


def always(pattern: str, text: str) -> re.Match:
    """The match of a ``pattern`` that matches any text (if only the empty string) at its start."""
    match = re.match(pattern, text)
    assert match is not None, pattern
    return match


class ABCError(ValueError):
    """What cannot be read, and where: the tune (its X: number and title), the line and the column (from 1)."""

    def __init__(self, message: str, tune: str = "", line: int | None = None, column: int | None = None):
        where = ", ".join(p for p in (tune, f"line {line}" if line else "", f"column {column}" if column else "")
                          if p)
        super().__init__(f"{where}: {message}" if where else message)
        self.line, self.column = line, column


@dataclass(frozen=True)
class Note:
    """A note, a chord or a rest: ``pitches`` (MIDI numbers; () for a rest) for ``length`` whole notes;
    ``tie``: held on into the next note of the same pitches."""

    pitches: tuple
    length: Fraction
    tie: bool = False


@dataclass
class Bar:
    """One bar: its notes, and what stands at its ends. ``meter``: the bar's length in whole notes by the meter in
    force (None: free meter); ``ending``: 1 or 2 inside a first or second ending."""

    notes: list
    meter: Fraction | None
    line: int
    column: int
    ending: int | None = None
    repeat_start: bool = False               # opens with |: (or ::)
    repeat_end: bool = False                 # closes with :| (or ::)
    section_end: bool = False                # closes with ||, |] or a repeat: a short bar may stand here

    @property
    def length(self) -> Fraction:
        return sum((n.length for n in self.notes), Fraction(0))


@dataclass
class Tune:
    """A tune: its headers (letter -> the first value), its bars, its tempo (a beat in whole notes, beats per
    minute) and the line of the file it starts on."""

    headers: dict
    bars: list
    tempo: tuple
    line: int = 1
    changes: list = field(default_factory=list)     # header lines met in the body: (line, letter, value)

    @property
    def title(self) -> str:
        return self.headers.get("T", "(untitled)")

    @property
    def name(self) -> str:
        return f"tune X:{self.headers.get('X', '?')} {self.title!r}"


# --- headers -----------------------------------------------------------------------------------------------------
def meter(value: str) -> Fraction | None:
    """A bar's length in whole notes: ``6/8`` -> 3/4, ``C`` (common time) -> 1, ``C|`` (cut time) -> 1, ``none``
    -> None. ValueError for anything else."""
    value = value.strip()
    if value in ("C", "C|"):
        return Fraction(1)
    if value.lower() == "none":
        return None
    match = re.fullmatch(r"(\d+)/(\d+)", value)
    if not match or int(match[2]) == 0 or int(match[1]) == 0:
        raise ValueError(f"M: expected a meter such as 6/8, C or C|, got {value!r}")
    return Fraction(int(match[1]), int(match[2]))


def unit(value: str) -> Fraction:
    """L: the unit length, ``1/8`` -> 1/8."""
    match = re.fullmatch(r"\s*(\d+)/(\d+)\s*", value)
    if not match or int(match[1]) == 0 or int(match[2]) == 0:
        raise ValueError(f"L: expected a unit length such as 1/8, got {value.strip()!r}")
    return Fraction(int(match[1]), int(match[2]))


def tempo(value: str) -> tuple:
    """Q: (the beat in whole notes, beats per minute): ``1/4=120`` -> (1/4, 120.0); a bare ``120`` counts
    quarter notes."""
    match = re.fullmatch(r"\s*(?:(\d+)/(\d+)\s*=\s*)?(\d+(?:\.\d+)?)\s*", value)
    if not match or float(match[3]) <= 0 or (match[1] and (int(match[1]) == 0 or int(match[2]) == 0)):
        raise ValueError(f"Q: expected a tempo such as 1/4=120, got {value.strip()!r}")
    beat = Fraction(int(match[1]), int(match[2])) if match[1] else Fraction(1, 4)
    return beat, float(match[3])


def key_signature(value: str) -> dict:
    """K: the key's accidentals, letter -> semitones: ``D Major`` -> {F: +1, C: +1}, ``A Dorian`` -> {F: +1}
    (two sharps, less the mode's two), ``Bb`` -> {B: -1, E: -1}; ``none`` (or empty) -> {}."""
    text = value.split("%")[0].strip()
    if text.lower() in ("", "none"):
        return {}
    match = re.fullmatch(r"([A-G])([#b]?)\s*([A-Za-z]*)", text)
    mode = (match[3].lower() or "maj") if match else ""
    shift = MODES.get(mode if mode == "m" else mode[:3]) if match and (mode == "m" or len(mode) >= 3) else None
    if match is None or shift is None:
        raise ValueError(f"K: expected a key such as G, D Major, A Dorian or Em, got {text!r}")
    sharps = FIFTHS.index(match[1]) - 1 + {"#": 7, "b": -7, "": 0}[match[2]] + shift
    if not -7 <= sharps <= 7:
        raise ValueError(f"K: {text!r} would need {abs(sharps)} {'sharps' if sharps > 0 else 'flats'}")
    return {letter: 1 for letter in FIFTHS[:sharps]} if sharps >= 0 else {letter: -1 for letter in FIFTHS[sharps:]}


HEADERS = {"M": meter, "L": unit, "Q": tempo, "K": key_signature}


# --- a tune's text -----------------------------------------------------------------------------------------------
def split_tunes(text: str) -> list:
    """The tunes of an ABC file: a list of (the line each starts on, its text). A tune starts at an ``X:`` line
    and ends at a blank line (one right after its headers excepted) or the next ``X:``; what stands before the
    first ``X:`` (a file header) is left out."""
    tunes: list = []
    lines: list | None = None
    for number, line in enumerate(text.splitlines(), 1):
        if line.startswith("X:"):
            lines = [line]
            tunes.append((number, lines))
        elif lines is not None and line.strip():
            lines.append(line)
        elif lines is not None and all(re.match(r"[A-Za-z]:", kept) for kept in lines):
            continue                                            # a blank line between the headers and the music
        else:
            lines = None
    return [(start, "\n".join(lines)) for start, lines in tunes]


def read_abc(text: str) -> list:
    """Every tune of ``text`` (an ABC file's contents), read: a list of ``Tune``. ABCError at the first that
    cannot be read, naming it, the line and the column."""
    return [parse_tune(body, start) for start, body in split_tunes(text)]


def parse_tune(text: str, line: int = 1) -> Tune:
    """One tune's text (from its ``X:`` line; ``line``: the line of the file it starts on) -> ``Tune``."""
    return _Reader(line).read(text)


class _Reader:
    """Reads one tune, line by line and left to right, keeping what is in force: the key, the unit, the meter,
    the accidentals of this bar, a tuplet or a broken rhythm under way."""

    def __init__(self, line: int):
        self.first = line
        self.headers: dict = {}
        self.changes: list = []
        self.key: dict = {}
        self.unit, self.meter, self.tempo = Fraction(1, 8), Fraction(1), (Fraction(1, 4), 120.0)
        self.bars: list = []
        self.notes: list = []
        self.flags: dict = {}                  # what the next bar opens with: repeat_start, ending
        self.accidentals: dict = {}            # (letter, octave) -> semitones, to the end of the bar
        self.tuplet = (0, Fraction(1))         # notes left, and the factor on their lengths
        self.broken = Fraction(1)              # the factor a broken rhythm leaves for the next note
        self.at = (line, 1)

    def fail(self, message: str, column: int | None = None) -> NoReturn:
        title = self.headers.get("T")
        tune = f"tune X:{self.headers.get('X', '?')}" + (f" {title!r}" if title else "")
        raise ABCError(message, tune, self.at[0], column if column is not None else self.at[1])

    def read(self, text: str) -> Tune:
        body = False
        for number, raw in enumerate(text.splitlines(), self.first):
            line = raw.split("%")[0].rstrip()
            self.at = (number, 1)
            header = re.match(r"([A-Za-z]):(.*)$", line)
            if header and (not body or header[1] in "KMLQTWwPNRZ"):
                self.header(header[1], header[2], body)
                body = body or header[1] == "K"
            elif line.strip():
                if not body:
                    self.fail(f"music before the K: line ({line.strip()[:20]!r}): the K: header ends the headers")
                self.music(line, number)
        self.close_bar(line_end=True)
        if not self.bars and "K" in self.headers:
            self.fail("the tune has no notes")
        return Tune(self.headers, self.bars, self.tempo, self.first, self.changes)

    def header(self, letter: str, value: str, body: bool) -> None:
        if body:
            self.changes.append((self.at[0], letter, value.strip()))
        else:
            self.headers.setdefault(letter, value.strip())
        if letter not in HEADERS:
            return
        try:
            read: Any = HEADERS[letter](value)
        except ValueError as err:
            self.fail(str(err), 3)
        if letter == "M":
            self.meter = read
            if "L" not in self.headers and not body:
                self.unit = Fraction(1, 16) if read is not None and read < Fraction(3, 4) else Fraction(1, 8)
        elif letter == "L":
            self.unit = read
        elif letter == "Q":
            self.tempo = read
        else:
            self.key = read

    # --- a line of music ------------------------------------------------------------------------------------------
    def music(self, line: str, number: int) -> None:
        k = 0
        while k < len(line):
            self.at, c = (number, k + 1), line[k]
            if c in " \t\\y)":
                k += 1
            elif c == "!":                                    # a line's end in the bundled tunes, or !decoration!
                close = line.find("!", k + 1)
                k = close + 1 if close > k + 1 and re.fullmatch(r"[\w+<>.-]+", line[k + 1:close]) else k + 1
            elif c == '"':
                close = line.find('"', k + 1)
                if close < 0:
                    self.fail("a quoted text is not closed (\")")
                k = close + 1
            elif c == "{":
                close = line.find("}", k + 1)
                if close < 0:
                    self.fail("grace notes are not closed (})")
                k = close + 1
            elif c in DECORATIONS:
                k += 1
            elif c == "(":
                k = self.tuplet_mark(line, k)
            elif c in "<>":
                k = self.broken_rhythm(line, k)
            elif c == "[" and k + 1 < len(line) and line[k + 1].isdigit():
                self.flags["ending"] = int(line[k + 1])
                k += 2
            elif c == "[" and re.match(r"\[[A-Za-z]:", line[k:]):
                close = line.find("]", k)
                if close < 0:
                    self.fail("an inline field is not closed (])")
                self.header(line[k + 1], line[k + 3:close], True)
                k = close + 1
            elif c in "|:" or line.startswith("[|", k):
                k = self.bar_line(line, k)
            else:
                k = self.note(line, k)

    def tuplet_mark(self, line: str, k: int) -> int:
        match = re.match(r"\((\d)(?::(\d)?)?(?::(\d))?", line[k:])
        if not match:
            return k + 1                                       # a slur opens: nothing to play
        p = int(match[1])
        if p < 2:
            self.fail(f"a tuplet of {p} note: expected (2 to (9")
        compound = self.meter is not None and self.meter.numerator % 3 == 0 and self.meter.numerator > 3
        q = int(match[2]) if match[2] else {2: 3, 3: 2, 4: 3, 6: 2, 8: 3}.get(p, 3 if compound else 2)
        self.tuplet = (int(match[3]) if match[3] else p, Fraction(q, p))
        return k + len(match[0])

    def broken_rhythm(self, line: str, k: int) -> int:
        run = always(r">{1,3}|<{1,3}", line[k:])[0]
        if not self.notes or self.broken != 1:
            self.fail(f"a broken rhythm ({run}) must stand between two notes")
        short = Fraction(1, 2 ** len(run))
        first, second = (2 - short, short) if run[0] == ">" else (short, 2 - short)
        last = self.notes[-1]
        self.notes[-1] = Note(last.pitches, last.length * first, last.tie)
        self.broken = second
        return k + len(run)

    def bar_line(self, line: str, k: int) -> int:
        match = re.match(r"\[\||:*\|[\]|]?:*|::+", line[k:])
        if not match:
            self.fail(f"unexpected {line[k]!r}")
        token = match[0]
        ends_repeat = token.startswith(":")
        self.close_bar(repeat_end=ends_repeat, section_end=ends_repeat or token in ("||", "|]"))
        self.flags["repeat_start"] = self.flags.get("repeat_start") or token.endswith(":")
        if token != "|":                                       # ||, |], [|, |:, :| and :: stand between sections
            self.flags["section_start"] = True
        k += len(token)
        if k < len(line) and line[k].isdigit():                # |1, :|2: an ending starts
            self.flags["ending"] = int(line[k])
            k += 1
        return k

    def close_bar(self, repeat_end: bool = False, section_end: bool = False, line_end: bool = False) -> None:
        if self.broken != 1:
            self.fail("a broken rhythm (> or <) has no note after it")
        if self.notes:
            start_line, start_column = self.bar_start
            ending = self.flags.get("ending")
            if ending is None and self.bars and self.bars[-1].ending is not None and not (
                    self.bars[-1].repeat_end or self.bars[-1].section_end or self.flags.get("section_start")):
                ending = self.bars[-1].ending                  # an ending runs on to the next repeat or double bar
            self.bars.append(Bar(self.notes, self.meter, start_line, start_column, ending,
                                 bool(self.flags.get("repeat_start")), repeat_end, section_end or line_end))
            self.notes, self.flags = [], {}
        elif self.bars and (repeat_end or section_end):       # a repeat sign after a bar line: it closes that bar
            last = self.bars[-1]
            last.repeat_end, last.section_end = last.repeat_end or repeat_end, last.section_end or section_end
        self.accidentals = {}

    def note(self, line: str, k: int) -> int:
        if line[k] == "[":                                     # a chord: its notes at once, the first one's length
            close = line.find("]", k)
            if close < 0:
                self.fail("a chord is not closed (])")
            inner, pitches, length, j = line[k + 1:close], [], None, 0
            while j < len(inner):
                match = re.match(r"(\^{1,2}|_{1,2}|=)?([A-Ga-g])([',]*)(\d*/*\d*)", inner[j:])
                if not match:
                    self.fail(f"unexpected {inner[j]!r} in a chord", k + 2 + j)
                pitches.append(self.pitch(match))
                length = length or self.length(match[4])
                j += len(match[0])
            if length is None:
                self.fail("an empty chord ([])")
            after = always(r"(\d*/*\d*)(-?)", line[close + 1:])
            self.add(Note(tuple(pitches), length * self.length(after[1]) / self.unit, bool(after[2])))
            return close + 1 + len(after[0])
        match = re.match(r"(\^{1,2}|_{1,2}|=)?([A-Ga-g])([',]*)(\d*/*\d*)(-?)|([zx])(\d*/*\d*)", line[k:])
        if not match:
            self.fail(f"unexpected {line[k]!r}: expected a note (A-G, a-g), a rest (z) or a bar line (|)")
        if match[6]:
            self.add(Note((), self.length(match[7])))
        else:
            self.add(Note((self.pitch(match),), self.length(match[4]), bool(match[5])))
        return k + len(match[0])

    def pitch(self, match) -> int:
        accidental, letter, marks = match[1], match[2], match[3]
        octave = (5 if letter.islower() else 4) + marks.count("'") - marks.count(",")
        name = letter.upper()
        if accidental:
            self.accidentals[name, octave] = {"^": 1, "^^": 2, "_": -1, "__": -2, "=": 0}[accidental]
        shift = self.accidentals.get((name, octave), self.key.get(name, 0))
        midi = 12 * (octave + 1) + SEMITONES[name] + shift
        if not 0 <= midi <= 127:
            self.fail(f"{match[0]!r} is outside the 128 MIDI pitches")
        return midi

    def length(self, text: str) -> Fraction:
        match = re.fullmatch(r"(\d*)(/*)(\d*)", text)
        if match is None or (match[3] and not match[2]):
            self.fail(f"a length {text!r}: expected such as 2, /2, 3/2 or //")
        top = int(match[1]) if match[1] else 1
        bottom = int(match[3]) if match[3] else 2 ** len(match[2])
        if top == 0 or bottom == 0:
            self.fail(f"a length of {text!r} is zero")
        return self.unit * Fraction(top, bottom)

    def add(self, note: Note) -> None:
        if not self.notes:
            self.bar_start = self.at
        length = note.length * self.broken
        self.broken = Fraction(1)
        left, factor = self.tuplet
        if left:
            length, self.tuplet = length * factor, (left - 1, factor)
        self.notes.append(Note(note.pitches, length, note.tie))
