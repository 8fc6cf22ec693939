"""The body sanitiser: every hostile pattern comes out inert, ordinary mail comes out readable."""

from __future__ import annotations

import pytest
from django.test import override_settings
from hypothesis import given, settings
from hypothesis import strategies as st

from inbox.mailbox.sanitize import clean_body, clean_style, looks_like_html, plain_to_html, sanitize_html
from tests.mailbox.message_fixtures import TRACE_BODIES, findings, hostile_bodies


@pytest.mark.parametrize("body", hostile_bodies())
def test_every_hostile_body_comes_out_inert(body):
    for images in (False, True):
        cleaned = clean_body(body, remote_images=images, own_host="testserver")
        assert findings(cleaned.html) == [], cleaned.html


def test_the_sandbox_list_is_covered():
    from sandbox.fake.hostile import HOSTILE_BODIES

    assert len(hostile_bodies()) == len(HOSTILE_BODIES) + len(TRACE_BODIES) >= 30


@pytest.mark.parametrize(
    ("html", "gone"),
    [
        ("<script>alert(1)</script><p>x</p>", "alert"),
        ("<SCRIPT SRC=https://evil.example/x.js></SCRIPT><p>x</p>", "evil"),
        ('<img src=x onerror="alert(1)">', "onerror"),
        ('<a href="javascript:alert(1)">x</a>', "javascript"),
        ('<a href=" JaVaScRiPt:alert(1)">x</a>', "alert"),
        ('<a href="javascript&#58;alert(1)">x</a>', "alert"),
        ('<a href="&#x6A;avascript:alert(1)">x</a>', "alert"),
        ('<a href="jav&#x09;ascript:alert(1)">x</a>', "alert"),
        ('<a href="vbscript:msgbox(1)">x</a>', "vbscript"),
        ('<svg onload="alert(1)"><circle r="4"/></svg><p>x</p>', "onload"),
        ('<svg><a xlink:href="javascript:alert(1)">x</a></svg>', "javascript"),
        ('<iframe src="https://evil.example/"></iframe><p>x</p>', "evil"),
        ("<iframe srcdoc=\"<script>alert(1)</script>\"></iframe><p>x</p>", "alert"),
        ("<style>body{display:none}</style><p>x</p>", "display"),
        ('<form action="https://evil.example/"><input name=p></form>', "evil"),
        ('<a href="data:text/html;base64,PHNjcmlwdD4=">x</a>', "data:"),
        ('<img src="data:image/png;base64,iVBORw0KGgo=">', "data:"),
        ('<div style="width: expression(alert(1))">x</div>', "expression"),
        ('<div style="x: \\65 xpression(alert(1))">x</div>', "xpression"),
        ('<div style="background: url(https://evil.example/x.png)">x</div>', "evil"),
        ('<div style="background-image: u\\72l(https://evil.example/x.png)">x</div>', "evil"),
        ('<div style="color: red; exp/**/ression(1)">x</div>', "ression"),
        ('<div style="-moz-binding: url(https://evil.example/x.xml#x)">x</div>', "binding"),
        ("<scr<script>ipt>alert(1)</script>", "<script"),
        ('<meta http-equiv="refresh" content="0;url=https://evil.example/">', "refresh"),
        ('<base href="https://evil.example/"><a href="/x">x</a>', "evil"),
        ('<link rel="stylesheet" href="https://evil.example/x.css">', "evil"),
        ("<object data=\"https://evil.example/x.swf\"></object>", "evil"),
        ("<embed src=\"https://evil.example/x.swf\">", "evil"),
        ('<a href="//evil.example/x">x</a>', "evil"),
        ('<img src="cid:part1@mail">', "cid:"),
        ('<math><mtext><table><mglyph><style><img src=x onerror=alert(1)></style></mglyph></table></mtext></math>', "onerror"),
        ('<noscript><p title="</noscript><img src=x onerror=alert(1)>"></noscript>', "onerror"),
        ("<!--<script>alert(1)</script>--><p>x</p>", "alert"),
        ('<p id="main" class="x" data-x="1">x</p>', "main"),
    ],
)
def test_hostile_pattern_is_removed(html, gone):
    cleaned, _ = sanitize_html(html)
    assert gone.lower() not in cleaned.lower(), cleaned
    assert findings(cleaned) == []


def test_links_open_in_a_new_tab_without_referrer_or_opener():
    cleaned, _ = sanitize_html('<a href="https://example.com/a" target="_self" rel="opener">x</a>')
    assert cleaned == (
        '<a href="https://example.com/a" target="_blank" rel="noopener noreferrer nofollow">x</a>'
    )


def test_mailto_and_http_links_survive_relative_ones_do_not():
    cleaned, _ = sanitize_html('<a href="mailto:a@b.example">m</a><a href="http://x.example">h</a><a href="/admin/">r</a>')
    assert 'href="mailto:a@b.example"' in cleaned
    assert 'href="http://x.example"' in cleaned
    assert "/admin/" not in cleaned


def test_ordinary_mail_keeps_its_formatting():
    html = (
        '<table width="600" cellpadding="4" bgcolor="#ffffff"><tr><td align="center" '
        'style="color: #333333; font-family: Arial, sans-serif; padding: 8px 12px">'
        "<h1>Booking confirmed</h1><p>Room <b>3</b>, <i>Tuesday</i></p>"
        "<ul><li>one</li></ul><blockquote>quoted</blockquote></td></tr></table>"
    )
    cleaned, _ = sanitize_html(html)
    for kept in ("<table", 'width="600"', 'bgcolor="#ffffff"', 'align="center"', "color:#333333",
                 "padding:8px 12px", "<h1>", "<b>3</b>", "<ul><li>one</li></ul>", "<blockquote>"):  # fmt: skip
        assert kept in cleaned, (kept, cleaned)


def test_head_matter_is_dropped_not_shown_as_text():
    cleaned = clean_body("<html><head><title>Newsletter title</title><style>p{}</style></head><body><p>Hi</p></body></html>")
    assert cleaned.html == "<p>Hi</p>"


class TestRemoteImages:
    BODY = '<p>Hi</p><img src="https://img.example/a.png" alt="logo" width="10"><img src="http://img.example/b.gif">'

    def test_blocked_by_default_and_counted(self):
        cleaned = clean_body(self.BODY)
        assert cleaned.remote_images == 2
        assert "img.example" not in cleaned.html
        assert 'alt="logo"' in cleaned.html and 'width="10"' in cleaned.html

    def test_shown_when_asked(self):
        cleaned = clean_body(self.BODY, remote_images=True)
        assert cleaned.remote_images == 2
        assert 'src="https://img.example/a.png"' in cleaned.html
        assert 'src="http://img.example/b.gif"' in cleaned.html

    def test_images_on_the_apps_own_host_are_always_dropped(self):
        cleaned = clean_body('<img src="http://helpdesk.example:8000/messages/1/">', remote_images=True, own_host="helpdesk.example")
        assert cleaned.remote_images == 0
        assert "messages" not in cleaned.html

    def test_images_on_the_apps_own_host_are_dropped_in_any_spelling(self):
        for src in ("http://HELPDESK.EXAMPLE./a.png", "https://Helpdesk.Example:443/a.png", "http://x@helpdesk.example/"):
            cleaned = clean_body(f'<img src="{src}">', remote_images=True, own_host="helpdesk.example")
            assert (cleaned.remote_images, "src=" in cleaned.html) == (0, False), src

    def test_non_http_image_sources_are_dropped_and_not_counted(self):
        cleaned = clean_body('<p>x</p><img src="mailto:a@b.example"><img src="cid:x"><img src="data:image/png;base64,AA">', remote_images=True)
        assert cleaned.remote_images == 0
        assert "src=" not in cleaned.html


class TestImagesThatReachHome:
    """An image is a request the reader's browser makes as soon as it is shown: one to the reader's
    own machine, their network or this app is dropped (never offered as a remote image), however
    the host is spelt. The host is read as browsers read it (``inbox.mailbox.url_hosts``)."""

    OWN = {"ALLOWED_HOSTS": ["helpdesk.example.com", ".corp.example", "[::1]"], "HELPDESK_SITE_URL": "https://Site.Example.org:8443"}

    @pytest.mark.parametrize(
        "src",
        [
            # The app itself: the request's host, ALLOWED_HOSTS (with subdomains for ".corp.example") and
            # HELPDESK_SITE_URL's, in any case, with a trailing dot, a port or credentials.
            "http://TESTSERVER./x", "https://HelpDesk.Example.COM/messages/1/read/", "http://helpdesk.example.com.:80/",
            "https://intranet.corp.example/", "https://CORP.EXAMPLE./", "https://site.example.org/healthz",
            "http://user:pw@site.example.org:8443/", "http://ｈｅｌｐｄｅｓｋ.example.com/",
            # localhost, and what browsers resolve to it.
            "http://LOCALHOST./", "http://localhost:8000/", "http://app.localhost/", "http://ｌｏｃａｌｈｏｓｔ/",
            # 127.0.0.1 in every form the URL standard reads as it.
            "http://127.0.0.1/", "http://2130706433/", "http://0x7f.1/", "http://0x7F000001/", "http://0177.0.0.1/",
            "http://0177.1/", "http://127.1/", "http://127.0.1/", "http://127.0.0.1./", "http://%31%32%37.0.0.1/",
            "http://１２７.０.０.１/", "http://127。0。0。1/", "http://127.0.0.&#9;1/", "http://12&#10;7.0.0.1/",
            "http://127.0.0.\u00ad1/",
            # IPv6 loopback and IPv4 inside IPv6.
            "http://[::1]/", "http://[0:0:0:0:0:0:0:1]:8000/", "http://[::ffff:127.0.0.1]/", "http://[::ffff:7f00:1]/",
            "http://[::127.0.0.1]/", "http://[64:ff9b::127.0.0.1]/", "http://[2002:7f00:1::]/",
            # Userinfo and separator tricks: the host is what follows the last @ of the authority, which
            # ends at / \ ? or #; any run of / and \ after the scheme is skipped.
            "http://evil@127.0.0.1/", "http://evil.example@127.0.0.1/", "http://evil.example:80@127.0.0.1:8000/",
            "http://127.0.0.1\\@evil.example/", "http://127.0.0.1#@evil.example/", "http://127.0.0.1?@evil.example/",
            "http:///127.0.0.1/", "http:\\\\127.0.0.1/", "http:/\\127.0.0.1/", "http:127.0.0.1/", "HTTP://127.0.0.1/",
            " \x01http://127.0.0.1/",
            # The reader's network: unspecified, private, link-local (cloud metadata), shared, unique-local.
            "http://0/", "http://0.0.0.0/", "http://10.1.2.3/", "http://172.16.0.1/", "http://192.168.1.1/router",
            "http://169.254.169.254/latest/meta-data/", "http://100.64.0.1/", "http://[fe80::1]/", "http://[fc00::1]/",
            # Hosts no browser would load: nothing to show, so nothing kept.
            "http://1.2.3.4.5/", "http://0x100000000/", "http://[::1/", "http://@/", "http://host:99999/",
        ],
    )
    def test_dropped_and_not_counted(self, src):
        with override_settings(**self.OWN):
            for images in (False, True):
                cleaned = clean_body(f'<p>x</p><img src="{src}" alt="pic">', remote_images=images, own_host="testserver")
                assert cleaned.remote_images == 0, src
                assert "src=" not in cleaned.html and 'alt="pic"' in cleaned.html, cleaned.html

    @pytest.mark.parametrize(
        "src",
        [
            "https://img.example/a.png", "http://8.8.8.8/pixel.gif", "http://[2001:4860:4860::8888]/x.png",
            "https://bücher.example/logo.png", "https://cdn.example:8443/a.png", "https://user@cdn.example/a.png",
            "https://img.example/?u=http://127.0.0.1/", "https://notcorp.example/", "https://helpdesk.example.com.evil.example/",
        ],
    )
    def test_other_hosts_stay_remote_images(self, src):
        with override_settings(**self.OWN):
            assert clean_body(f'<img src="{src}">').remote_images == 1
            shown = clean_body(f'<img src="{src}">', remote_images=True, own_host="testserver")
        assert shown.remote_images == 1 and "src=" in shown.html, src


class TestPlainText:
    def test_escaped_with_links_and_line_breaks_kept(self):
        cleaned = clean_body("Hello <ada@example.com>,\n\nsee https://example.com/a?b=1&c=2.\n-- \nBob")
        assert cleaned.is_plain
        assert "&lt;" in cleaned.html and "&gt;" in cleaned.html
        assert '<a href="mailto:ada@example.com" target="_blank" rel="noopener noreferrer nofollow">' in cleaned.html
        assert '<a href="https://example.com/a?b=1&amp;c=2" target="_blank"' in cleaned.html
        assert "\n\nsee" in cleaned.html

    def test_text_that_only_mentions_angle_brackets_is_plain(self):
        assert not looks_like_html("if a < b and c > d then <https://example.com>")
        assert looks_like_html("Hi<br>there")
        assert looks_like_html("<P ALIGN=center>x")

    def test_javascript_urls_are_not_linkified(self):
        html = plain_to_html("click javascript:alert(1) or www.example.com")
        assert findings(html) == []
        assert 'href="http://www.example.com"' in html
        assert "javascript:alert(1)" in html  # as text

    def test_huge_plain_text_is_escaped_without_linkifying(self):
        text = "<x> https://example.com " * 20_000
        html = plain_to_html(text)
        assert "<a " not in html and "&lt;x&gt;" in html


@pytest.mark.parametrize("body", [None, "", "   \n\t ", "<script>alert(1)</script>", "<style>p{}</style>"])
def test_nothing_to_show_is_empty(body):
    assert clean_body(body).is_empty


def test_style_filter_keeps_safe_declarations_only():
    assert clean_style("color: red; position: fixed; font-weight: bold") == "color: red; font-weight: bold"
    assert clean_style("color: rgb(1, 2, 3); background-color: hsla(120, 50%, 50%, .5)") == (
        "color: rgb(1, 2, 3); background-color: hsla(120, 50%, 50%, .5)"
    )
    assert clean_style("font-family: 'Segoe UI', Arial") == "font-family: 'Segoe UI', Arial"
    for bad in ("background: url(x)", "width: calc(1px + 2px)", "color: red\\;", "color: var(--x)",
                'font-family: "a', "color: /* */ red", "width: attr(x)", "behavior: url(x.htc)"):  # fmt: skip
        assert clean_style(bad) is None, bad


FRAGMENTS = st.sampled_from(
    [
        "<script>", "</script>", "<img src=x onerror=alert(1)>", "<a href='javascript:x'>", "<svg",
        " onload=alert(1)", "<style>", "<iframe>", "<!--", "-->", "\"", "'", "<", ">", "&#58;",
        "javascript:", "<scr", "ipt>", "<div style=\"", "expression(", "url(", "\\", "<math>",
        "<form>", "data:", "<base href=//x>", "<p>", "</p>", "=", " ", "<noscript>", "<template>",
    ]
)  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(FRAGMENTS, st.text(max_size=8)), max_size=40))
def test_no_mix_of_hostile_fragments_survives(parts):
    body = "".join(parts)
    for images in (False, True):
        assert findings(clean_body(body, remote_images=images).html) == []
