"""Hostile message bodies (the sandbox's own list plus ones that would leave a trace if they ever
ran) and an HTML inspector that lists what a sanitised fragment could still do. Mirror rows come
from tests/factories.py."""

from __future__ import annotations

from html.parser import HTMLParser


# Bodies that would leave a trace if any script in them ran: a dialog, a changed title, a global,
# or a request to a host the test watches. Together with sandbox.fake.hostile.HOSTILE_BODIES.
TRACE_BODIES: list[str] = [
    "<script>document.title='PWNED';window.__pwned=1;alert(1)</script><p>plain script</p>",
    "<img src=x onerror=\"document.title='PWNED';top.__pwned=1;fetch('/pwned?onerror')\">",
    "<svg><script>alert(1)</script><animate onbegin=\"alert(1)\" attributeName=x dur=1s></svg>",
    "<scr<script>ipt>alert(1)</scr</script>ipt><p>split script</p>",
    "<a href=\"javascript&#58;alert(1)\">entity colon</a> <a href=\"&#106;avascript:alert(1)\">entity j</a>"
    " <a href=\"jav&#x09;ascript:alert(1)\">tab</a> <a href=\"java&#0;script:alert(1)\">nul</a>",
    "<iframe srcdoc=\"<script>parent.document.title='PWNED'</script>\"></iframe><p>srcdoc</p>",
    "<object data=\"data:text/html,<script>alert(1)</script>\"></object><p>object data</p>",
    "<div style=\"background-image:url(https://evil.example/css-bg.png);width:expression(alert(1))\">css</div>",
    "<div style=\"color:red;x:\\65 xpression(alert(1));background:u\\rl(https://evil.example/esc.png)\">escaped css</div>",
    "<style>@import url(https://evil.example/import.css);</style><link rel=stylesheet href=https://evil.example/x.css><p>css loads</p>",
    "<img src=\"https://evil.example/beacon.gif\"><img srcset=\"https://evil.example/set.png 1x\"><video poster=https://evil.example/poster.png></video>",
    "<table background=\"https://evil.example/bg.png\"><tr><td background=\"https://evil.example/td.png\">cell</td></tr></table>",
    "<meta http-equiv=\"refresh\" content=\"0;url=javascript:alert(1)\"><base href=\"javascript:alert(1)//\"><a href=\"x\">rel</a>",
    "<form action=\"https://evil.example/steal\"><input type=image src=\"https://evil.example/input.png\"><button formaction=javascript:alert(1)>go</button></form>",
    "<noscript><p title=\"</noscript><img src=x onerror=alert(1)>\"></noscript><p>noscript</p>",
    "<math><mi xlink:href=\"javascript:alert(1)\">m</mi></math><svg><a xlink:href=\"javascript:alert(1)\"><text x=0 y=20>svg link</text></a></svg>",
    "<details open ontoggle=\"alert(1)\"><summary>ontoggle</summary>x</details>",
    "<a href=\"https://safe.example/\" onclick=\"alert(1)\" onmouseover=\"alert(1)\">hover me</a>",
    "<img src=\"//evil.example/protocol-relative.png\"><img src=\"cid:logo@x\"><img src=\"data:image/svg+xml,<svg onload=alert(1)>\">",
    "<body onload=\"alert(1)\"><p>body onload</p></body>",
    "Plain text with <script>alert(1)</script> inside and https://example.com/?q=<b>x</b>",
    "<!--<img src=x onerror=alert(1)>--><p>comment</p><![CDATA[<script>alert(1)</script>]]>",
]


def hostile_bodies() -> list[str]:
    from sandbox.fake.hostile import HOSTILE_BODIES

    return [*HOSTILE_BODIES, *TRACE_BODIES]


DANGEROUS_TAGS = {
    "script", "style", "iframe", "frame", "frameset", "object", "embed", "applet", "svg", "math",
    "form", "input", "button", "textarea", "select", "meta", "base", "link", "noscript",
    "template", "video", "audio", "source", "picture", "canvas", "animate", "set", "body", "html",
}  # fmt: skip
URL_ATTRIBUTES = {"href", "src", "action", "formaction", "data", "poster", "background", "srcset", "cite", "xlink:href"}


class Inspector(HTMLParser):
    """Everything in a fragment that could run, load or navigate: a list of findings."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.findings: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag in DANGEROUS_TAGS:
            self.findings.append(f"<{tag}>")
        for name, value in attrs:
            value = value or ""
            if name.startswith("on"):
                self.findings.append(f"{tag}[{name}]")
            if name in URL_ATTRIBUTES:
                squashed = "".join(c for c in value.lower() if c > " ")
                if not squashed.startswith(("http://", "https://", "mailto:")):
                    self.findings.append(f"{tag}[{name}={value!r}]")
            if name == "style":
                lowered = value.lower()
                for bad in ("url(", "expression", "\\", "@import", "image", "behavior", "binding"):
                    if bad in lowered:
                        self.findings.append(f"{tag}[style has {bad}]")
            if tag == "img" and name == "src" and value.startswith("//"):
                self.findings.append("img[src=//...]")

    handle_startendtag = handle_starttag


def findings(html: str) -> list[str]:
    inspector = Inspector()
    inspector.feed(html)
    inspector.close()
    return inspector.findings
