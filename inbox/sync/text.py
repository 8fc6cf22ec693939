"""A plain-text rendition of an e-mail body, for previews, search and the CSV export.

``body_to_text`` runs on every synced message, so it is a small regex pipeline rather than a full
HTML parser: one scan over the markup with a single compiled pattern (comments, raw-text elements
whose contents are dropped, and tags), then the stdlib's entity decoding and whitespace folding.
It is not a sanitiser: its output is plain text, to be escaped like any other text when rendered.

What it does, as a browser would show the text:

- tags are removed; ``<script>``, ``<style>``, ``<head>``, ``<title>``, ``<template>``,
  ``<noscript>``, ``<svg>``, ``<math>``, ``<iframe>``, ``<object>`` and their contents are dropped
  whole (an unterminated one drops the rest of the document, as a browser would);
- a ``>`` inside a quoted attribute value does not end the tag, and an unterminated quote swallows
  the rest of the document rather than leaking attribute text;
- block elements (``<p>``, ``<div>``, ``<br>``, ``<li>``, ``<tr>``, headings, ...) become line
  breaks and table cells a space; runs of whitespace (including ``&nbsp;``) fold to one space;
- entities are decoded after the tags are gone, so ``&lt;script&gt;`` stays visible *text*;
- non-Latin text and emoji pass through untouched; NUL and other control characters are removed.

Bodies that do not look like HTML are plain text: they keep their own line breaks.
"""

from __future__ import annotations

import html
import re

__all__ = ["SEPARATORS", "body_to_text", "joined_words", "without_separators"]

# Elements whose content is never text a reader sees.
_DROPPED = "script|style|head|title|template|noscript|svg|math|iframe|object|xml"

# Elements that start a new line. Anything else (a, b, span, font, img, ...) is inline.
_BLOCK = frozenset(
    """
    address article aside blockquote body br center dd details div dl dt fieldset figcaption
    figure footer form h1 h2 h3 h4 h5 h6 header hr html li main nav ol p pre section summary
    table tbody tfoot thead tr ul
    """.split()
)
_CELL = frozenset({"td", "th"})

# One pass over the markup. Attribute values may hold ">" inside quotes; an unterminated quote or
# tag runs to the end of the document (\Z), as it does in a browser, instead of leaking as text.
_ATTRS = r"""(?:[^>"']|"[^"]*(?:"|\Z)|'[^']*(?:'|\Z))*"""
_TOKEN = re.compile(
    rf"""
    <!--.*?(?:--!?>|\Z)                                       # comment
  | <!\[CDATA\[.*?(?:\]\]>|\Z)                                # CDATA (only meaningful in SVG)
  | <[!?][^>]*(?:>|\Z)                                       # doctype, <?xml ...?>, bogus comment
  | <(?P<drop>{_DROPPED})(?![\w:-]){_ATTRS}(?:>|\Z)           # dropped element: open tag ...
        .*?(?:</(?P=drop)\s*>|\Z)                             # ... to its end tag
  | <(?P<close>/?)(?P<name>[a-zA-Z][\w:-]*){_ATTRS}(?:>|\Z)   # any other tag
  | </[^a-zA-Z>][^>]*(?:>|\Z)                                 # bogus end tag: </ 3>
    """,
    re.IGNORECASE | re.DOTALL | re.VERBOSE,
)

# Does this body hold markup at all? A tag, a comment/doctype, or an entity reference.
_LOOKS_HTML = re.compile(
    r"<(?:[a-zA-Z][\w:-]*(?:[\s/>]|\Z)|/[a-zA-Z]|!)|&(?:#[0-9]+|#[xX][0-9a-fA-F]+|[a-zA-Z][a-zA-Z0-9]*);"
)

_BREAK = "\x00"  # stands for a block boundary until the whitespace is folded
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")
_CONTROL_BUT_BREAK = re.compile(r"[\x01-\x08\x0b\x0e-\x1f\x7f]")
_PLAIN_TRAILING = re.compile(r"[ \t\f\v]+$", re.MULTILINE)
_PLAIN_BLANKS = re.compile(r"\n{3,}")


def _replace_tag(match: re.Match) -> str:
    name = match.group("name")
    if name is None:
        return ""  # comment, doctype, dropped element, bogus tag
    name = name.lower()
    if name in _BLOCK:
        return _BREAK
    if name in _CELL:
        return " "
    return ""


def _html_to_text(markup: str) -> str:
    text = _TOKEN.sub(_replace_tag, markup.replace(_BREAK, ""))
    text = html.unescape(text)
    text = _CONTROL_BUT_BREAK.sub("", text)
    # str.split() folds every run of Unicode whitespace (``&nbsp;`` included) in C; the break
    # marker is not whitespace, so it survives to become the line breaks.
    text = " ".join(text.split())
    lines = (line.strip() for line in text.split(_BREAK))
    return "\n".join(line for line in lines if line)


def _plain_to_text(text: str) -> str:
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = _CONTROL.sub("", text)
    text = _PLAIN_TRAILING.sub("", text)
    text = _PLAIN_BLANKS.sub("\n\n", text)
    return text.strip()


def body_to_text(body: str | None) -> str:
    """The text a reader sees in ``body`` (HTML or plain text), one line per block."""
    if not body:
        return ""
    if _LOOKS_HTML.search(body):
        return _html_to_text(body)
    return _plain_to_text(body)


# --- Words written with a hyphen or an apostrophe inside --------------------------------------
# Both full-text indexes cut "Wi-Fi" into the words wi and fi, so a person who types "wifi" (as
# most do) would not find it. The joined forms of such words are indexed beside the text
# (``CoworkerMessage.search_joined``): "Wi-Fi" is found by wifi as well as by "wi fi", "e-mail"
# by email, "check-in" by checkin, "O'Brien" by obrien. Numbers alone ("2024-05-01", "555-0100")
# are left out: they would fill the index with tokens nobody types.

# Hyphens and apostrophes inside a word. A search reads what is typed by the same rule
# (inbox/mailbox/search.py): both sides must join the same words.
SEPARATORS = "-\u2010\u2011'\u2019"
_SEPARATOR = re.compile(rf"[{SEPARATORS}](?=[^\W_])")  # before a letter or digit
_COMPOUND = re.compile(rf"[^\W_]+(?:[{SEPARATORS}][^\W_]+)+")
_INNER = re.compile(rf"[{SEPARATORS}]")
MAX_JOINED_CHARS = 2000


def without_separators(word: str) -> str:
    """``word`` with its hyphens and apostrophes taken out: "Wi-Fi" -> "WiFi"."""
    return _INNER.sub("", word)


def joined_words(*texts: str | None) -> str:
    """The words of ``texts`` written with inner hyphens or apostrophes, joined and lower-cased,
    each once, separated by spaces (at most MAX_JOINED_CHARS): ``"wifi checkin"``.

    It runs on every synced message, so it looks for the separators (a scan in C) and reads the
    word around each, rather than trying a word pattern at every letter of the body (4.5 times
    slower: 190 µs for a 1.4 kB body with thirty such words, more than the body's own conversion)."""
    words: dict[str, None] = {}
    size = 0
    for text in texts:
        if not text:
            continue
        end = 0  # where the last word read ends: its other separators are inside it
        for separator in _SEPARATOR.finditer(text):
            at = separator.start()
            if at < end or at == 0 or not text[at - 1].isalnum():  # isalnum() is [^\W_]
                continue
            start = at - 1
            while start and text[start - 1].isalnum():
                start -= 1
            match = _COMPOUND.match(text, start)
            end = match.end()
            word = without_separators(match.group()).lower()
            if word.isdigit() or word in words:
                continue
            size += len(word) + 1
            if size > MAX_JOINED_CHARS + 1:
                return " ".join(words)
            words[word] = None
    return " ".join(words)
