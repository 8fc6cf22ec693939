"""Settings come from the environment, and production refuses to start half-configured."""

from __future__ import annotations

import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent.parent


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


# --- HTTPS in production (README, "Production settings") ----------------------------------------

# Variables these tests set themselves: the caller's own are left out.
OWN_VARIABLES = ("DJANGO_", "SECRET_KEY", "DEBUG", "ALLOWED_HOSTS", "DATABASE_URL", "NEXUDUS_", "SECURE_", "CSRF_")


def run_with(tmp_path, args: list[str], **env: str) -> subprocess.CompletedProcess:
    """``python args`` in the project with ``env`` (DEBUG=1 unless it says otherwise)."""
    base = {k: v for k, v in os.environ.items() if not k.startswith(OWN_VARIABLES)}
    own = {"DJANGO_SETTINGS_MODULE": "helpdesk.settings", "HELPDESK_VAR_DIR": str(tmp_path), "DEBUG": "1"}
    return subprocess.run(
        [sys.executable, *args],
        cwd=ROOT,
        env={**base, **own, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def show_setting(tmp_path, expression: str, **env: str) -> subprocess.CompletedProcess:
    """Start Django with ``env``; stdout is the repr of ``expression`` (of the settings ``s``)."""
    code = f"import django; django.setup(); from django.conf import settings as s; print(repr({expression}))"
    return run_with(tmp_path, ["-c", code], **env)


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"SECURE_HSTS_SECONDS": "a year"}, "SECURE_HSTS_SECONDS must be a whole number"),
        ({"SECURE_HSTS_SECONDS": "-1"}, "SECURE_HSTS_SECONDS must be 0 (off) or more seconds"),
        ({"SECURE_HSTS_INCLUDE_SUBDOMAINS": "maybe"}, "SECURE_HSTS_INCLUDE_SUBDOMAINS must be a boolean"),
        ({"SECURE_HSTS_PRELOAD": "2"}, "SECURE_HSTS_PRELOAD must be a boolean"),
        ({"SECURE_SSL_REDIRECT": "https"}, "SECURE_SSL_REDIRECT must be a boolean"),
        ({"SECURE_PROXY_SSL_HEADER": "X-Forwarded-Proto"}, "e.g. HTTP_X_FORWARDED_PROTO or HTTP_X_FORWARDED_PROTO,https"),
        ({"SECURE_PROXY_SSL_HEADER": "http_x_forwarded_proto"}, "e.g. HTTP_X_FORWARDED_PROTO or"),
        ({"SECURE_PROXY_SSL_HEADER": "HTTP_X_FORWARDED_PROTO,https,http"}, "SECURE_PROXY_SSL_HEADER must be"),
        ({"SECURE_PROXY_SSL_HEADER": "HTTP_X_FORWARDED_PROTO,ht tps"}, "SECURE_PROXY_SSL_HEADER must be"),
        ({"SECURE_PROXY_SSL_HEADER": "HTTP_,https"}, "SECURE_PROXY_SSL_HEADER must be"),
    ],
)
def test_a_bad_https_setting_fails_at_start_saying_what_it_takes(tmp_path, env, message):
    result = show_setting(tmp_path, "s.DEBUG", **env)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert message in result.stderr


@pytest.mark.parametrize(
    ("value", "setting"),
    [
        (None, None),
        ("HTTP_X_FORWARDED_PROTO", ("HTTP_X_FORWARDED_PROTO", "https")),
        ("HTTP_X_FORWARDED_PROTO,https", ("HTTP_X_FORWARDED_PROTO", "https")),
        (" HTTP_X_FORWARDED_SSL , on ", ("HTTP_X_FORWARDED_SSL", "on")),
    ],
)
def test_the_proxy_ssl_header_is_a_header_name_and_the_value_meaning_https(tmp_path, value, setting):
    env = {} if value is None else {"SECURE_PROXY_SSL_HEADER": value}
    result = show_setting(tmp_path, "s.SECURE_PROXY_SSL_HEADER", **env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == repr(setting)


def test_https_settings_are_off_by_default_and_read_when_set(tmp_path):
    names = ["SECURE_HSTS_SECONDS", "SECURE_HSTS_INCLUDE_SUBDOMAINS", "SECURE_HSTS_PRELOAD", "SECURE_SSL_REDIRECT"]
    show = "(" + ", ".join(f"s.{name}" for name in names) + ")"
    values = {"SECURE_HSTS_SECONDS": "31536000", "SECURE_HSTS_INCLUDE_SUBDOMAINS": "1", "SECURE_HSTS_PRELOAD": "true",
              "SECURE_SSL_REDIRECT": "yes"}
    for env, expected in (({}, (0, False, False, False)), (values, (31536000, True, True, True))):
        result = show_setting(tmp_path, show, **env)
        assert result.returncode == 0, result.stderr
        assert result.stdout.strip() == repr(expected)


def documented_production_environment() -> dict[str, str]:
    """The ``export`` of README's "Production settings", with a real random SECRET_KEY."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("\n## Production settings\n", 1)[1].split("\n## ", 1)[0]
    block = re.search(r"```sh\n(.*?)```", section, re.DOTALL).group(1)
    env = dict(re.findall(r"([A-Z_]+)=(\S+)", block.replace("<50 or more random characters>", "KEY")))
    assert {"DEBUG", "SECRET_KEY", "ALLOWED_HOSTS", "DATABASE_URL", "SECURE_HSTS_SECONDS", "SECURE_SSL_REDIRECT"} <= set(env)
    return {**env, "SECRET_KEY": secrets.token_urlsafe(50)}


def test_check_deploy_is_clean_with_the_documented_production_settings(tmp_path):
    env = documented_production_environment()
    result = run_with(tmp_path, ["manage.py", "check", "--deploy", "--fail-level", "WARNING"], **env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout, result.stdout + result.stderr


def test_check_deploy_still_warns_without_them(tmp_path):
    """The test above proves something: the same check does warn when HTTPS is left off."""
    env = {k: v for k, v in documented_production_environment().items() if not k.startswith("SECURE_")}
    result = run_with(tmp_path, ["manage.py", "check", "--deploy"], **env)
    assert "security.W004" in result.stderr and "security.W008" in result.stderr
    assert "security.W019" not in result.stderr  # X-Frame-Options is DENY


def test_a_refused_page_is_one_line_in_the_log_and_a_server_error_keeps_its_traceback(staff_client, caplog):
    """A staff member opening an admin page (403) logged a whole traceback each time."""
    import logging

    with caplog.at_level(logging.WARNING, logger="django.request"):
        assert staff_client.get("/accounts/").status_code == 403
    refused = [r for r in caplog.records if r.name == "django.request"]
    assert refused and refused[0].getMessage().startswith("Forbidden") and refused[0].exc_info is None
    record = logging.getLogger("django.request").makeRecord(
        "django.request", logging.ERROR, __file__, 1, "Internal Server Error: /", (), (ValueError, ValueError("x"), None),
        extra={"status_code": 500},
    )
    from helpdesk.logs import ClientErrorsInOneLine

    assert ClientErrorsInOneLine().filter(record) and record.exc_info is not None


def test_the_sandboxs_injected_faults_are_not_on_the_console_as_the_apps_errors():
    """"Internal Server Error: /sandbox/api/..." for a fault the sandbox was told to inject read as
    the app crashing; a crash in the sandbox's code (with its exception) still shows."""
    import logging
    from types import SimpleNamespace

    from django.conf import settings as django_settings

    from helpdesk.logs import SandboxFaultsQuiet

    assert "sandbox_faults_quiet" in django_settings.LOGGING["handlers"]["console"]["filters"]

    def record(path, exc_info=None):
        return logging.getLogger("django.request").makeRecord(
            "django.request", logging.ERROR, __file__, 1, "Internal Server Error: %s", (path,), exc_info,
            extra={"status_code": 500, "request": SimpleNamespace(path=path)},
        )

    assert not SandboxFaultsQuiet().filter(record("/sandbox/api/spaces/coworkermessages"))
    assert SandboxFaultsQuiet().filter(record("/sandbox/api/token", (ValueError, ValueError("x"), None)))
    assert SandboxFaultsQuiet().filter(record("/inbox/mark/"))  # the app's own: kept
