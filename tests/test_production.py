"""Production setup: deploy checks, static files through gunicorn, health,
worker heartbeats, and logs and error reports without secrets."""

import base64
import datetime as dt
import io
import json
import logging
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone

from campaigns.logs import JsonFormatter, RedactingFormatter, redact
from campaigns.models import WorkerHeartbeat
from campaigns.services.operations import worker_heartbeat_beat

from .workers import start_run_worker

ROOT = Path(__file__).resolve().parent.parent
API_KEY = "cHJvZHVjdGlvbi1rZXktdGhhdC1tdXN0LW5ldmVyLWxlYWs="

# What an operator sets in production (docs/deploy.md); nothing else.
PRODUCTION_ENV = {
    "DEBUG": "false",
    "SECRET_KEY": "k" * 20 + "Zq8#pL2@vX9!mN4$rT7&wY1*bH6^cJ3(" + "s" * 10,
    "ALLOWED_HOSTS": "campaigns.example.com",
    "CSRF_TRUSTED_ORIGINS": "https://campaigns.example.com",
    "PUBLIC_BASE_URL": "https://campaigns.example.com",
    "TRUST_X_FORWARDED_PROTO": "true",
    "TELESIGN_CUSTOMER_ID": "FFFFFFFF-EEEE-DDDD-1234-AB1234567890",
    "TELESIGN_API_KEY": API_KEY,
}


def clean_env(**extra) -> dict:
    """The machine's environment without the test suite's relaxations, plus
    the production settings, plus `extra`."""
    keep = {"PATH", "HOME", "LANG", "PYTHONPATH", "SYSTEMROOT", "TMPDIR"}
    machine = {k: v for k, v in os.environ.items() if k in keep}
    return machine | PRODUCTION_ENV | extra


def manage(*args, env) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_check_deploy_is_clean_with_a_production_environment(tmp_path):
    env = clean_env(DATABASE_URL=f"sqlite:///{tmp_path}/db.sqlite3")
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout


def test_check_deploy_warns_about_each_unsafe_production_setting(tmp_path):
    env = clean_env(
        DATABASE_URL=f"sqlite:///{tmp_path}/db.sqlite3",
        SECURE_SSL_REDIRECT="false",
        SESSION_COOKIE_SECURE="false",
        SECURE_HSTS_SECONDS="0",
        TELESIGN_CALLBACKS_ALLOW_UNSIGNED="true",
    )
    result = manage("check", "--deploy", env=env)
    for check in (
        "security.W008",
        "security.W012",
        "security.W004",
        "campaigns.W001",
    ):
        assert check in result.stderr + result.stdout, check


def test_production_settings_refuse_to_start_without_a_secret_key(tmp_path):
    env = clean_env(DATABASE_URL=f"sqlite:///{tmp_path}/d.sqlite3")
    env.pop("SECRET_KEY")
    result = manage("check", env=env)
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.slow
def test_gunicorn_serves_the_app_and_compressed_cacheable_static_files(tmp_path):
    port = free_port()
    env = clean_env(
        DATABASE_URL=f"sqlite:///{tmp_path}/db.sqlite3",
        STATIC_ROOT=str(tmp_path / "static"),
        ALLOWED_HOSTS="127.0.0.1",
    )
    # As the TLS-terminating proxy in front of gunicorn says for each request.
    proxied = {"X-Forwarded-Proto": "https"}
    assert manage("migrate", "-v0", env=env).returncode == 0
    collected = manage("collectstatic", "--no-input", "-v0", env=env)
    assert collected.returncode == 0, collected.stderr
    server = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "gunicorn"),
            "config.wsgi",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "2",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                health = requests.get(
                    f"{base}/health/?check=web", headers=proxied, timeout=2
                )
                break
            except requests.ConnectionError:
                assert time.monotonic() < deadline, "gunicorn did not start"
                time.sleep(0.3)
        assert health.status_code == 200 and health.json()["database"]["ok"]
        plain = requests.get(f"{base}/admin/login/", allow_redirects=False, timeout=5)
        assert plain.status_code == 301
        assert plain.headers["Location"].startswith("https://")
        login = requests.get(f"{base}/admin/login/", headers=proxied, timeout=5)
        assert login.status_code == 200
        assert "Secure" in login.headers["Set-Cookie"]
        assert login.headers["Strict-Transport-Security"].startswith("max-age=31536000")
        assert login.headers["X-Frame-Options"] == "DENY"
        # The page links content-hashed static names, served compressed and
        # cacheable for ever by the app itself (no separate static server).
        hashed = next(
            part.split('"')[0]
            for part in login.text.split('href="')
            if part.startswith("/static/admin/css/base.")
        )
        static = requests.get(
            base + hashed, headers={**proxied, "Accept-Encoding": "gzip"}, timeout=5
        )
        assert static.status_code == 200
        assert "immutable" in static.headers["Cache-Control"]
        assert static.headers.get("Content-Encoding") == "gzip"
    finally:
        server.terminate()
        server.wait(timeout=10)


# --- Health and heartbeats -------------------------------------------------------


@pytest.mark.django_db
def test_health_is_503_until_a_worker_reports(client):
    answer = client.get(reverse("health"))
    assert answer.status_code == 503
    assert answer.json()["database"]["ok"] is True
    assert answer.json()["workers"]["live"] == 0
    # A load balancer asks about the web process only.
    assert client.get(reverse("health"), {"check": "web"}).status_code == 200


@pytest.mark.django_db
def test_health_is_200_with_a_recent_heartbeat_and_503_once_it_is_stale(client):
    worker_heartbeat_beat(
        name="host:1", hostname="host", pid=1, started_at=timezone.now()
    )
    answer = client.get(reverse("health"))
    assert answer.status_code == 200
    assert answer.json()["workers"]["live"] == 1
    # Callbacks stored for the workers to apply (deferred mode) are visible.
    assert answer.json()["callbacks_waiting"] == {
        "count": 0,
        "oldest_age_seconds": None,
    }
    WorkerHeartbeat.objects.update(
        last_seen_at=timezone.now() - dt.timedelta(minutes=5)
    )
    answer = client.get(reverse("health"))
    assert answer.status_code == 503
    assert answer.json()["workers"]["last_heartbeat_age_seconds"] >= 300


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_run_worker_reports_a_heartbeat_and_withdraws_it_on_stop(client):
    worker = start_run_worker(WORKER_HEARTBEAT_SECONDS="0.5")
    try:
        deadline = time.monotonic() + 30
        while not WorkerHeartbeat.objects.filter(pid=worker.pid).exists():
            assert time.monotonic() < deadline, "no heartbeat from run_worker"
            time.sleep(0.2)
        assert client.get(reverse("health")).status_code == 200
    finally:
        worker.terminate()
        worker.wait(timeout=20)
    assert not WorkerHeartbeat.objects.filter(pid=worker.pid).exists()


# --- Logs and error reports ------------------------------------------------------


def _log_through(formatter, settings, **record_kwargs) -> str:
    settings.TELESIGN_API_KEY = API_KEY
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(formatter)
    log = logging.getLogger("tests.secrets")
    log.addHandler(handler)
    log.propagate = False
    try:
        log.warning(
            "sending with api_key=%s and Authorization: Basic %s",
            API_KEY,
            "QUJDOnNlY3JldA==",
        )
        try:
            raise RuntimeError(f"Telesign refused TSA ABC:{'c2ln' * 8} key {API_KEY}")
        except RuntimeError:
            log.exception("send failed")
    finally:
        log.removeHandler(handler)
    return stream.getvalue()


@pytest.mark.parametrize("formatter", [JsonFormatter(), RedactingFormatter()])
def test_logs_never_show_api_keys_or_credentials(formatter, settings):
    output = _log_through(formatter, settings)
    assert API_KEY not in output
    assert "QUJDOnNlY3JldA==" not in output
    assert "c2lnc2ln" not in output
    assert output.count("[redacted]") >= 4
    assert "send failed" in output and "RuntimeError" in output


def test_json_logs_are_one_object_per_line(settings):
    lines = _log_through(JsonFormatter(), settings).strip().splitlines()
    entries = [json.loads(line) for line in lines]
    assert [e["level"] for e in entries] == ["WARNING", "ERROR"]
    assert entries[1]["exception"].startswith("Traceback")


def test_redact_hides_database_passwords_in_urls():
    text = redact("connecting to postgres://app:s3cr3t-pw@db.internal/campaigns")
    assert "s3cr3t-pw" not in text and "app:[redacted]@db.internal" in text


def test_error_reports_hide_secrets_in_variables_headers_and_settings(settings):
    from django.views.debug import get_exception_reporter_class

    # Made at run time: the report quotes this file's source lines too.
    api_key = base64.b64encode(os.urandom(24)).decode()
    settings.TELESIGN_CUSTOMER_ID = "ABC"
    basic = base64.b64encode(f"ABC:{api_key}".encode()).decode()
    signature = os.urandom(9).hex()
    settings.TELESIGN_API_KEY = api_key
    request = RequestFactory().post(
        "/api/telesign/callbacks/",
        data=json.dumps({"note": "key " + api_key}),
        content_type="application/json",
        headers={
            "authorization": "Basic " + basic,
            "x-ts-authorization": "TSA abc:" + signature,
        },
    )

    def send(api_key, signature):
        raise RuntimeError("Telesign refused the request")

    try:
        send(api_key, signature)
    except RuntimeError:
        exc_info = sys.exc_info()
    reporter = get_exception_reporter_class(request)(request, *exc_info)
    for report in (reporter.get_traceback_text(), reporter.get_traceback_html()):
        assert api_key not in report
        assert basic not in report
        assert signature not in report
        assert "Telesign refused the request" in report
