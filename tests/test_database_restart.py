"""A PostgreSQL restart while the app works: a send in progress loses nobody
and messages nobody twice, the workers carry on by themselves, and the
callback endpoint never answers 200 for a callback it did not store.

Each test runs the app's real processes (`run_worker`, gunicorn) against a
private server it starts itself (tests/pg_private.py) and restarts it midway.
"""

import itertools
import json
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import pytest
import requests
from django.db import connection

from campaigns.models import CallbackEvent, Campaign, Recipient
from campaigns.services import sending

from .callback_helpers import (
    URL,
    delivery,
    make_recipient,
    new_reference,
    signed_headers,
)
from .factories import make_campaign
from .sandbox_helpers import ledger, start_sandbox
from .services.sending.helpers import audience_of, launched
from .workers import ROOT, Workers, free_port, subprocess_env, wait_for

pytestmark = pytest.mark.slow

RS = Recipient.SendStatus


def reconnected() -> None:
    """The test's own connection died with the server: open a new one."""
    connection.close()


def within(seconds: float, condition) -> bool:
    """Whether `condition` came true within `seconds`."""
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.5)
    return True


def outage(server, *, seconds: float, mode: str = "fast") -> None:
    """Stop the server (`fast`: as a deploy's restart does; `immediate`: as a
    crash does), keep it down, start it."""
    server.stop(mode)
    time.sleep(seconds)
    server.start()
    reconnected()


# --- Sending ------------------------------------------------------------------

RECIPIENTS = 300
RATE = 50  # per second: the send takes about six seconds


def test_a_database_restart_mid_send_loses_nobody_and_sends_nobody_twice(
    private_server, private_database, tmp_path
):
    sandbox = start_sandbox(callbacks_enabled=False, fetch_images=False, latency_ms=20)
    campaign = launched(RECIPIENTS, max_send_rate=RATE)
    workers = Workers(
        sandbox_url=sandbox.url,
        command="run_worker",
        log=tmp_path / "workers.log",
        CALLBACK_APPLY="deferred",
        ENGINE_TICK_SECONDS=1,
        WORKER_HEARTBEAT_SECONDS=0.5,
        SEND_CONCURRENCY=8,
        SEND_TASKS_PER_CAMPAIGN=2,
        SEND_TASK_SLICE_SECONDS=5,
        # Long enough that no recipient comes back through an expired claim
        # within the test: each must be carried through by the worker.
        SEND_CLAIM_TIMEOUT=120,
    )
    processes = workers.start(3)
    try:
        wait_for(
            lambda: ledger(sandbox)["accepted"] >= RECIPIENTS // 3,
            timeout=30,
            what="sending to be well under way",
        )
        outage(private_server, seconds=1.5, mode="immediate")
        assert ledger(sandbox)["accepted"] < RECIPIENTS, "the restart came too late"
        finished = within(40, lambda: completed(campaign))
        sent = ledger(sandbox)["accepted_by_external_id"]
        # Idle workers, only asking for tasks, outlive a restart too, and
        # take the next campaign's work without anyone starting them again.
        outage(private_server, seconds=1.0)
        alive = [process.poll() is None for process in processes]
        next_campaign = make_campaign([audience_of(20)], max_send_rate=100)
        sending.campaign_launch(campaign=next_campaign)
        next_finished = within(20, lambda: completed(next_campaign))
    finally:
        workers.stop()
        sandbox.stop()
    log = (tmp_path / "workers.log").read_text()
    recipients = Recipient.objects.filter(campaign=campaign)
    statuses = Counter(recipients.values_list("send_status", flat=True))
    assert finished and statuses == {RS.ACCEPTED: RECIPIENTS}, (
        f"{statuses}\n{log[-3000:]}"
    )
    assert set(sent) == set(recipients.values_list("external_id", flat=True))
    assert max(sent.values()) == 1, "a recipient was sent twice"
    assert alive == [True, True, True], f"a worker died:\n{log[-3000:]}"
    assert next_finished, log[-3000:]
    # The workers said what happened, without a traceback for a known fault.
    assert "database connection lost" in log and "Traceback" not in log, log[-3000:]


def completed(campaign) -> bool:
    reconnected()
    return Campaign.objects.get(pk=campaign.pk).status == Campaign.Status.COMPLETED


# --- Callbacks ----------------------------------------------------------------


class Poster:
    """Posts signed delivery reports, each a different body, and keeps every
    body with the status it was answered."""

    def __init__(self, base_url: str, references: list[str]):
        self.url = base_url + URL
        self.references = itertools.cycle(references)
        self.sequence = itertools.count()
        self.answers: list[tuple[bytes, int]] = []
        self.session = requests.Session()
        self.lock = threading.Lock()

    def post(self) -> int:
        with self.lock:
            number, reference = next(self.sequence), next(self.references)
        stamp = f"2026-11-28 10:{number // 6000 % 60:02d}:{number // 100 % 60:02d}"
        body = json.dumps(
            delivery(reference, code=3000, at=f"{stamp}:{number % 100:03d}")
        ).encode()
        try:
            status = self.session.post(
                self.url, data=body, headers=signed_headers(body), timeout=10
            ).status_code
        except requests.ConnectionError:
            status = 0  # no answer at all: Telesign sends it again
        with self.lock:
            self.answers.append((body, status))
        return status

    def statuses(self, start: int = 0) -> list[int]:
        with self.lock:
            return [status for _, status in self.answers[start:]]


def start_gunicorn(url: str, log: Path, **settings) -> tuple[subprocess.Popen, str]:
    port = free_port()
    env = subprocess_env(
        DATABASE_URL=url,
        ALLOWED_HOSTS="127.0.0.1",
        SECURE_SSL_REDIRECT="false",
        TELESIGN_SANDBOX_WITHOUT_DEBUG="true",
        **settings,
    )
    with open(log, "ab") as output:
        server = subprocess.Popen(
            [
                str(Path(sys.executable).parent / "gunicorn"),
                "config.wsgi",
                "--bind",
                f"127.0.0.1:{port}",
                "--workers",
                "1",
                "--threads",
                "4",
            ],
            cwd=ROOT,
            env=env,
            stdout=output,
            stderr=output,
        )
    base = f"http://127.0.0.1:{port}"
    wait_for(
        lambda: _answers(base + "/health/?check=web"),
        timeout=30,
        what="gunicorn to start",
    )
    return server, base


def _answers(url: str) -> bool:
    try:
        return requests.get(url, timeout=5).status_code == 200
    except requests.RequestException:  # not listening yet, or still loading
        return False


@pytest.mark.parametrize("apply", ["deferred", "inline"])
def test_the_callback_endpoint_rides_out_a_database_restart(
    private_server, private_database, apply, tmp_path
):
    campaign = make_campaign()
    references = [
        make_recipient(campaign=campaign, reference_id=new_reference()).reference_id
        for _ in range(10)
    ]
    server, base = start_gunicorn(
        private_database, tmp_path / "gunicorn.log", CALLBACK_APPLY=apply
    )
    poster = Poster(base, references)
    # A steady stream of callbacks from the side, as Telesign sends them, so
    # some requests are on their way when the server goes down and comes back.
    streaming = threading.Event()

    def stream():
        while not streaming.wait(0.02):
            poster.post()

    background = threading.Thread(target=stream, daemon=True)
    try:
        before = [poster.post() for _ in range(10)]
        background.start()
        time.sleep(0.5)
        private_server.stop("fast")
        down = [poster.post() for _ in range(5)]
        private_server.start()
        time.sleep(0.5)
        streaming.set()
        background.join(timeout=15)
        after = [poster.post() for _ in range(10)]
        still_serving = server.poll() is None
    finally:
        streaming.set()
        server.terminate()
        server.wait(timeout=10)
    log = (tmp_path / "gunicorn.log").read_text()
    assert before == [200] * 10
    assert down == [503] * 5, log[-3000:]
    # The same process answers again once the database is back.
    assert still_serving and after == [200] * 10, log[-3000:]
    # Anything that was not answered 200 is a 503 Telesign sends again.
    assert set(poster.statuses()) <= {200, 503}, poster.statuses()
    reconnected()
    answered = {
        CallbackEvent.body_digest(body) for body, s in poster.answers if s == 200
    }
    stored = set(
        CallbackEvent.objects.filter(body_sha256__in=answered).values_list(
            "body_sha256", flat=True
        )
    )
    assert len(answered) >= 20
    assert {bytes(digest) for digest in stored} == answered, (
        f"{len(answered - {bytes(d) for d in stored})} callbacks answered 200 "
        "were not stored"
    )
