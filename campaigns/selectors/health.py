"""The state of the database and the task workers, for /health/."""

from datetime import datetime, timedelta

from django.conf import settings
from django.db import DatabaseError
from django.db.models import Count, Min
from django.utils import timezone

from ..db.ping import database_ping
from ..models import CallbackEvent, EngineState, WorkerHeartbeat


def system_health(*, now: datetime | None = None, check_workers: bool = True) -> dict:
    """The database and the task workers, as a load balancer or a monitor
    wants them: `ok` is False when either is down."""
    now = now or timezone.now()
    health: dict = {"ok": True, "database": {"ok": True}}
    try:
        database_ping()
    except DatabaseError as exc:
        health["ok"] = False
        health["database"] = {"ok": False, "error": exc.__class__.__name__}
        return health
    if not check_workers:
        return health
    health["workers"] = _workers(now)
    health["callbacks_waiting"] = _callbacks_waiting(now)
    health["status_checks"] = _status_checks(now)
    health["ok"] = health["workers"]["live"] > 0
    return health


def _age_seconds(now: datetime, then: datetime | None) -> float | None:
    return round((now - then).total_seconds(), 1) if then else None


def _workers(now: datetime) -> dict:
    """Live workers (a heartbeat within three beats), the newest heartbeat and
    the engine tick's age."""
    stale_after = settings.WORKER_HEARTBEAT_SECONDS * 3
    newest = WorkerHeartbeat.objects.order_by("-last_seen_at").first()
    live = WorkerHeartbeat.objects.filter(
        last_seen_at__gte=now - timedelta(seconds=stale_after)
    ).count()
    tick = EngineState.objects.filter(pk=1).values_list("last_tick_at", flat=True)
    last_tick = tick.first() if tick else None
    return {
        "ok": live > 0,
        "live": live,
        "last_heartbeat": newest.last_seen_at.isoformat() if newest else None,
        "last_heartbeat_age_seconds": (
            _age_seconds(now, newest.last_seen_at) if newest else None
        ),
        "engine_tick_age_seconds": _age_seconds(now, last_tick),
    }


def _callbacks_waiting(now: datetime) -> dict:
    """Callbacks stored for the workers to apply (deferred mode), and the
    oldest one's age."""
    waiting = CallbackEvent.objects.filter(
        processing=CallbackEvent.Processing.RECEIVED
    ).aggregate(count=Count("id"), oldest=Min("received_at"))
    return {
        "count": waiting["count"],
        "oldest_age_seconds": _age_seconds(now, waiting["oldest"]),
    }


def _status_checks(now: datetime) -> dict:
    """Telesign asked about messages whose callbacks were late: how often,
    with what result, and the last problem (numbers only)."""
    state = EngineState.objects.filter(pk=1).first()
    if state is None:
        return {"asked": 0, "found": 0, "ended": 0, "last_problem": None}
    return {
        "asked": state.status_checks_asked,
        "found": state.status_checks_found,
        "ended": state.status_checks_ended,
        "last_age_seconds": _age_seconds(now, state.status_check_last_at),
        "last_problem": state.status_check_problem or None,
        "last_problem_age_seconds": _age_seconds(now, state.status_check_problem_at),
    }
