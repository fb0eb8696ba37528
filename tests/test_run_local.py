"""`make run`'s last step, `manage.py run_local`: web, worker and sandbox come
up together, and one signal to it stops all three."""

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from .test_production import free_port
from .workers import wait_for

ROOT = Path(__file__).resolve().parent.parent


def children_of(pid: int) -> set[int]:
    found = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # ended meanwhile
        if int(fields[1]) == pid:
            found.add(int(entry.name))
    return found


def running(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def answers(url: str) -> bool:
    try:
        return requests.get(url, timeout=2).status_code == 200
    except requests.ConnectionError:
        return False


@pytest.mark.slow
@pytest.mark.parametrize(
    "signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"]
)
def test_run_local_starts_web_worker_and_sandbox_and_one_signal_stops_them(
    tmp_path, signum
):
    web_port, sandbox_port = free_port(), free_port()
    env = {
        key: value
        for key, value in os.environ.items()
        if key in {"PATH", "HOME", "LANG", "PYTHONPATH", "TMPDIR"}
    } | {
        "DEBUG": "true",
        "DATABASE_URL": f"sqlite:///{tmp_path}/db.sqlite3",
        "TELESIGN_SANDBOX_URL": f"http://127.0.0.1:{sandbox_port}",
        "LOG_LEVEL": "WARNING",
    }
    migrated = subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), "migrate", "-v0"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert migrated.returncode == 0, migrated.stderr
    command = [sys.executable, str(ROOT / "manage.py"), "run_local"]
    run_local = subprocess.Popen(
        [*command, "--port", str(web_port)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        # As a shell starts a background job: Ctrl-C's signal ignored.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN),
    )
    started: set[int] = set()
    try:
        wait_for(
            lambda: (
                answers(f"http://127.0.0.1:{web_port}/health/?check=web")
                and answers(f"http://127.0.0.1:{sandbox_port}/health")
            ),
            timeout=60,
            what="web and sandbox to answer",
        )
        started = children_of(run_local.pid)
        assert len(started) == 3  # web, worker, sandbox

        run_local.send_signal(signum)

        assert run_local.wait(timeout=30) == 0
        wait_for(
            lambda: not any(running(pid) for pid in started),
            timeout=15,
            what="every process run_local started to stop",
        )
        assert not answers(f"http://127.0.0.1:{web_port}/health/?check=web")
    finally:
        if run_local.poll() is None:
            run_local.kill()
        for pid in started | children_of(run_local.pid):
            if running(pid):
                os.kill(pid, signal.SIGKILL)
