"""Hostile HTML in, inert HTML out: the sanitiser behind every message body.

A body is written by whoever e-mailed the space (or by a Nexudus template fed with customer data),
so it is treated as an attack until proven otherwise. This module is the first of two layers:

1. **nh3** (the Rust ammonia sanitiser) keeps an allow-list of tags, attributes and URL schemes
   (http, https, mailto; relative URLs are dropped, so ``cid:``, ``data:``, ``javascript:`` and
   ``//host`` all go); ``style`` attributes keep only plain properties whose values cannot load
   anything; links open in a new tab with ``rel="noopener noreferrer nofollow"``.
2. The view serves the result as its own document into a sandboxed iframe (no scripts, opaque
   origin) with a Content-Security-Policy that allows no script and, unless the reader asked for
   them, no images (``inbox.mailbox.message_views``). Either layer alone should hold; together they must.

Remote images are web beacons: unless ``remote_images=True`` their ``src`` is dropped here (the
CSP blocks them too), and :class:`CleanBody` says how many there were, for the "Show remote
images" button. Images on the reader's own machine or network, or on this app, are never shown:
the host is read as the browser would read it (``inbox.mailbox.url_hosts``), so no spelling of it gets
through. https://nh3.readthedocs.io/ https://docs.rs/ammonia/
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

import nh3
from django.conf import settings
from django.utils.html import escape, urlize

from inbox.mailbox.url_hosts import host_patterns, is_local, matches_any, url_host

TAGS = frozenset(
    {
        "a", "abbr", "acronym", "address", "article", "aside", "b", "bdi", "bdo", "big",
        "blockquote", "br", "caption", "center", "cite", "code", "col", "colgroup", "dd", "del",
        "details", "dfn", "div", "dl", "dt", "em", "figcaption", "figure", "font", "footer",
        "h1", "h2", "h3", "h4", "h5", "h6", "header", "hr", "i", "img", "ins", "kbd", "li",
        "main", "mark", "nav", "ol", "p", "pre", "q", "rp", "rt", "ruby", "s", "samp",
        "section", "small", "span", "strike", "strong", "sub", "summary", "sup", "table",
        "tbody", "td", "tfoot", "th", "thead", "time", "tr", "tt", "u", "ul", "var", "wbr",
    }
)  # fmt: skip

# Dropped with everything inside them: code, head matter, embedded documents and form controls.
# (Tags in neither set, like <form>, <button>, <label>, <input>, <meta>, <link>, <base>, are
# removed but their text stays.)
CLEAN_CONTENT_TAGS = frozenset(
    {
        "script", "style", "title", "noscript", "template", "svg", "math", "iframe", "frame",
        "frameset", "object", "embed", "applet", "noembed", "noframes", "xmp", "textarea",
        "select", "option", "datalist", "canvas", "audio", "video",
    }
)  # fmt: skip

_GENERIC = {"align", "dir", "lang", "title", "style"}
_CELL = {"width", "height", "colspan", "rowspan", "bgcolor", "valign", "nowrap"}
ATTRIBUTES: dict[str, set[str]] = {
    "*": _GENERIC,
    "a": {"href"},
    "img": {"src", "alt", "width", "height", "border", "hspace", "vspace"},
    "table": {"width", "border", "cellpadding", "cellspacing", "bgcolor", "summary", "valign"},
    "td": _CELL,
    "th": _CELL | {"scope"},
    "tr": {"bgcolor", "valign", "height"},
    "thead": {"valign", "bgcolor"},
    "tbody": {"valign", "bgcolor"},
    "tfoot": {"valign", "bgcolor"},
    "col": {"span", "width"},
    "colgroup": {"span", "width"},
    "font": {"color", "face", "size"},
    "ol": {"start", "type", "reversed"},
    "ul": {"type"},
    "li": {"value", "type"},
    "hr": {"width", "size", "noshade", "color"},
    "time": {"datetime"},
    "details": {"open"},
}
URL_SCHEMES = frozenset({"http", "https", "mailto"})
LINK_REL = "noopener noreferrer nofollow"

# Only properties that lay out or colour text; none of them takes a URL.
STYLE_PROPERTIES = frozenset(
    {
        "color", "background-color", "font", "font-family", "font-size", "font-style",
        "font-weight", "font-variant", "line-height", "letter-spacing", "word-spacing",
        "text-align", "text-decoration", "text-transform", "text-indent", "vertical-align",
        "white-space", "word-break", "word-wrap", "overflow-wrap", "direction", "display",
        "margin", "margin-top", "margin-right", "margin-bottom", "margin-left",
        "padding", "padding-top", "padding-right", "padding-bottom", "padding-left",
        "border", "border-top", "border-right", "border-bottom", "border-left",
        "border-color", "border-style", "border-width", "border-collapse", "border-spacing",
        "border-radius", "width", "height", "max-width", "min-width", "max-height", "min-height",
        "list-style-type", "table-layout", "float", "clear",
    }
)  # fmt: skip
# A declaration's value may hold words, numbers, units, colours, quotes and commas — and no
# function but rgb()/hsl(): no url(), expression(), var(), attr(); no backslash escapes and no
# comments (nh3's CSS parser would decode "\65 xpression" into "expression").
_COLOR_FUNCTION = re.compile(r"\b(?:rgba?|hsla?)\(\s*[\d\s.,%/]*\)", re.IGNORECASE)
_SAFE_VALUE = re.compile(r"[\w\s#%.,'\"!+\-/]*")

# A body is HTML if it holds a tag of HTML (not "<john@example.com>" or "<https://...>").
_HTML_TAG = re.compile(
    r"<(?:!doctype|!--|/?(?:html|head|body|meta|title|style|script|div|p|br|hr|span|a|b|i|u|s|"
    r"em|strong|font|img|table|thead|tbody|tr|td|th|ul|ol|li|dl|dt|dd|h[1-6]|blockquote|pre|"
    r"center|small|big|sup|sub|code|iframe|svg|math|form|input|button|object|embed|link|base|"
    r"section|article|header|footer|nav|main|aside|figure|label|textarea|select|video|audio|"
    r"noscript|template|frame|frameset|applet|xmp|details|summary|wbr|col|colgroup|caption|"
    r"tfoot|address|q|cite|abbr|mark|del|ins|kbd|samp|var|time|tt|strike)(?=[\s/>]))",
    re.IGNORECASE,
)
URLIZE_MAX_CHARS = 200_000  # linkifying is linear but not free: beyond this, plain text stays plain


@dataclass(frozen=True)
class CleanBody:
    """A body made safe to show: ``html`` goes inside the sandboxed body document."""

    html: str
    is_plain: bool = False  # the body was plain text (escaped, links made clickable)
    is_empty: bool = False  # nothing to show: null, blank, or nothing survived cleaning
    remote_images: int = 0  # http(s) images found; shown only if asked for


def looks_like_html(text: str) -> bool:
    return bool(_HTML_TAG.search(text))


def clean_style(value: str) -> str | None:
    """The declarations of a ``style`` attribute that are harmless, or None if none are."""
    kept = []
    for declaration in value.split(";"):
        name, colon, val = declaration.partition(":")
        name, val = name.strip().lower(), val.strip()
        if not colon or name not in STYLE_PROPERTIES:
            continue
        if "\\" in val or "/*" in val or val.count('"') % 2 or val.count("'") % 2:
            continue
        if not _SAFE_VALUE.fullmatch(_COLOR_FUNCTION.sub("", val)):
            continue
        kept.append(f"{name}: {val}")
    return "; ".join(kept) or None


def app_host_names(request_host: str | None = None) -> list[str]:
    """The names this app answers to: the request's host, ALLOWED_HOSTS and HELPDESK_SITE_URL's."""
    names = [*settings.ALLOWED_HOSTS, urlsplit(settings.HELPDESK_SITE_URL).netloc]
    return [*names, request_host] if request_host else names


def sanitize_html(html: str, *, remote_images: bool = False, own_host: str | None = None) -> tuple[str, int]:
    """``html`` with everything not allow-listed removed; and the number of remote images.

    Images on the reader's own machine or network (``inbox.mailbox.url_hosts.is_local``) or on this app
    (``own_host``, the request's host, and the configured ones) are always dropped, whatever the
    spelling of the host, so a body cannot make the reader's browser send requests there.
    """
    found = 0
    own_hosts = host_patterns(app_host_names(own_host))

    def attribute_filter(tag: str, attr: str, value: str) -> str | None:
        nonlocal found
        if attr == "style":
            return clean_style(value)
        if tag == "img" and attr == "src":
            try:
                host = url_host(value)  # as the browser would read it
            except ValueError:
                return None  # not http(s) (mailto: is for links), or no host a browser would load
            if is_local(host) or matches_any(host, own_hosts):
                return None
            found += 1
            return value if remote_images else None
        return value

    cleaned = nh3.clean(
        html,
        tags=set(TAGS),
        clean_content_tags=set(CLEAN_CONTENT_TAGS),
        attributes={tag: set(attrs) for tag, attrs in ATTRIBUTES.items()},
        attribute_filter=attribute_filter,
        strip_comments=True,
        link_rel=LINK_REL,
        url_schemes=set(URL_SCHEMES),
        url_relative="deny",
        set_tag_attribute_values={"a": {"target": "_blank"}},
        filter_style_properties=set(STYLE_PROPERTIES),
    )
    return cleaned, found


# Plain text made into HTML holds nothing but text and Django's urlize links; cleaning it again
# (links only) is the belt to urlize's braces, and a prebuilt Cleaner keeps a page of them cheap.
_LINKS_ONLY = nh3.Cleaner(
    tags={"a"},
    clean_content_tags=set(CLEAN_CONTENT_TAGS),
    attributes={"a": {"href"}},
    link_rel=LINK_REL,
    url_schemes=set(URL_SCHEMES),
    url_relative="deny",
    set_tag_attribute_values={"a": {"target": "_blank"}},
)


def plain_to_html(text: str) -> str:
    """Plain text as HTML: escaped, web and e-mail addresses made into safe links.

    Line breaks are kept by the body document's ``white-space: pre-wrap``."""
    if len(text) > URLIZE_MAX_CHARS:
        return escape(text)
    return _LINKS_ONLY.clean(urlize(text, nofollow=True, autoescape=True))


def clean_body(body: str | None, *, remote_images: bool = False, own_host: str | None = None) -> CleanBody:
    """What the reader shows for ``body``: cleaned HTML, or linkified plain text."""
    if body is None or not body.strip():
        return CleanBody(html="", is_empty=True)
    if not looks_like_html(body):
        return CleanBody(html=plain_to_html(body), is_plain=True)
    html, found = sanitize_html(body, remote_images=remote_images, own_host=own_host)
    empty = not found and not _has_visible_text(html)
    return CleanBody(html=html, is_empty=empty, remote_images=found)


def _has_visible_text(html: str) -> bool:
    return bool(nh3.clean(html, tags=set()).strip())
