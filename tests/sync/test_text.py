"""inbox.sync.text.body_to_text: the plain-text rendition of bodies (previews, search, CSV)."""

from __future__ import annotations

import time

import pytest
from hypothesis import given, settings as hsettings, strategies as st

from inbox.sync.text import body_to_text


class TestPlainText:
    def test_empty_and_none(self):
        assert body_to_text(None) == ""
        assert body_to_text("") == ""
        assert body_to_text("   \n ") == ""

    def test_plain_text_keeps_its_lines(self):
        body = "Hi Ana,\r\n\r\nthe desk is booked.  \n\n\n\n\nThanks & see you <3\n-- \nBob"
        assert body_to_text(body) == "Hi Ana,\n\nthe desk is booked.\n\nThanks & see you <3\n--\nBob"

    def test_plain_text_with_comparison_signs_is_not_mistaken_for_markup(self):
        assert body_to_text("if a < b and c > d then 5 < 6") == "if a < b and c > d then 5 < 6"

    def test_control_characters_are_removed(self):
        assert body_to_text("a\x00b\x07c\x1bd\te") == "abcd\te"


class TestMarkup:
    def test_tags_stripped_entities_decoded(self):
        html = "<p>Caf&eacute; &amp; <b>bar</b>&nbsp;&#8212;&#x2014; &lt;b&gt;not a tag&lt;/b&gt;</p>"
        assert body_to_text(html) == "Café & bar —— <b>not a tag</b>"

    def test_block_elements_become_lines(self):
        html = (
            "<div>First</div><div>Second<br>Third<br/>Fourth</div><ul><li>one</li><li>two</li></ul>"
            "<h1>Title</h1><p>Para</p><blockquote>Quoted</blockquote><table><tr><td>a</td>"
            "<td>b</td></tr><tr><th>c</th><td>d</td></tr></table>"
        )
        assert body_to_text(html).split("\n") == [
            "First", "Second", "Third", "Fourth", "one", "two", "Title", "Para", "Quoted", "a b", "c d",
        ]

    def test_whitespace_folds_inside_lines(self):
        html = "<p>  many\n\n   spaces\there\u00a0\u00a0and&nbsp;&nbsp;nbsp  </p>\n\n<p>\n</p><p>next</p>"
        assert body_to_text(html) == "many spaces here and nbsp\nnext"

    def test_inline_elements_do_not_break_words(self):
        assert body_to_text("<p>un<b>bel</b><i>iev</i><span>able</span></p>") == "unbelievable"

    def test_non_latin_and_emoji_survive(self):
        html = "<p>日本語のメール</p><p>Привет, мир</p><p>مرحبا</p><p>😀👍🏽 👨‍👩‍👧</p>"
        assert body_to_text(html) == "日本語のメール\nПривет, мир\nمرحبا\n😀👍🏽 👨‍👩‍👧"

    def test_full_document_head_and_style_are_dropped(self):
        html = (
            "<!DOCTYPE html><html><head><meta charset='utf-8'><title>Secret title</title>"
            "<style>p { color: red } .a > .b {}</style></head><body><p>Body text</p></body></html>"
        )
        assert body_to_text(html) == "Body text"

    def test_quoted_reply_and_signature(self):
        html = (
            '<div dir="ltr">Thanks, see you Monday.</div><br><div class="gmail_quote">'
            '<div class="gmail_attr">On Mon, Ana &lt;ana@example.com&gt; wrote:<br></div>'
            '<blockquote class="gmail_quote" style="margin:0 0 0 .8ex">Is the room free?</blockquote>'
            "</div>-- <br>Bob | Acme"
        )
        assert body_to_text(html) == (
            "Thanks, see you Monday.\nOn Mon, Ana <ana@example.com> wrote:\nIs the room free?\n--\nBob | Acme"
        )


class TestHostileMarkup:
    @pytest.mark.parametrize(
        "html, expected",
        [
            ("<p>hi</p><script>alert('x')</script><p>there</p>", "hi\nthere"),
            ("<SCRIPT type='text/javascript'>document.write('<p>x</p>')</SCRIPT>ok", "ok"),
            ("<script>var s = '</scr' + 'ipt>';</script>after", "after"),
            ("before<script>never closed <p>text</p>", "before"),
            ("<style>body{background:url(javascript:alert(1))}</style>seen", "seen"),
            ('<img src=x onerror="alert(\'>\')">after', "after"),
            ("<img src=x onerror='alert(\">\")'>after", "after"),
            ('<a href="javascript:alert(1)">click</a>', "click"),
            ('<svg onload=alert(1)><text>inside svg</text><script>x</script></svg>visible', "visible"),
            ("<iframe src='https://evil.example'>fallback</iframe>shown", "shown"),
            ("<!-- <script>alert(1)</script> -->text", "text"),
            ("<!-- never closed comment <p>hidden", ""),
            ("a<!---->b<!-- x --!>c", "abc"),
            ("<![CDATA[ <script>x</script> ]]>cdata", "cdata"),
            ('<a title="x>y" href="#">link</a>', "link"),
            ('<a title="unterminated>rest of the document', ""),
            ("<scr<script>ipt>alert(1)</script>", "ipt>alert(1)"),
            ("<noscript><p>no js</p></noscript>yes js", "yes js"),
            ("<template><p>t</p></template>real", "real"),
            ("<math><mi>x</mi></math>after", "after"),
            ("&lt;script&gt;alert(1)&lt;/script&gt;", "<script>alert(1)</script>"),
            ("<p>a</p>\x00<p>b</p>", "a\nb"),
            ("<object data='x.swf'><embed src='x'></object>z", "z"),
            ("<p>text</ 3>more</p>", "textmore"),
        ],
    )
    def test_hostile(self, html, expected):
        assert body_to_text(html) == expected

    def test_entity_encoded_markup_stays_text_not_tags(self):
        # Decoding happens after the tags are gone: an encoded tag is what the sender wrote.
        assert body_to_text("<p>&lt;img src=x onerror=alert(1)&gt;</p>") == "<img src=x onerror=alert(1)>"

    def test_output_never_contains_markup_from_real_tags(self):
        html = "<div><script>evil()</script><style>x</style><b onclick='e()'>bold</b></div>"
        out = body_to_text(html)
        assert out == "bold"
        assert "evil" not in out and "onclick" not in out

    @pytest.mark.parametrize(
        "body",
        [
            "<" * 50_000,
            "<a " * 20_000,
            '<a b="' * 10_000,
            "<!--" * 10_000,
            "<script>" * 10_000,
            "</" * 30_000,
            "&" * 50_000,
            "<div>" * 20_000 + "x" + "</div>" * 20_000,
            "<a " + "b=c " * 30_000 + ">",
            "<a " + '"' * 50_000,
        ],
        ids=["lt", "open", "unquoted", "comments", "scripts", "close", "amp", "nested", "attrs", "quotes"],
    )
    def test_pathological_input_is_linear(self, body):
        started = time.perf_counter()
        body_to_text(body)
        # Each of these takes a few ms here; catastrophic backtracking would take seconds or hang.
        assert time.perf_counter() - started < 1.0

    @hsettings(max_examples=300, deadline=None)
    @given(st.text(alphabet=st.sampled_from(list("<>/!-'\"=&;#ab pscrit\n\x00é😀")), max_size=200))
    def test_never_fails_and_never_returns_control_characters(self, body):
        out = body_to_text(body)
        assert isinstance(out, str)
        assert not any(ch in out for ch in "\x00\x07\x1b")
        assert out == out.strip()

    @hsettings(max_examples=200, deadline=None)
    @given(st.lists(st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc", "Zs", "Zl", "Zp"),
                                                     blacklist_characters="<>&"), min_size=1, max_size=20),
                    min_size=1, max_size=8))
    def test_paragraph_text_round_trips(self, paragraphs):
        html = "".join(f"<p>{p}</p>" for p in paragraphs)
        assert body_to_text(html).split("\n") == paragraphs


def _email_48k() -> str:
    row = (
        '<div class="gmail_quote" style="margin:0 0 0 .8ex;border-left:1px #ccc solid">'
        '<p style="margin:0">Hello Ana &amp; team, the room 東京 is booked — привет 😀 '
        '<a href="https://example.com/?a=1&amp;b=2">details</a> <img src="cid:x" alt="logo">'
        "&nbsp;</p><blockquote>On Monday you wrote:<br>Is the desk free?</blockquote></div>\n"
    )
    head = "<!DOCTYPE html><html><head><style>p{margin:0}</style></head><body>"
    body = head + row * (48 * 1024 // len(row.encode()) + 1) + "<script>x()</script></body></html>"
    assert len(body.encode()) >= 48 * 1024
    return body


def test_a_48_kb_email_converts_in_milliseconds():
    body = _email_48k()
    body_to_text(body)
    runs = 20
    started = time.perf_counter()
    for _ in range(runs):
        out = body_to_text(body)
    per_body = (time.perf_counter() - started) / runs
    assert "Hello Ana & team, the room 東京 is booked — привет 😀 details" in out
    assert "x()" not in out
    # About 1.5 ms on this 2-core machine; a loose bound that still catches a quadratic regression.
    assert per_body < 0.05, f"{per_body * 1000:.1f} ms per 48 KB body"


# --- joined_words: what the full-text index takes in beside the text ------------------------------


def test_words_with_an_inner_hyphen_or_apostrophe_are_joined():
    from inbox.sync.text import joined_words

    assert joined_words("The Wi-Fi is down", "Check-in at 9", None) == "wifi checkin"
    assert joined_words("O’Brien says don't", "Jean‐Luc") == "obrien dont jeanluc"  # typographic marks too
    assert joined_words("state-of-the-art Wi-Fi; wi-fi again") == "stateoftheart wifi"  # each once
    assert joined_words("Привет-мир", "東京-大阪") == "приветмир 東京大阪"  # any script


def test_what_is_not_a_joined_word_is_left_out():
    from inbox.sync.text import joined_words

    assert joined_words("2024-05-01, call 555-0100") == ""  # numbers alone
    assert joined_words("a - b, -x, y-, 'quoted' words, snake_case") == ""  # no letter on both sides
    assert joined_words("", None, "plain words only") == ""


def test_the_joined_words_are_capped():
    from inbox.sync.text import MAX_JOINED_CHARS, joined_words

    text = " ".join(f"w{i}-x{i}" for i in range(5000))
    joined = joined_words(text)
    assert 0 < len(joined) <= MAX_JOINED_CHARS and joined.startswith("w0x0 w1x1 ")


def test_joined_words_read_around_each_separator_as_a_word_pattern_would():
    """The separators are looked for first (for speed); the result is what matching the word
    pattern at every letter gives, on random text of letters, digits, marks and separators."""
    import random
    import re

    from inbox.sync.text import joined_words

    pattern = re.compile(r"[^\W_]+(?:[-\u2010\u2011'\u2019][^\W_]+)+")

    def slow(*texts):
        words = {}
        for text in texts:
            for match in pattern.finditer(text or ""):
                word = re.sub(r"[-\u2010\u2011'\u2019]", "", match.group()).lower()
                if not word.isdigit():
                    words.setdefault(word, None)
        return " ".join(words)

    rng = random.Random(5)
    alphabet = "ab1_-'’‐ é\u0301日x.\n"
    for _ in range(5000):
        texts = ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 30))) for _ in range(2)]
        assert joined_words(*texts) == slow(*texts), texts
