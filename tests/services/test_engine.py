"""The engine's periodic tick."""

import datetime as dt

import pytest
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from campaigns.models import Campaign, Recipient
from campaigns.services import engine, sending

from ..factories import make_campaign
from .sending.helpers import audience_of

pytestmark = pytest.mark.django_db


def test_scheduled_campaign_starts_on_time_without_a_click():
    soon = timezone.now() + dt.timedelta(minutes=5)
    campaign = make_campaign([audience_of(2)], scheduled_at=soon)
    assert sending.campaign_launch(campaign=campaign).scheduled
    assert Recipient.objects.filter(campaign=campaign).count() == 0

    engine.engine_tick(now=soon - dt.timedelta(seconds=1))
    assert Campaign.objects.get(pk=campaign.pk).status == Campaign.Status.SCHEDULED

    assert engine.engine_tick(now=soon + dt.timedelta(seconds=1))["started"] == 1
    assert Campaign.objects.get(pk=campaign.pk).status == Campaign.Status.SENDING
    assert Recipient.objects.filter(campaign=campaign).count() == 2


def test_a_tick_run_queues_the_next_tick_and_a_second_run_is_skipped(settings):
    settings.ENGINE_TICK_SECONDS = 30
    before = timezone.now()

    figures = engine.engine_tick_run()

    assert figures["started"] == 0
    (next_tick,) = DBTaskResult.objects.filter(
        task_path="campaigns.tasks.engine_tick_task"
    )
    assert next_tick.run_after >= before + dt.timedelta(seconds=30)
    assert engine.engine_tick_run() == {"skipped": "another tick ran recently"}
    assert DBTaskResult.objects.count() == 1
