"""Queuing work for the workers: the task module's entry points, found
through the registration the app makes at start-up."""

import datetime as dt

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from campaigns.models import EngineState
from campaigns.services.sending import loop, scheduling

pytestmark = pytest.mark.django_db
SEND_TASK = "campaigns.tasks.campaign_send_task"
TICK_TASK = "campaigns.tasks.engine_tick_task"


def queued(task_path: str):
    return DBTaskResult.objects.filter(task_path=task_path)


def test_send_tasks_are_queued_once_per_worker_expected_to_help(settings):
    settings.SEND_TASKS_PER_CAMPAIGN = 3
    assert scheduling.send_tasks_enqueue(campaign_id=7) == 3
    assert scheduling.send_tasks_enqueue(campaign_id=8, copies=1) == 1
    campaigns = sorted(r.args_kwargs["args"] for r in queued(SEND_TASK))
    assert campaigns == [[7], [7], [7], [8]]


def test_the_tick_is_queued_unless_one_ran_recently(settings):
    settings.ENGINE_TICK_SECONDS = 10
    EngineState.objects.update_or_create(
        pk=1, defaults={"last_tick_at": timezone.now() - dt.timedelta(seconds=5)}
    )
    assert scheduling.engine_tick_ensure() is False
    assert not queued(TICK_TASK).exists()

    EngineState.objects.filter(pk=1).update(
        last_tick_at=timezone.now() - dt.timedelta(seconds=31)
    )
    assert scheduling.engine_tick_ensure() is True
    assert queued(TICK_TASK).count() == 1


@pytest.mark.parametrize(
    ("stopped_because", "next_slices"),
    [(loop.TIME_SLICE_USED, 1), ("nothing due", 0), ("campaign paused", 0)],
)
def test_a_send_slice_queues_the_next_only_when_its_time_ran_out(
    monkeypatch, stopped_because, next_slices
):
    monkeypatch.setattr(
        loop,
        "campaign_send_run",
        lambda **_: loop.SendRunSummary(stopped_because=stopped_because),
    )
    summary = loop.campaign_send_slice(campaign_id=5)
    assert summary.stopped_because == stopped_because
    assert queued(SEND_TASK).count() == next_slices


def test_queuing_without_the_task_entry_points_says_what_is_missing(monkeypatch):
    monkeypatch.setattr(scheduling, "_entry_points", {})
    with pytest.raises(ImproperlyConfigured, match=r"campaigns\.tasks registers"):
        scheduling.send_tasks_enqueue(campaign_id=1)
