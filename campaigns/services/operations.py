"""What keeps the running system observable: worker heartbeats."""

from datetime import datetime

from django.utils import timezone

from ..models import WorkerHeartbeat
from .sending.scheduling import engine_tick_ensure


def worker_heartbeat_beat(
    *, name: str, hostname: str, pid: int, started_at: datetime
) -> None:
    """Record that a worker is alive, and make sure the engine's periodic
    tick runs while any worker does."""
    WorkerHeartbeat.objects.update_or_create(
        name=name,
        defaults={
            "hostname": hostname,
            "pid": pid,
            "started_at": started_at,
            "last_seen_at": timezone.now(),
        },
    )
    engine_tick_ensure()


def worker_heartbeat_stop(*, name: str) -> None:
    """A worker that stops cleanly says so (a killed one simply goes stale)."""
    WorkerHeartbeat.objects.filter(name=name).delete()
