"""The layout's rules, checked on the source (docs/architecture.md says why each holds).

* no import cycle between the project's modules (function-level imports included: a cycle hidden
  inside a function is still a cycle);
* every database-vendor difference lives in ``inbox/platform/`` (migrations aside: they are history);
* the Nexudus client (``inbox/nexudus/``) is Django-free, but for the one module that builds it from
  the settings;
* one Redis client factory;
* comments cite only what a reader of the repository can open.
"""

from __future__ import annotations

import ast
import re
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("inbox", "helpdesk", "sandbox")


def _sources(*packages: str, migrations: bool = False) -> list[Path]:
    found = []
    for package in packages:
        for path in sorted((ROOT / package).rglob("*.py")):
            if not migrations and "migrations" in path.parts:
                continue
            found.append(path)
    return found


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports(path: Path, known: set[str]) -> set[str]:
    """The project modules ``path`` imports, at any level of the file (TYPE_CHECKING blocks aside)."""
    tree = ast.parse(path.read_text(), filename=str(path))
    name = _module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    skip: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            skip.update(id(child) for child in ast.walk(node))
    targets: set[str] = set()
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        if isinstance(node, ast.Import):
            for alias in node.names:
                targets.add(alias.name)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            for alias in node.names:
                child = f"{module}.{alias.name}"
                targets.add(child if child in known else module)
    resolved = set()
    for target in targets:
        while target and target not in known:
            target = target.rpartition(".")[0]
        if target and target != name:
            resolved.add(target)
    return resolved


def import_graph() -> dict[str, set[str]]:
    paths = _sources(*PACKAGES)
    known = {_module_name(p) for p in paths}
    return {_module_name(p): _imports(p, known) for p in paths}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in graph.get(node, ()):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_the_cycle_finder_finds_a_cycle():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_the_import_graph_has_no_cycle():
    graph = import_graph()
    # The graph was read (a broken reader would find no cycle): relative and absolute imports resolve.
    assert len(graph) > 50
    assert sum("inbox.models" in deps for deps in graph.values()) > 10
    assert cycles(graph) == []


VENDOR = re.compile(r"\.vendor\b")


def test_every_vendor_branch_lives_in_platform():
    offenders = [
        f"{path.relative_to(ROOT)}:{number}"
        for path in _sources(*PACKAGES)
        if "platform" not in path.relative_to(ROOT).parts[:2]
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if VENDOR.search(line)
    ]
    assert offenders == []


def test_the_nexudus_client_is_django_free():
    client = ROOT / "inbox" / "nexudus"
    graph = import_graph()
    offenders = {}
    for path in sorted(client.rglob("*.py")):
        if path.name == "configured.py":
            continue
        tree = ast.parse(path.read_text())
        names = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
        names |= {node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and not node.level}
        outside = {n for n in names if n.split(".")[0] == "django"}
        outside |= {m for m in graph[_module_name(path)] if not m.startswith("inbox.nexudus")}
        if outside:
            offenders[str(path.relative_to(ROOT))] = sorted(outside)
    assert offenders == {}


def test_one_redis_client_factory():
    allowed = {"inbox/platform/redis.py", "helpdesk/embedded_redis.py"}  # the latter: before settings exist
    offenders = [
        str(path.relative_to(ROOT))
        for path in _sources(*PACKAGES)
        if str(path.relative_to(ROOT)) not in allowed
        and re.search(r"redis\.(Redis|StrictRedis)\(|\.from_url\(", path.read_text())
    ]
    assert offenders == []


UNOPENABLE = re.compile(r"DESIGN\.md|STYLE\.md|nexudus-api\.md|design card")


def test_comments_cite_only_what_the_repository_holds():
    places = [ROOT / "README.md", ROOT / "Makefile", *(ROOT / "docs").rglob("*.md")]
    for folder in (*PACKAGES, "templates", "static", "bench", "scripts", "tests"):
        places += [p for p in (ROOT / folder).rglob("*") if p.is_file() and p.suffix in {".py", ".html", ".js", ".css", ".md", ""}]
    this = Path(__file__).resolve()
    offenders = defaultdict(list)
    for path in places:
        if path.resolve() == this or "__pycache__" in path.parts:
            continue
        try:
            text = path.read_text()
        except (UnicodeDecodeError, IsADirectoryError):
            continue
        for number, line in enumerate(text.splitlines(), 1):
            if UNOPENABLE.search(line):
                offenders[str(path.relative_to(ROOT))].append(number)
    assert dict(offenders) == {}
