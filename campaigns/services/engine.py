"""The engine's periodic tick: the housekeeping no single request owns.

Every ENGINE_TICK_SECONDS one tick runs somewhere (`engine_tick_claim` keeps
it to one across workers): it starts scheduled campaigns whose time has come,
recovers dead workers' claims, restarts stalled sending, completes finished
campaigns, sends again unconfirmed recipients no callback came for
(reconciling), queues again audience imports whose worker died, applies
deferred callbacks, asks Telesign about messages whose
callbacks are late (lost callbacks) and refreshes due reports. Queuing the
tick itself (`engine_tick_ensure`) is in `sending.scheduling`, beside the rest
of what the services queue.
"""

from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from ..models import Campaign, EngineState
from .audience_imports import audience_imports_resume_stalled
from .callbacks import callbacks_apply_pending, recipients_status_check
from .reports import campaign_reports_refresh_due
from .sending.claims import claims_expire, recipients_due
from .sending.launch import scheduled_campaigns_start
from .sending.reconcile import recipients_reconcile
from .sending.results import campaign_complete_if_done
from .sending.scheduling import engine_tick_enqueue, send_tasks_enqueue


def engine_tick(*, now: datetime | None = None) -> dict[str, int]:
    """Periodic housekeeping: start due scheduled campaigns, recover dead
    workers' claims, restart stalled sending, complete finished campaigns."""
    now = now or timezone.now()
    started = scheduled_campaigns_start(now=now)
    requeued, unconfirmed = claims_expire()
    reconciled = recipients_reconcile(now=now)
    restarted, completed = _sending_campaigns_keep_going(now=now)
    if settings.CALLBACK_APPLY == "deferred":
        # Workers started with run_worker apply callbacks continuously; this
        # keeps them applied whatever runs the workers.
        callbacks_apply_pending(max_seconds=2.0)
    checks = recipients_status_check(now=now, max_seconds=2.0)
    reports = campaign_reports_refresh_due(now=now)
    imports = audience_imports_resume_stalled(now=now)
    return {
        "started": started,
        "requeued": requeued,
        "unconfirmed": unconfirmed,
        "reconciled": reconciled.resent,
        "reconciled_closed": reconciled.closed,
        "restarted": restarted,
        "completed": completed,
        "status_checked": checks.asked,
        "status_check_ended": checks.ended,
        "reports": reports,
        "imports_resumed": imports,
    }


def _sending_campaigns_keep_going(*, now: datetime) -> tuple[int, int]:
    """Queue the send loop again for a sending campaign nobody has worked on
    lately though recipients are due; complete one with nobody left to send.
    Returns (restarted, completed)."""
    restarted = completed = 0
    stall = timedelta(seconds=max(10.0, 3 * settings.SEND_BATCH_SECONDS))
    for campaign in Campaign.objects.filter(status=Campaign.Status.SENDING).only(
        "id", "last_activity_at"
    ):
        if recipients_due(campaign_id=campaign.pk, now=now).exists():
            if not campaign.last_activity_at or campaign.last_activity_at < now - stall:
                Campaign.objects.filter(pk=campaign.pk).update(last_activity_at=now)
                send_tasks_enqueue(campaign_id=campaign.pk)
                restarted += 1
        elif campaign_complete_if_done(campaign_id=campaign.pk):
            completed += 1
    return restarted, completed


def engine_tick_claim(*, now: datetime | None = None) -> bool:
    """True if this tick may run: no other tick ran in the last interval."""
    now = now or timezone.now()
    interval = timedelta(seconds=settings.ENGINE_TICK_SECONDS * 0.8)
    EngineState.objects.get_or_create(pk=1)
    return bool(
        EngineState.objects.filter(pk=1)
        .filter(Q(last_tick_at__isnull=True) | Q(last_tick_at__lte=now - interval))
        .update(last_tick_at=now)
    )


def engine_tick_run() -> dict:
    """The tick as a worker runs it, then the next one queued
    ENGINE_TICK_SECONDS on; skipped (nothing queued) if another tick ran
    within the interval, as that one queues its own successor."""
    if not engine_tick_claim():
        return {"skipped": "another tick ran recently"}
    try:
        return engine_tick()
    finally:
        run_after = timezone.now() + timedelta(seconds=settings.ENGINE_TICK_SECONDS)
        engine_tick_enqueue(run_after=run_after)
