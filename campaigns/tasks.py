"""django.tasks entry points: they take ids and call one service.

The services never import this module: they queue work through
`campaigns.services.sending.scheduling`, which learns these tasks from the
registration at the end of this module (imported by `CampaignsConfig.ready`).
"""

from django.tasks import task

from . import services


@task()
def campaign_send_task(campaign_id: int) -> dict:
    """Sends for a bounded time slice, then queues the next slice, so workers
    stop gracefully within seconds and campaigns share workers fairly."""
    return services.campaign_send_slice(campaign_id=campaign_id).__dict__


@task()
def engine_tick_task() -> dict:
    """Runs the engine's housekeeping, then queues itself again."""
    return services.engine_tick_run()


services.task_entry_points_register(
    campaign_send=campaign_send_task, engine_tick=engine_tick_task
)
