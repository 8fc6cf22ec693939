"""The stand-in Nexudus API is served only while it is the source (no Nexudus credentials set)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent

PROBE = """
import json, sys
import django
django.setup()
from django.test import Client
from django.urls import Resolver404, resolve
paths = ("/sandbox/api/token", "/sandbox/api/spaces/coworkermessages", "/sandbox/api/sys/businesses/1")
def resolves(path):
    try:
        resolve(path)
        return True
    except Resolver404:
        return False
found = {path: resolves(path) for path in paths}
statuses = {} if any(found.values()) else {path: Client().get(path).status_code for path in paths}
loaded = sorted(m for m in sys.modules if m.split(".")[0] == "sandbox")
print(json.dumps({"resolves": found, "statuses": statuses, "loaded": loaded}))
"""


def probe(tmp_path, **env: str) -> dict:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("NEXUDUS_", "DJANGO_SETTINGS"))}
    result = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=ROOT, capture_output=True, text=True, timeout=60,
        env={**base, "DJANGO_SETTINGS_MODULE": "tests.settings", "HELPDESK_VAR_DIR": str(tmp_path), **env},
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_with_credentials_the_sandbox_answers_404_and_is_not_loaded(tmp_path):
    seen = probe(tmp_path, NEXUDUS_USERNAME="api@example.com", NEXUDUS_PASSWORD="a-password")

    assert not any(seen["resolves"].values())
    assert set(seen["statuses"].values()) == {404}
    assert seen["loaded"] == []


def test_without_credentials_the_sandbox_is_the_source(tmp_path):
    seen = probe(tmp_path)

    assert all(seen["resolves"].values())
    assert "sandbox.views" in seen["loaded"]
