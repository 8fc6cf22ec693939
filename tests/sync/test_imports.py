"""The sync's modules import one another without a cycle, and none of them imports the tasks.

The tasks call the services; a service that imported the tasks (to queue one) made a cycle that a
function-level import used to hide. Every import counts here, at module level or in a function.
"""

from __future__ import annotations

import ast
from pathlib import Path

import inbox

INBOX = Path(inbox.__file__).resolve().parent
SYNC = "inbox.sync"


def module_name(path: Path) -> str:
    parts = path.relative_to(INBOX.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules() -> dict[str, Path]:
    return {module_name(path): path for path in INBOX.rglob("*.py")}


def imports_of(name: str, path: Path, known: dict[str, Path]) -> set[str]:
    """The inbox modules ``name`` imports (``from package import module`` counts as the module)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return {module for module in found if module in known and module != name}


def graph() -> dict[str, set[str]]:
    known = modules()
    return {name: imports_of(name, path, known) for name, path in known.items()}


def test_no_import_cycle_in_the_sync():
    edges = {name: {m for m in found if m.startswith(SYNC)} for name, found in graph().items()
             if name.startswith(SYNC)}
    done: set[str] = set()

    def visit(name: str, path: list[str]) -> None:
        if name in path:
            raise AssertionError("import cycle: " + " -> ".join([*path[path.index(name):], name]))
        if name in done:
            return
        for imported in sorted(edges.get(name, ())):
            visit(imported, [*path, name])
        done.add(name)

    for name in sorted(edges):
        visit(name, [])
    assert f"{SYNC}.services" in edges and f"{SYNC}.tasks" in edges  # the walk saw the modules


def test_nothing_in_the_app_imports_the_tasks():
    importers = sorted(name for name, found in graph().items() if f"{SYNC}.tasks" in found)
    assert importers == []
