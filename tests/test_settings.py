"""Settings come from the environment, and production refuses to start half-configured."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def load_settings(
    tmp_path, *, show: str = "settings.DEBUG, settings.SESSION_COOKIE_SECURE, 'sandbox' in settings.INSTALLED_APPS",
    **env: str,
) -> subprocess.CompletedProcess:
    base = {
        k: v for k, v in os.environ.items()
        if not k.startswith(("DJANGO_", "SECRET_KEY", "DEBUG", "ALLOWED_HOSTS", "DATABASE_URL", "NEXUDUS_",
                             "SECURE_COOKIES"))
    }
    code = f"import django; django.setup(); from django.conf import settings; print({show})"
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**base, "DJANGO_SETTINGS_MODULE": "helpdesk.settings", "HELPDESK_VAR_DIR": str(tmp_path), **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


PRODUCTION = {"DATABASE_URL": "postgres://postgres@127.0.0.1:5432/helpdesk"}


def test_defaults_work_on_a_laptop_with_debug_off(tmp_path):
    result = load_settings(tmp_path)
    assert result.returncode == 0, result.stderr
    # DEBUG off, cookies fit plain HTTP on the loopback address, the sandbox is the source.
    assert result.stdout.split() == ["False", "False", "True"]


def test_the_embedded_default_keeps_a_generated_secret_key_owner_only(tmp_path):
    first = load_settings(tmp_path)
    key_file = tmp_path / "secret-key"
    key = key_file.read_text()

    assert first.returncode == 0 and len(key) >= 50 and "insecure" not in key
    assert key_file.stat().st_mode & 0o777 == 0o600
    assert load_settings(tmp_path).returncode == 0 and key_file.read_text() == key


def test_with_nexudus_credentials_the_sandbox_is_not_installed(tmp_path):
    result = load_settings(tmp_path, NEXUDUS_USERNAME="api@example.com", NEXUDUS_PASSWORD="secret")
    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[2] == "False"


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({**PRODUCTION, "ALLOWED_HOSTS": "example.com"}, "SECRET_KEY"),
        ({**PRODUCTION, "SECRET_KEY": "x" * 50}, "ALLOWED_HOSTS"),
        ({"DEBUG": "maybe"}, "DEBUG"),
        ({"NEXUDUS_SYNC_INTERVAL": "soon"}, "NEXUDUS_SYNC_INTERVAL"),
        ({"LOGIN_FAILURE_LIMIT": "0"}, "LOGIN_FAILURE_LIMIT"),
        ({"LOGIN_COOLOFF_MINUTES": "soon"}, "LOGIN_COOLOFF_MINUTES"),
        ({"LOGIN_PROXY_COUNT": "0"}, "LOGIN_PROXY_COUNT"),
    ],
)
def test_a_missing_or_bad_setting_fails_at_start_naming_it(tmp_path, env, named):
    result = load_settings(tmp_path, **env)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert named in result.stderr


def test_sign_in_throttling_reads_the_environment(tmp_path):
    show = "settings.AXES_FAILURE_LIMIT, settings.LOGIN_ADDRESS_FAILURE_LIMIT, settings.AXES_COOLOFF_TIME, settings.LOGIN_CLIENT_IP_HEADER"
    result = load_settings(tmp_path, show=show)
    assert result.stdout.strip() == "5 20 0:15:00 REMOTE_ADDR", result.stderr
    result = load_settings(
        tmp_path, show=show, LOGIN_FAILURE_LIMIT="3", LOGIN_ADDRESS_FAILURE_LIMIT="50",
        LOGIN_COOLOFF_MINUTES="60", LOGIN_CLIENT_IP_HEADER="X-Forwarded-For",
    )
    assert result.stdout.strip() == "3 50 1:00:00 X-Forwarded-For", result.stderr


def test_production_starts_when_configured_with_secure_cookies(tmp_path):
    result = load_settings(tmp_path, **PRODUCTION, SECRET_KEY="x" * 50, ALLOWED_HOSTS="example.com")
    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[:2] == ["False", "True"]


def test_debug_can_still_be_turned_on(tmp_path):
    result = load_settings(tmp_path, DEBUG="1")
    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[0] == "True"
