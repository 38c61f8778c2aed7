"""Folk tunes in ABC notation: read them (``seqnn.abc_notation``), check that they are well formed, and list what
they play, repeats played out.

    from seqnn import music, sound
    tunes = music.read_abc(open("tunes.abc").read())      # ABCError names the tune, the line, the column
    music.problems(tunes[0])                              # [] when it is well formed
    sound.write_wav("tune.wav", sound.render(tunes[0]))

docs/music.md says which part of ABC is read, and what the network writes after training on the bundled tunes.
"""

from __future__ import annotations

from fractions import Fraction

from .abc_notation import (REQUIRED, ABCError, Bar, Note, Tune, key_signature, meter, parse_tune, read_abc,
                           split_tunes)

__all__ = ["ABCError", "Bar", "Note", "Tune", "key_signature", "meter", "notes_in_time", "parse_tune", "play_order",
           "problems", "read_abc", "split_tunes", "well_formed"]


# --- what a tune is, and what it plays ---------------------------------------------------------------------------
def problems(tune: Tune) -> list:
    """Why ``tune`` is not well formed (an empty list when it is): a header it lacks (X, T, M, K), or a bar whose
    length is not the meter's. A bar may be shorter where a section starts or ends (the pickup before the first
    full bar, the bar before a repeat, a double bar or an ending and the one after it, the tune's last bar) and
    inside an ending; never longer."""
    found = [f"no {letter}: header" for letter in REQUIRED if letter not in tune.headers]
    found += [] if tune.bars else ["no notes"]
    bars = tune.bars
    for k, bar in enumerate(bars):
        if bar.meter is None:
            continue
        edge = (k in (0, len(bars) - 1) or bar.ending is not None or bar.repeat_start or bar.repeat_end
                or bar.section_end or bars[k - 1].repeat_end or bars[k - 1].section_end
                or bars[k + 1].ending is not None)                 # the bar before an ending starts
        if bar.length > bar.meter or (bar.length < bar.meter and not edge):
            found.append(f"bar {k + 1} (line {bar.line}) holds {bar.length} of a whole note; the meter's bar "
                         f"holds {bar.meter}")
    return found


def well_formed(tune: Tune) -> bool:
    """Are its headers there, and is every bar the meter's length (pickups and endings excepted)?"""
    return not problems(tune)


def play_order(tune: Tune) -> list:
    """The tune's bars in the order they are played: a section closed by ``:|`` twice (from the last ``|:``, or
    the section's start), its first ending the first time and its second ending the second."""
    order, k, start, second, end = [], 0, 0, False, -1
    bars = tune.bars
    while k < len(bars):
        bar = bars[k]
        if second and k > end and bar.ending is None:       # past the second ending: the next section
            second, start = False, k
        if bar.repeat_start and not second:
            start = k
        if bar.ending is None or bar.ending == (2 if second else 1):
            order.append(bar)
        if bar.repeat_end and not second:
            second, end, k = True, k, start
            continue
        if bar.repeat_end and second and k == end and bar.ending is None:     # (with endings: after the second)
            second, start = False, k + 1
        k += 1
    return order


def notes_in_time(tune: Tune) -> list:
    """What the tune plays, in order: (pitches, start, length), start and length in whole notes from its
    beginning, repeats played out, a tied note held on into the next of the same pitches."""
    played: list = []
    t, held = Fraction(0), False
    for bar in play_order(tune):
        for note in bar.notes:
            if held and played and note.pitches == played[-1][0]:
                pitches, start, length = played[-1]
                played[-1] = (pitches, start, length + note.length)
            else:
                played.append((note.pitches, t, note.length))
            t += note.length
            held = note.tie
    return [p for p in played if p[0]]
