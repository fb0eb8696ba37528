"""`make run` and its last step, `manage.py run_local`: web, worker and
sandbox come up together, and one signal to either stops all three."""

import io
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import requests
from PIL import Image

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


def descendants_of(pid: int) -> set[int]:
    found = children_of(pid)
    for child in set(found):
        found |= descendants_of(child)
    return found


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


MAKE = shutil.which("make")


@pytest.fixture(scope="module")
def migrated_database(tmp_path_factory):
    """A migrated SQLite file each `make run` test starts from a copy of."""
    path = tmp_path_factory.mktemp("make-run") / "db.sqlite3"
    migrated = subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), "migrate", "-v0"],
        cwd=ROOT,
        env=os.environ | {"DEBUG": "true", "DATABASE_URL": f"sqlite:///{path}"},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert migrated.returncode == 0, migrated.stderr
    return path


@pytest.mark.slow
@pytest.mark.skipif(MAKE is None, reason="make is not installed")
@pytest.mark.parametrize(
    "signum",
    [signal.SIGINT, signal.SIGHUP, signal.SIGTERM, signal.SIGKILL],
    ids=["SIGINT", "SIGHUP", "SIGTERM", "SIGKILL"],
)
def test_make_run_signalled_alone_as_a_supervisor_does_stops_everything(
    tmp_path, migrated_database, signum
):
    shutil.copy(migrated_database, tmp_path / "db.sqlite3")
    web_port, sandbox_port = free_port(), free_port()
    venv = Path(sys.executable).parent.parent
    env = {
        key: value
        for key, value in os.environ.items()
        if key in {"PATH", "HOME", "LANG", "TMPDIR"}
    } | {
        "DEBUG": "true",
        "DATABASE_URL": f"sqlite:///{tmp_path}/db.sqlite3",
        "TELESIGN_SANDBOX_URL": f"http://127.0.0.1:{sandbox_port}",
        "LOG_LEVEL": "WARNING",
    }
    # `make run` as it is, on this interpreter, without installing anything
    # or writing a .env (-o: take those targets as made).
    make = subprocess.Popen(
        [
            MAKE,
            "--no-print-directory",
            "run",
            f"VENV={venv}",
            f"PORT={web_port}",
            "-o",
            f"{venv}/.installed",
            "-o",
            f"{venv}/bin/python",
            "-o",
            ".env",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        # No terminal and no process group signalled with it: the signal
        # reaches make's pid only.
        start_new_session=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    started: set[int] = set()
    try:
        wait_for(
            lambda: (
                answers(f"http://127.0.0.1:{web_port}/health/?check=web")
                and answers(f"http://127.0.0.1:{sandbox_port}/health")
            ),
            timeout=120,
            what="make run's web and sandbox to answer",
        )
        started = descendants_of(make.pid)
        assert len(started) == 4  # run_local, web, worker, sandbox

        make.send_signal(signum)

        make.wait(timeout=30)
        wait_for(
            lambda: not any(running(pid) for pid in started),
            timeout=20,
            what="every process make run started to stop",
        )
        assert not answers(f"http://127.0.0.1:{web_port}/health/?check=web")
    finally:
        if make.poll() is None:
            make.kill()
        for pid in started | descendants_of(make.pid):
            if running(pid):
                os.kill(pid, signal.SIGKILL)


def test_browsers_asking_for_the_favicon_get_it_not_a_404(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 200
    assert response["Content-Type"] == "image/x-icon"
    icon = Image.open(io.BytesIO(b"".join(response.streaming_content)))
    assert icon.format == "ICO"
