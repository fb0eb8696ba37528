"""Audience imports as a marketer makes them: upload, then what a worker does
with the queued check and import, run here in the test's process."""

from django_tasks_db.models import DBTaskResult

from campaigns import services
from campaigns.models import AudienceImport

IMPORT_TASKS = (
    "campaigns.tasks.audience_import_check_task",
    "campaigns.tasks.audience_import_task",
)


def import_tasks_run() -> int:
    """Run the queued import tasks as a worker would; returns how many ran."""
    ran = 0
    while True:
        queued = DBTaskResult.objects.ready().filter(task_path__in=IMPORT_TASKS)
        db_result = queued.order_by("enqueued_at").first()
        if db_result is None:
            return ran
        db_result.claim("tests")
        try:
            value = db_result.task.call(*db_result.task_result.args)
        except Exception as exc:
            db_result.set_failed(exc)
        else:
            db_result.set_successful(value)
        ran += 1


def import_checked(audience, content: bytes, *, region="GB", file_name="list.csv"):
    """Upload `content` and run its check: the import, ready to confirm."""
    audience_import = services.audience_import_upload(
        audience=audience, file_name=file_name, content=content, region=region
    )
    import_tasks_run()
    return AudienceImport.objects.get(pk=audience_import.pk)


def import_done(audience_import, *, update_existing=False, actor=None):
    """Confirm a checked import and run it."""
    services.audience_import_confirm(
        audience_import=audience_import, update_existing=update_existing, actor=actor
    )
    import_tasks_run()
    return AudienceImport.objects.get(pk=audience_import.pk)
