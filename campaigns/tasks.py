"""django.tasks entry points: they take ids and call one service."""

import logging
from datetime import timedelta

from django.conf import settings
from django.tasks import task
from django.utils import timezone

from . import services

logger = logging.getLogger(__name__)


@task()
def campaign_send_task(campaign_id: int) -> dict:
    """Sends for a bounded time slice, then queues the next slice, so workers
    stop gracefully within seconds and campaigns share workers fairly."""
    summary = services.campaign_send_run(
        campaign_id=campaign_id, max_seconds=settings.SEND_TASK_SLICE_SECONDS
    )
    if summary.stopped_because == "time slice used":
        campaign_send_task.enqueue(campaign_id)
    return summary.__dict__


@task()
def engine_tick_task() -> dict:
    """Runs the engine's housekeeping, then queues itself again."""
    if not services.engine_tick_claim():
        return {"skipped": "another tick ran recently"}
    try:
        return services.engine_tick()
    finally:
        run_after = timezone.now() + timedelta(seconds=settings.ENGINE_TICK_SECONDS)
        engine_tick_task.using(run_after=run_after).enqueue()
