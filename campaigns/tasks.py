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


@task()
def audience_import_check_task(import_id: int) -> str:
    """Reads an uploaded audience file into staged rows and problems."""
    try:
        return services.audience_import_check_run(import_id=import_id)
    except Exception as exc:
        services.audience_import_failed(
            import_id=import_id, reason=f"The check stopped on an error: {exc}"
        )
        raise


@task()
def audience_import_task(import_id: int) -> str:
    """Writes a confirmed audience import, all of it or nothing."""
    try:
        return services.audience_import_run(import_id=import_id)
    except Exception as exc:
        services.audience_import_failed(
            import_id=import_id,
            reason=f"The import stopped on an error and wrote nothing: {exc}",
        )
        raise


services.task_entry_points_register(
    campaign_send=campaign_send_task,
    engine_tick=engine_tick_task,
    audience_import_check=audience_import_check_task,
    audience_import_run=audience_import_task,
)
