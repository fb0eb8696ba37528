"""System checks: sandbox mode (no Telesign credentials) needs DEBUG, or an
explicit setting, before any command starts the app."""

import subprocess
import sys
from pathlib import Path

import pytest
from django.core.checks import run_checks

ROOT = Path(__file__).resolve().parent.parent


def check_ids() -> set[str]:
    return {message.id for message in run_checks(tags=["security"])}


@pytest.mark.parametrize(
    ("debug", "allowed", "credentials", "refused"),
    [
        (False, False, False, True),
        (True, False, False, False),  # a developer's machine
        (False, True, False, False),  # a staging demo, allowed on purpose
        (False, False, True, False),  # production
    ],
)
def test_sandbox_mode_without_debug_is_an_error_unless_allowed(
    settings, debug, allowed, credentials, refused
):
    settings.DEBUG = debug
    settings.TELESIGN_SANDBOX_WITHOUT_DEBUG = allowed
    settings.TELESIGN_CUSTOMER_ID = "CUST" if credentials else ""
    settings.TELESIGN_API_KEY = "a2V5" if credentials else ""
    assert ("campaigns.E001" in check_ids()) is refused


def test_a_command_refuses_to_start_in_sandbox_mode_without_debug(tmp_path):
    env = {
        "PATH": "/usr/bin:/bin",
        "DEBUG": "false",
        "SECRET_KEY": "a-test-secret-key-that-is-long-enough-for-this-check",
        "DATABASE_URL": f"sqlite:///{tmp_path}/db.sqlite3",
    }
    result = subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), "check"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
    assert "campaigns.E001" in result.stderr
    allowed = subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), "check"],
        cwd=ROOT,
        env={**env, "TELESIGN_SANDBOX_WITHOUT_DEBUG": "true"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert allowed.returncode == 0, allowed.stderr
