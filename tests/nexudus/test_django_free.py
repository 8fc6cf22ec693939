"""The client is Django-free: every module of ``inbox/nexudus/`` but ``configured.py`` imports in a
process where Django cannot be imported, and none of them imports another part of the project."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "inbox" / "nexudus"
ADAPTER = "configured"  # the one module that reads Django settings

MODULES = sorted(
    ["inbox.nexudus"]
    + [f"inbox.nexudus.{path.stem}" for path in PACKAGE.glob("*.py") if path.stem not in {"__init__", ADAPTER}]
)

PROBE = """
import importlib, json, sys
sys.modules["django"] = None  # "import django" (or anything under it) now raises ImportError
for name in sys.argv[1:]:
    importlib.import_module(name)
print(json.dumps(sorted(m for m in sys.modules if m == "inbox" or m.startswith("inbox."))))
"""


def test_the_package_has_the_modules_it_says():
    assert {name.rsplit(".", 1)[-1] for name in MODULES} >= {
        "auth", "client", "errors", "filters", "paging", "ratelimit", "records", "sort", "transport", "values"}
    assert (PACKAGE / f"{ADAPTER}.py").exists()


def probe(*modules: str) -> subprocess.CompletedProcess:
    """Imports ``modules`` in a new Python without DJANGO_SETTINGS_MODULE, and with Django blocked."""
    env = {key: value for key, value in os.environ.items() if key != "DJANGO_SETTINGS_MODULE"}
    return subprocess.run([sys.executable, "-c", PROBE, *modules], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=60)


def test_every_module_but_the_adapter_imports_without_django():
    result = probe(*MODULES)

    assert result.returncode == 0, result.stderr
    loaded = json.loads(result.stdout)
    assert set(MODULES) <= set(loaded)
    assert [name for name in loaded if name != "inbox" and not name.startswith("inbox.nexudus")] == []
    assert f"inbox.nexudus.{ADAPTER}" not in loaded


def test_the_adapter_is_the_one_that_needs_django():
    result = probe(f"inbox.nexudus.{ADAPTER}")

    assert result.returncode != 0 and "django" in result.stderr
