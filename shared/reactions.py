"""What a reaction may be: one emoji (PROTOCOL.md 5.11), checked alike by client and server.

A reaction is the text of a 31 of kind X. "One emoji" is a rule a person can
predict without Unicode's emoji tables (which this package, stdlib only, does
not have): one base character from the blocks where emoji live, optionally
followed by what makes one emoji of several code points (a variation
selector, a skin tone, a keycap, tag characters) or, after a zero-width
joiner, by another base; or a flag, a pair of regional indicators. At most
MAX_REACTION code points, so a family emoji fits and a sentence does not.

Knows code points; knows nothing of frames, servers or screens.
"""

MAX_REACTION = 16
"""Longest reaction, in code points (👨‍👩‍👧‍👦 is 7)."""

_BASES = (
    (0x00A9, 0x00A9), (0x00AE, 0x00AE), (0x203C, 0x203C), (0x2049, 0x2049),
    (0x2122, 0x2122), (0x2139, 0x2139), (0x2194, 0x21AA), (0x231A, 0x23FF),
    (0x24C2, 0x24C2), (0x25AA, 0x25FE), (0x2600, 0x27BF), (0x2934, 0x2935),
    (0x2B05, 0x2B55), (0x3030, 0x3030), (0x303D, 0x303D), (0x3297, 0x3299),
    (0x1F000, 0x1F1E5), (0x1F200, 0x1FAFF),
)
"""Blocks of emoji bases: symbols, dingbats, arrows, and the emoji planes (not the regional
indicators U+1F1E6..1F1FF, which only come in pairs)."""
_MODIFIERS = frozenset({0xFE0E, 0xFE0F, 0x20E3, *range(0x1F3FB, 0x1F400), *range(0xE0020, 0xE0080)})
"""Text/emoji presentation, keycap, skin tones, tags (subdivision flags)."""
_JOINER = 0x200D
_REGIONAL = range(0x1F1E6, 0x1F200)
_KEYCAP_BASES = frozenset("#*0123456789")


def _is_base(point: int) -> bool:
    return any(low <= point <= high for low, high in _BASES)


def reaction_problem(text: str) -> str | None:
    """Why `text` cannot be a reaction (one emoji), or None if it can. The empty text is
    not a reaction; a 31 of kind X with no text takes one back (not checked here)."""
    if not text or len(text) > MAX_REACTION:
        return f"a reaction is one emoji (1 to {MAX_REACTION} code points), not {text!r}"
    points = [ord(char) for char in text]
    if len(points) == 2 and all(p in _REGIONAL for p in points):
        return None  # a flag
    if text[0] in _KEYCAP_BASES and points[1:] in ([0xFE0F, 0x20E3], [0x20E3]):
        return None  # a keycap: 1️⃣
    want_base = True
    for point in points:
        if want_base:
            if not _is_base(point):
                return f"a reaction is one emoji, and {chr(point)!r} is not one"
            want_base = False
        elif point == _JOINER:
            want_base = True
        elif point not in _MODIFIERS:
            return "a reaction is one emoji, not several characters"
    if want_base:
        return "a reaction cannot end with a joiner"
    return None
