"""Browser benchmark: click-to-paint in Chromium, on the million-message mirror, through gunicorn.

    .venv/bin/python bench/browser_bench.py                     # SQLite file var/bench/inbox.sqlite3
    .venv/bin/python bench/browser_bench.py --database-url postgres://postgres@127.0.0.1/hd_bench
    options: --repeat 30 --width 1440 --only filter,open,next-page,awaiting,customer-lookup

The mirror is the inbox benchmark's (``bench/inbox_bench.py`` generates it once). A gunicorn server
(the production setup, ``DEBUG`` off) serves it; Playwright drives Debian's Chromium
(``/usr/bin/chromium``) signed in as a staff user, and each action is timed inside the page, from
the moment of the click (or keystroke) to the frame after the new content is in the DOM (two
``requestAnimationFrame`` callbacks: the browser has painted it). Goal: p95 ≤ 100 ms each.

- ``filter``: tick or untick "Unread only" (htmx swaps the list; counts come separately).
- ``open``: open a message of the list in the reader pane.
- ``next-page``: the infinite-scroll sentinel comes into view, the next 50 rows are painted.
- ``awaiting``: tick "Awaiting reply" (from the unfiltered list), untick it again.
- ``customer-lookup``: type a name into the customer field; suggestions painted. The field waits
  for a pause in typing before it asks (its debounce); that pause is printed apart.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import export_bench  # noqa: E402  (the server start, the bench sign-in)
import inbox_bench  # noqa: E402  (the shared generator of the benchmark mirror)

CHROMIUM = "/usr/bin/chromium"

# Runs in the page: act, then wait until `done()` holds, then two animation frames (painted).
TIMED = """async ({act, done}) => {
  const action = new Function(act), finished = new Function(done);
  const t0 = performance.now();
  action();
  await new Promise((resolve) => {
    if (finished()) return resolve();
    const watch = new MutationObserver(() => { if (finished()) { watch.disconnect(); resolve(); } });
    watch.observe(document.body, {subtree: true, childList: true, attributes: true, characterData: true});
  });
  const inDom = performance.now() - t0;
  await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
  return {painted: performance.now() - t0, inDom};
}"""

# Each action: (set-up run before the timer, the timed act, when it is done). JavaScript bodies.
MARK_LIST = "document.querySelector('#results .list-head').dataset.bench = 'old';"
LIST_REPLACED = "const h = document.querySelector('#results .list-head'); return !!h && !h.dataset.bench;"
ACTIONS = {
    "filter": (
        MARK_LIST,
        "document.querySelector('input[name=unread]').click();",
        LIST_REPLACED,
    ),
    "awaiting": (
        MARK_LIST,
        "document.querySelector('input[name=awaiting]').click();",
        LIST_REPLACED,
    ),
    "open": (
        "window.__row = (window.__row || 0) % 40 + 1; const r = document.getElementById('reader');"
        " if (r.firstElementChild) r.firstElementChild.dataset.bench = 'old';",
        "document.querySelectorAll('#rows > li.msg .msg-link')[window.__row].click();",
        "const r = document.getElementById('reader'); const c = r.querySelector('h1, h2, .subject');"
        " return !!c && !c.closest('[data-bench]') ;",
    ),
    "next-page": (
        "window.__rows = document.querySelectorAll('#rows > li.msg').length;",
        "document.getElementById('more').scrollIntoView();",
        "return document.querySelectorAll('#rows > li.msg').length > window.__rows;",
    ),
}


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def settle(page) -> None:
    """Wait until what the action set off is done (the counts asked once the list is painted, a
    history snapshot filed once the page is idle), then a pause: each click is on a page at rest,
    as a person's is. (Playwright's "networkidle" had been reached once already: it waited for
    nothing, and the next click overlapped the counts of the one before.)"""
    page.wait_for_function("() => !document.querySelector('.htmx-request')")
    page.wait_for_timeout(300)


def run(page, name: str, base: str, repeat: int) -> list[dict]:
    """Time ``repeat`` runs of one action (after two warm-up runs): ``{"painted", "inDom"}`` in ms."""
    if name == "customer-lookup":
        return lookup(page, base, repeat)
    prepare, act, done = ACTIONS[name]
    times = []
    for i in range(repeat + 2):
        if i == 0 or name == "next-page" or (name == "awaiting" and i % 2 == 0):
            page.goto(base + "/")
            page.wait_for_selector("#rows > li.msg")
            settle(page)
        page.evaluate(f"() => {{ {prepare} }}")
        result = page.evaluate(TIMED, {"act": act, "done": done})
        settle(page)
        if i >= 2:
            times.append(result)
    return times


def lookup(page, base: str, repeat: int) -> list[dict]:
    """Type a customer's name: from the last keystroke to the suggestions painted (the field's
    debounce included, and printed apart)."""
    names = ["Ana", "Zoë", "Müller", "Nakamura", "Oskar", "Rosa"]
    times = []
    field = "#id_customer"
    for i in range(repeat + 2):
        page.goto(base + "/")
        # On a phone the filters fold under "Filters" while none is set: open them, as a person would.
        page.evaluate("() => { const more = document.getElementById('more-filters'); if (more) more.open = true; }")
        page.wait_for_selector(field)
        settle(page)
        page.fill(field, "")
        page.evaluate("() => { const l = document.querySelector('[role=listbox]'); if (l) l.dataset.bench = 'old'; }")
        result = page.evaluate(
            TIMED,
            {
                "act": f"const f = document.querySelector('{field}'); f.focus(); f.value = {names[i % len(names)]!r};"
                " f.dispatchEvent(new Event('input', {bubbles: true}));"
                " f.dispatchEvent(new KeyboardEvent('keyup', {bubbles: true, key: 'a'}));",
                "done": "const o = document.querySelector('[role=listbox] [role=option]');"
                " return !!o && !o.closest('[data-bench]') && o.offsetParent !== null;",
            },
        )
        if i >= 2:
            times.append(result)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default=None, help="default: SQLite file var/bench/inbox.sqlite3")
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--width", type=int, default=1440)
    parser.add_argument("--only", default="", help="comma-separated action names")
    args = parser.parse_args()
    names = [n for n in (*ACTIONS, "customer-lookup") if not args.only or n in args.only.split(",")]

    var_dir = ROOT / "var" / "bench"
    var_dir.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("SECRET_KEY", "browser-bench-secret-key-not-for-production")
    inbox_bench._setup(args.database_url, var_dir)
    from django.conf import settings
    from django.db import connection

    from helpdesk.embedded_redis import ensure_from_settings

    ensure_from_settings()  # the cache the server uses (the embedded one unless REDIS_URL is set)
    inbox_bench.generate(rows=1_000_000, accounts=50)
    cookie = export_bench.sign_in()
    vendor = connection.vendor
    connection.close()

    port = export_bench.free_port()
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "helpdesk.settings", "DEBUG": "0",
           "ALLOWED_HOSTS": "127.0.0.1,localhost", "LOG_LEVEL": "WARNING"}
    # With DEBUG off the pages name their static files by the manifest that collectstatic writes.
    subprocess.run([sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"], cwd=ROOT, env=env, check=True)
    server = export_bench.start_server("gunicorn", port, env)
    base = f"http://127.0.0.1:{port}"
    from playwright.sync_api import sync_playwright

    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
            context = browser.new_context(viewport={"width": args.width, "height": 900})
            context.add_cookies([{"name": settings.SESSION_COOKIE_NAME, "value": cookie, "url": base}])
            page = context.new_page()
            page.set_default_timeout(30_000)
            print(f"{vendor}, gunicorn (DEBUG off), Chromium at {args.width} px, {args.repeat} runs an action; "
                  f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs", flush=True)
            for name in names:
                results = run(page, name, base, args.repeat)
                times = [r["painted"] for r in results]
                in_dom = [r["inDom"] for r in results]
                median, p95 = statistics.median(times), percentile(times, 0.95)
                flag = "" if p95 <= 100 else "   <-- over goal"
                print(f"{name:18s} median {median:6.1f} ms   p95 {p95:6.1f} ms   "
                      f"(in the DOM: median {statistics.median(in_dom):6.1f} ms){flag}", flush=True)
            browser.close()
    finally:
        export_bench.stop_server(server)


if __name__ == "__main__":
    main()
