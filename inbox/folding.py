"""Text folded for matching people's names: letter case and accents aside, any script.

One rule for both sides of a match: the customers' search keys (``inbox/sync/customers.py``) and
what a person types in the customer field (``inbox/mailbox/customers.py``), so "zoe" finds "Zoë",
"MÜLLER" finds "Müller" and "о'брайен" finds "О’Брайен". Folding may make two different names
equal (a few more suggestions), never one name unequal to itself.

* Case: ``str.casefold`` (ß → ss, final sigma, Cherokee ...), which lower() does not do.
* Accents: after canonical-compatibility decomposition (NFKD: also full-width letters, ligatures
  such as ﬁ, superscripts), the combining marks of the Latin, Greek and Cyrillic letters and the
  Arabic and Hebrew vowel points are dropped; other scripts keep theirs (Japanese voicing marks,
  Indic vowel signs change the word), and the text is recomposed (NFC: Hangul syllables).
* Letters that are not "a letter plus a mark" in Unicode: ø, ł, đ, æ, œ, þ, ı, ħ ...
* Apostrophes go (O'Brien = OBrien), hyphens, underscores, dots and runs of space become one space
  (Jean-Luc = Jean Luc), Arabic tatweel goes.
"""

from __future__ import annotations

import re
import unicodedata

# Letters with no decomposition, written as what people type for them.
_LETTERS = str.maketrans({
    "ø": "o", "ł": "l", "đ": "d", "ð": "d", "æ": "ae", "œ": "oe", "þ": "th", "ı": "i", "ħ": "h",
    "ŧ": "t", "ŋ": "n", "ĸ": "k", "ƒ": "f", "ɨ": "i", "ʉ": "u",
    # apostrophes and the Arabic tatweel (a stretching stroke, no letter): gone
    "'": None, "’": None, "‘": None, "`": None, "´": None, "ʼ": None, "ـ": None,
})
_SPACE = re.compile(r"[\s\-‐‑‒–—_.,;:/|()\[\]{}\"“”«»]+")


def _drops_mark(mark: str, base: str) -> bool:
    code = ord(mark)
    if 0x064B <= code <= 0x065F or code == 0x0670 or 0x0591 <= code <= 0x05C7:
        return True  # Arabic harakat, Hebrew points: written or not, the same word
    return bool(base) and ord(base) < 0x0530  # a Latin, Greek or Cyrillic letter's accent


def fold(text: str | None) -> str:
    """``text`` as it is matched: case and accents folded, separators one space, no ends."""
    if not text:
        return ""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    kept: list[str] = []
    base = ""
    for char in decomposed:
        if unicodedata.combining(char):
            if _drops_mark(char, base):
                continue
        else:
            base = char
        kept.append(char)
    folded = unicodedata.normalize("NFC", "".join(kept)).translate(_LETTERS)
    # casefold again: NFKD can produce capitals (ℌ → H), the table's letters are lower-case
    return _SPACE.sub(" ", folded.casefold()).strip()


def search_key(*parts: str | None) -> str:
    """The words of ``parts`` folded, each part starting with a space: `` anna virtanen anna@x.fi``.

    The leading spaces make "a word starts with ..." a plain substring test: ``" " + fold(typed)``.
    An e-mail keeps its @ and its dots become spaces, so "virtanen" also starts a word of
    "anna.virtanen@example.com"."""
    return "".join(" " + folded for folded in map(fold, parts) if folded)
