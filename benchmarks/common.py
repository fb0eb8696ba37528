"""Shared set-up for benchmark scripts: a throwaway database and the sandbox."""

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent


def prepare_database(
    kind: str, *, fresh: bool = True, pg_name: str = "campaigns_bench"
) -> str:
    """Point Django at a fresh benchmark database and migrate it; returns its URL.

    With fresh=False, a PostgreSQL benchmark database left by an earlier run is
    kept as it is (to measure again without seeding again)."""
    if kind == "sqlite":
        path = Path(tempfile.mkdtemp(prefix="bench-")) / "bench.sqlite3"
        url = f"sqlite:///{path}"
    elif kind == "postgres":
        import psycopg

        with psycopg.connect(
            "postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True
        ) as conn:
            exists = conn.execute(
                "SELECT 1 FROM pg_database WHERE datname = %s", [pg_name]
            ).fetchone()
            if fresh or not exists:
                conn.execute(f'DROP DATABASE IF EXISTS "{pg_name}" WITH (FORCE)')
                conn.execute(f'CREATE DATABASE "{pg_name}"')
        url = f"postgres://postgres@127.0.0.1:5432/{pg_name}"
    else:
        raise SystemExit(f"unknown database {kind!r}")
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("SECRET_KEY", "benchmark-only-secret-key")
    # Production-like (DEBUG off) against the sandbox, whose key signs the
    # benchmark's callbacks.
    os.environ.setdefault("TELESIGN_SANDBOX_WITHOUT_DEBUG", "true")
    # Benchmarks talk plain http on loopback.
    for name in ("SECURE_SSL_REDIRECT", "SESSION_COOKIE_SECURE", "CSRF_COOKIE_SECURE"):
        os.environ.setdefault(name, "false")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    return url


def gunicorn_command(port: int, *, threads: int = 4) -> list[str]:
    """The web server as the Procfile runs it: 2 workers with threads."""
    return [
        sys.executable,
        "-m",
        "gunicorn",
        "config.wsgi:application",
        "--workers",
        "2",
        "--threads",
        str(threads),
        "--bind",
        f"127.0.0.1:{port}",
        "--log-level",
        "warning",
    ]


def start_sandbox(port: int, *extra: str) -> subprocess.Popen:
    """The sandbox in its own process, so it does not share our interpreter."""
    env = {**os.environ, "LOG_LEVEL": "WARNING"}
    process = subprocess.Popen(
        [
            sys.executable,
            str(ROOT / "manage.py"),
            "telesign_sandbox",
            "--port",
            str(port),
            "--no-callbacks",
            "--no-image-fetch",
            *extra,
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            requests.get(f"http://127.0.0.1:{port}/health", timeout=1)
            return process
        except requests.RequestException:
            time.sleep(0.2)
    process.kill()
    raise SystemExit("the sandbox did not start")


def machine() -> str:
    import platform

    cpus = os.cpu_count()
    with open("/proc/meminfo") as meminfo:
        total_kb = int(meminfo.readline().split()[1])
    return (
        f"{platform.node()}: {cpus} cores, {total_kb / 1024 / 1024:.0f} GiB, "
        f"Python {platform.python_version()}, {platform.platform()}"
    )
