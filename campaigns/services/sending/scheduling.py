"""The one place the services ask for work to run later, as django.tasks.

Services never import the task module. `campaigns.tasks` holds the entry
points a worker runs; it imports the services and hands its tasks to
`task_entry_points_register` when it is imported, which the app's
`CampaignsConfig.ready` does at start-up. So the only import between the two
goes from the tasks to the services, and a worker finds its entry points by
their dotted path as it always does.
"""

from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.tasks import Task
from django.utils import timezone

from ...models import EngineState

_entry_points: dict[str, Task] = {}


def task_entry_points_register(
    *,
    campaign_send: Task,
    engine_tick: Task,
    audience_import_check: Task,
    audience_import_run: Task,
) -> None:
    """Name the tasks that run a campaign's send slice, the engine's tick and
    an audience import's check and import."""
    _entry_points.update(
        campaign_send=campaign_send,
        engine_tick=engine_tick,
        audience_import_check=audience_import_check,
        audience_import_run=audience_import_run,
    )


def _entry_point(name: str) -> Task:
    try:
        return _entry_points[name]
    except KeyError:
        raise ImproperlyConfigured(
            f"No task is registered to run {name!r}: campaigns.tasks registers "
            "them when CampaignsConfig.ready imports it."
        ) from None


def send_tasks_enqueue(*, campaign_id: int, copies: int | None = None) -> int:
    """Queue the send loop for this campaign, once per worker expected to help."""
    copies = copies or settings.SEND_TASKS_PER_CAMPAIGN
    campaign_send = _entry_point("campaign_send")
    for _ in range(copies):
        campaign_send.enqueue(campaign_id)
    return copies


def engine_tick_enqueue(*, run_after: datetime | None = None) -> None:
    """Queue one run of the engine's periodic tick (at once, or not before
    `run_after`)."""
    engine_tick = _entry_point("engine_tick")
    if run_after is not None:
        engine_tick = engine_tick.using(run_after=run_after)
    engine_tick.enqueue()


def engine_tick_ensure() -> bool:
    """Start the periodic tick unless one ran recently; True if one was queued.

    It lives here rather than beside the tick (`services/engine.py`) because
    launching needs it, and the tick itself starts scheduled launches.
    """
    state = EngineState.objects.filter(pk=1).first()
    horizon = timezone.now() - timedelta(seconds=3 * settings.ENGINE_TICK_SECONDS)
    if state and state.last_tick_at and state.last_tick_at > horizon:
        return False
    engine_tick_enqueue()
    return True


# The import tasks are queued in the database, in the transaction that
# changes the import's status: both are committed, or neither.


def audience_import_check_enqueue(*, import_id: int) -> None:
    """Queue the check of an uploaded audience file."""
    _entry_point("audience_import_check").enqueue(import_id)


def audience_import_run_enqueue(*, import_id: int) -> None:
    """Queue the import of a confirmed audience file."""
    _entry_point("audience_import_run").enqueue(import_id)
