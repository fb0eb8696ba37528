"""system_health: the database, the workers' heartbeats, the engine tick and
callbacks waiting, as /health/ reports them."""

import datetime as dt

import pytest
from django.db import OperationalError

from campaigns import selectors
from campaigns.models import CallbackEvent, EngineState, WorkerHeartbeat
from campaigns.selectors import health

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 5, 4, 10, 0, tzinfo=dt.UTC)


def _heartbeat(name, seconds_ago):
    WorkerHeartbeat.objects.create(
        name=name,
        hostname="host",
        pid=1,
        started_at=NOW - dt.timedelta(hours=1),
        last_seen_at=NOW - dt.timedelta(seconds=seconds_ago),
    )


def test_without_workers_the_system_is_not_ok_but_the_database_is():
    answer = selectors.system_health(now=NOW)
    assert answer["ok"] is False
    assert answer["database"] == {"ok": True}
    assert answer["workers"] == {
        "ok": False,
        "live": 0,
        "last_heartbeat": None,
        "last_heartbeat_age_seconds": None,
        "engine_tick_age_seconds": None,
    }
    assert answer["callbacks_waiting"] == {"count": 0, "oldest_age_seconds": None}


def test_a_recent_heartbeat_counts_a_stale_one_does_not(settings):
    settings.WORKER_HEARTBEAT_SECONDS = 10
    _heartbeat("fresh", seconds_ago=12.34)
    _heartbeat("stale", seconds_ago=31)
    EngineState.objects.create(pk=1, last_tick_at=NOW - dt.timedelta(seconds=4))
    answer = selectors.system_health(now=NOW)
    assert answer["ok"] is True
    workers = answer["workers"]
    assert (workers["ok"], workers["live"]) == (True, 1)
    assert workers["last_heartbeat_age_seconds"] == 12.3
    assert workers["last_heartbeat"] == (NOW - dt.timedelta(seconds=12.34)).isoformat()
    assert workers["engine_tick_age_seconds"] == 4.0


def test_callbacks_waiting_to_be_applied_are_counted_with_the_oldest_age():
    for processing in (
        CallbackEvent.Processing.RECEIVED,
        CallbackEvent.Processing.RECEIVED,
        CallbackEvent.Processing.APPLIED,
    ):
        CallbackEvent.objects.create(
            method="POST",
            raw_body=b"{}",
            signature=CallbackEvent.Signature.VALID,
            processing=processing,
        )
    CallbackEvent.objects.update(received_at=NOW - dt.timedelta(seconds=90))
    waiting = selectors.system_health(now=NOW)["callbacks_waiting"]
    assert waiting == {"count": 2, "oldest_age_seconds": 90.0}


def test_a_web_check_leaves_the_workers_out():
    assert selectors.system_health(now=NOW, check_workers=False) == {
        "ok": True,
        "database": {"ok": True},
    }


def test_a_database_that_does_not_answer_is_reported_by_error_name(monkeypatch):
    def refuse():
        raise OperationalError("connection refused")

    monkeypatch.setattr(health, "database_ping", refuse)
    assert selectors.system_health(now=NOW) == {
        "ok": False,
        "database": {"ok": False, "error": "OperationalError"},
    }
