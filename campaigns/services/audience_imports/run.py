"""Confirming a checked audience import, and the import itself (a worker runs it).

The import writes every staged row in a few set-based statements inside one
transaction: all of the file or nothing, whatever stops it (a worker killed
mid-way rolls back, and the engine queues the import again). Importing the
same file twice adds nothing. Known contacts keep their opt-out, and keep
their name and fields unless the marketer chose to update them.
"""

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from ...db.audience_imports import (
    import_changes,
    import_contacts_insert,
    import_contacts_update,
    import_members_insert,
    import_progress_report,
    import_staged_id_ranges,
)
from ...models import Audience, AudienceImport, AudienceImportProblem, Contact
from ...models import AudienceImportRow as StagedRow
from ...sms import contact_fields_changed
from ..errors import DomainError
from ..governance import (
    Actor,
    approved_campaigns_not_started_exist,
    campaigns_audience_grew,
    campaigns_contacts_changed,
)
from ..sending.scheduling import (
    audience_import_check_enqueue,
    audience_import_run_enqueue,
)

logger = logging.getLogger(__name__)

# Staged rows written per piece of an import; each piece reports progress.
IMPORT_PIECE_ROWS = 50_000


@transaction.atomic
def audience_import_confirm(
    *,
    audience_import: AudienceImport,
    update_existing: bool = False,
    actor: Actor | None = None,
) -> AudienceImport:
    """Queue the import of a checked file; the import's page shows its progress.

    `update_existing`: whether known contacts take the file's name and fields
    (else they keep theirs and only join the audience).
    """
    audience_import = AudienceImport.objects.select_for_update().get(
        pk=audience_import.pk
    )
    if audience_import.status != AudienceImport.Status.CHECKED:
        raise DomainError(
            f"This import is already {audience_import.get_status_display().lower()}."
        )
    audience_import.status = AudienceImport.Status.IMPORTING
    audience_import.update_existing = update_existing
    audience_import.confirmed_by = actor.user if actor else None
    audience_import.rows_done = 0
    audience_import.progress_at = timezone.now()
    audience_import.save(
        update_fields=[
            "status",
            "update_existing",
            "confirmed_by",
            "rows_done",
            "progress_at",
        ]
    )
    audience_import_run_enqueue(import_id=audience_import.pk)
    return audience_import


def audience_import_run(*, import_id: int) -> str:
    """Write a confirmed import, all at once or not at all; returns what
    became of it. A second run of the same import finds it done and stops."""
    with transaction.atomic():
        # The audience is locked, not the import, so that its page can still
        # read the import's state meanwhile.
        audience_id = AudienceImport.objects.values_list("audience_id", flat=True).get(
            pk=import_id
        )
        Audience.objects.select_for_update().filter(pk=audience_id).exists()
        audience_import = AudienceImport.objects.select_related("audience").get(
            pk=import_id
        )
        if audience_import.status != AudienceImport.Status.IMPORTING:
            return "not waiting for an import"
        _import_write(audience_import, now=timezone.now())
    StagedRow.objects.filter(audience_import_id=import_id).delete()
    logger.info(
        "audience import %s: %s contacts created, %s updated, %s members added",
        import_id,
        audience_import.contacts_created,
        audience_import.contacts_updated,
        audience_import.members_added,
    )
    return "imported"


def _import_write(audience_import: AudienceImport, *, now: datetime) -> None:
    """Contacts first (known ones updated if asked, new ones created), then
    the audience, a piece of the file at a time with its progress; approvals
    the change affects are withdrawn."""
    import_id = audience_import.pk
    fields_changed: dict[int, set[str]] = {}
    if audience_import.update_existing and approved_campaigns_not_started_exist():
        fields_changed = _fields_changed(import_id=import_id)
    counts = {"updated": 0, "created": 0, "added": 0}
    first_id = None
    for ids in import_staged_id_ranges(import_id=import_id, size=IMPORT_PIECE_ROWS):
        first_id = first_id or ids[0]
        _piece_write(audience_import, ids=ids, now=now, counts=counts)
        import_progress_report(
            import_id=import_id,
            rows_done=min(audience_import.rows_valid, ids[1] - first_id + 1),
            now=timezone.now(),
        )
    audience_import.contacts_updated = counts["updated"]
    audience_import.contacts_created = counts["created"]
    audience_import.members_added = counts["added"]
    audience_import.status = AudienceImport.Status.IMPORTED
    audience_import.imported_at = audience_import.progress_at = now
    audience_import.rows_done = audience_import.rows_valid
    audience_import.content = b""
    audience_import.save()
    actor = Actor(user=audience_import.confirmed_by)
    if audience_import.members_added:
        campaigns_audience_grew(
            audience=audience_import.audience,
            added=audience_import.members_added,
            actor=actor,
        )
    campaigns_contacts_changed(
        changes=fields_changed,
        actor=actor,
        what=f"were given new values by an import into “{audience_import.audience}”",
    )


def _piece_write(audience_import, *, ids, now, counts: dict) -> None:
    import_id = audience_import.pk
    if audience_import.update_existing:
        counts["updated"] += import_contacts_update(
            import_id=import_id, now=now, ids=ids
        )
    counts["created"] += import_contacts_insert(import_id=import_id, now=now, ids=ids)
    counts["added"] += import_members_insert(
        import_id=import_id, audience_id=audience_import.audience_id, now=now, ids=ids
    )


def _fields_changed(*, import_id: int) -> dict[int, set[str]]:
    """Per known contact the import changes, the fields a text could use
    that change (the name brings first_name and last_name)."""
    changed = {}
    for contact_id, name, fields, new_name, new_fields in import_changes(
        import_id=import_id
    ):
        before = Contact(name=name, attributes=fields)
        after = Contact(name=new_name or name, attributes={**fields, **new_fields})
        if difference := contact_fields_changed(before, after):
            changed[contact_id] = difference
    return changed


def audience_import_discard(*, audience_import: AudienceImport) -> None:
    updated = AudienceImport.objects.filter(
        pk=audience_import.pk, status=AudienceImport.Status.CHECKED
    ).update(status=AudienceImport.Status.DISCARDED, content=b"")
    if not updated:
        raise DomainError("Only an import waiting for confirmation can be discarded.")
    StagedRow.objects.filter(audience_import=audience_import).delete()
    AudienceImportProblem.objects.filter(audience_import=audience_import).delete()


def audience_import_failed(*, import_id: int, reason: str) -> None:
    """Record that a check or import stopped on an unexpected error."""
    AudienceImport.objects.filter(
        pk=import_id, status__in=AudienceImport.RUNNING_STATUSES
    ).update(
        status=AudienceImport.Status.FAILED,
        failure_reason=reason[:1000],
        progress_at=timezone.now(),
    )


def audience_imports_resume_stalled(*, now: datetime | None = None) -> int:
    """Queue again each check or import nobody has reported on lately (its
    worker died); returns how many. A run that is in fact alive finishes
    first, and the second finds nothing left to do."""
    now = now or timezone.now()
    stale = now - timedelta(seconds=settings.AUDIENCE_IMPORT_STALL_SECONDS)
    resumed = 0
    for import_id, status in AudienceImport.objects.filter(
        status__in=AudienceImport.RUNNING_STATUSES, progress_at__lt=stale
    ).values_list("id", "status"):
        stalled = AudienceImport.objects.filter(
            pk=import_id, status=status, progress_at__lt=stale
        )
        if status == AudienceImport.Status.CHECKING:
            # A check starts over: the next run forgets what this one staged.
            if stalled.update(progress_at=now, rows_done=0):
                audience_import_check_enqueue(import_id=import_id)
                resumed += 1
        elif stalled.update(progress_at=now):
            audience_import_run_enqueue(import_id=import_id)
            resumed += 1
    return resumed
