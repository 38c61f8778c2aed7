"""Features of a text, computed from its characters, for prose and for code: a unit of a trained network that
follows one of them through the text *tracks* it (``seqnn.probe.feature_units``).

Each feature is a function text -> (len(text),) values, one per character, the
value *after reading* that character (as a unit's value is):

    in_quotation(text)       1 inside "...", '...', `...' or curly quotes (a string in code, speech in prose)
    bracket_depth(text)      how many of ( [ { are open, the closing one counted
    indentation(text)        the leading spaces of the current line (a tab counts 4)
    column(text)             the characters since the line began
    position_in_word(text)   1, 2, 3 ... along a word's letters
    after_sentence(text)     1 from a sentence's . ! ? to the next letter
    regex_feature(pattern)   1 on the characters of each match of a regular expression (``--feature NAME=REGEX``)
"""

from __future__ import annotations

import re
from typing import Callable

import numpy as np

OPEN, CLOSE = "([{", ")]}"
PREFIXES = set("rbfuRBFU")                 # Python's one-letter string prefixes: f'...', r'...'


def in_quotation(text: str) -> np.ndarray:
    """1 inside a quotation or a string literal, the opening and closing marks included.

    ``"`` opens and closes (three in a row, a docstring, too); a left curly
    quote opens and its right one closes; a backquote opens and an apostrophe
    closes (Alice's `...' style). An apostrophe opens a quotation only at the
    start of a word (after a space, a bracket, ``=``...; or after a one-letter
    string prefix such as ``f``), and closes one only where no letter follows: "don't"
    neither opens nor closes, ``print('hi')`` is a string.
    """
    out, closer = np.zeros(len(text)), None            # closer: the mark that ends the quotation we are in
    for t, ch in enumerate(text):
        before = text[t - 1] if t else " "
        after = text[t + 1] if t + 1 < len(text) else " "
        was_outside = closer is None
        if closer is None:
            if ch == '"':
                closer = '"'
            elif ch in "`\u2018":
                closer = "'"
            elif ch == "\u201c":
                closer = "\u201d"
            elif ch == "'" and (not before.isalnum() or (before in PREFIXES and not _letter_before(text, t - 1))):
                closer = "'"
        elif ch == closer or (closer == "'" and ch == "\u2019"):
            if ch == '"' or ch == "\u201d" or not after.isalpha():
                closer = None
        out[t] = closer is not None or not was_outside    # the closing mark counts as inside
    return out


def _letter_before(text: str, t: int) -> bool:
    return t > 0 and text[t - 1].isalnum()


def bracket_depth(text: str) -> np.ndarray:
    """How many brackets ( [ { are open after each character; a closing bracket still counts its own pair."""
    out, depth = np.zeros(len(text)), 0
    for t, ch in enumerate(text):
        depth += ch in OPEN
        out[t] = depth
        depth = max(0, depth - (ch in CLOSE))
    return out


def indentation(text: str) -> np.ndarray:
    """The indentation of the current line: its leading spaces (a tab counts 4), for every character of the
    line, the newline that ends it included."""
    out = np.zeros(len(text))
    start = 0
    for line in text.split("\n"):
        stripped = line.expandtabs(4)
        depth = len(stripped) - len(stripped.lstrip(" "))
        out[start:start + len(line) + 1] = depth
        start += len(line) + 1
    return out


def column(text: str) -> np.ndarray:
    """The characters since the start of the line (0 at a newline)."""
    out, n = np.zeros(len(text)), 0
    for t, ch in enumerate(text):
        n = 0 if ch == "\n" else n + 1
        out[t] = n
    return out


def position_in_word(text: str) -> np.ndarray:
    """1, 2, 3 ... along a word's letters, 0 elsewhere."""
    out, n = np.zeros(len(text)), 0
    for t, ch in enumerate(text):
        n = n + 1 if ch.isalpha() else 0
        out[t] = n
    return out


def after_sentence(text: str) -> np.ndarray:
    """1 from a sentence's closing . ! or ? up to the next letter (the model now expects a capital)."""
    return regex_feature(r"[.!?][^A-Za-z]*")(text)


def regex_feature(pattern: str) -> Callable[[str], np.ndarray]:
    """A feature from a regular expression: 1 on every character of each (non-empty) match, 0 elsewhere.

    ``pattern`` must compile (``re.error`` otherwise, raised here, not later).
    """
    compiled = re.compile(pattern)

    def matches(text: str) -> np.ndarray:
        out = np.zeros(len(text))
        for m in compiled.finditer(text):
            out[m.start():m.end()] = 1
        return out
    matches.__doc__ = f"1 on the characters of each match of /{pattern}/"
    return matches


FEATURES: dict[str, Callable[[str], np.ndarray]] = {
    "inside a quotation": in_quotation,
    "bracket depth": bracket_depth,
    "indentation": indentation,
    "characters since the line began": column,
    "position in the word": position_in_word,
    "just after a sentence's end": after_sentence,
}
"""The built-in features, for prose and code. Add one (``regex_feature``, or any text -> values function) to look
for units that track it."""
