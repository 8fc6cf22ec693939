"""axe-core in the browser tests: ``run_axe(page)`` returns the serious and critical WCAG violations.

The engine is vendored (CI has no npm step): ``tests/browser/vendor/axe.min.js`` is axe-core
**4.14.1** (``npm pack axe-core@4``, the file ``axe.min.js`` of the package, unchanged), under the
Mozilla Public License 2.0 (``vendor/axe-core.LICENSE``; its bundled code's notices in
``vendor/axe-core.LICENSE-3RD-PARTY.txt``). To update it: ``npm pack axe-core@4`` in a scratch
folder, copy ``package/axe.min.js`` and the two licence files here, and change the version above.

The script is evaluated through the DevTools protocol (``page.evaluate``), which the page's
Content-Security-Policy does not govern, so the pages are checked with their real CSP on.
The message body's sandboxed frame is left out (``iframes: false``): it is the sender's HTML, shown
as sent, and a sandbox without scripts cannot run axe.
"""

from __future__ import annotations

from pathlib import Path

AXE_VERSION = "4.14.1"
AXE_SOURCE = Path(__file__).with_name("vendor") / "axe.min.js"
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
BLOCKING = ("serious", "critical")

_source: str | None = None


def _axe_source() -> str:
    global _source
    if _source is None:
        _source = AXE_SOURCE.read_text(encoding="utf-8")
    return _source


def run_axe(page, *, context: str | None = None) -> list[dict]:
    """The page's serious and critical violations of WCAG 2.0-2.2 A/AA, each with its nodes.

    Every result is ``{"id", "impact", "help", "nodes": [{"target", "summary"}]}``; an empty list
    means the page passes. ``context`` narrows the check to a CSS selector.
    """
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate(_axe_source())
        assert page.evaluate("() => window.axe && window.axe.version") == AXE_VERSION
    result = page.evaluate(
        """async ([context, tags]) => {
            const options = {runOnly: {type: "tag", values: tags}, resultTypes: ["violations"], iframes: false};
            const found = await window.axe.run(context ? document.querySelector(context) : document, options);
            return found.violations.map(v => ({
                id: v.id, impact: v.impact, help: v.help,
                nodes: v.nodes.map(n => ({target: n.target.join(" "), impact: n.impact, summary: n.failureSummary})),
            }));
        }""",
        [context, TAGS],
    )
    return [v for v in result if v["impact"] in BLOCKING]


def describe(violations: list[dict]) -> str:
    """Violations as lines a person can act on (for an assertion message)."""
    lines = []
    for v in violations:
        lines.append(f"{v['id']} ({v['impact']}): {v['help']}")
        for node in v["nodes"][:6]:
            summary = (node["summary"] or "").replace("\n", " ")
            lines.append(f"    {node['target']}: {summary[:300]}")
        if len(v["nodes"]) > 6:
            lines.append(f"    … and {len(v['nodes']) - 6} more")
    return "\n".join(lines)
