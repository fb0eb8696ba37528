"""Receiving an audience CSV and checking it in the background.

The upload stores the file and queues its check. The check reads the file a
batch of rows at a time: valid rows are staged (`AudienceImportRow`), bad ones
and repeated numbers recorded (`AudienceImportProblem`), each batch committed
with the progress, so the import's page can show how far it got. A check
killed half-way is simply run again from the start: it first forgets what the
previous attempt staged.
"""

import hashlib
import logging
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from ...audience_csv import AudienceCsvReader, AudienceFileError, RejectedRow
from ...db.audience_imports import import_changes_count, import_rows_stage
from ...models import Audience, AudienceImport, AudienceImportProblem
from ...models import AudienceImportRow as StagedRow
from ..sending.scheduling import audience_import_check_enqueue
from .parsing import rows_parsed_in_batches

logger = logging.getLogger(__name__)

# Rows read, staged and committed together; each batch updates the progress.
CHECK_BATCH_ROWS = 5000


def audience_import_upload(
    *, audience: Audience, file_name: str, content: bytes, region: str, user=None
) -> AudienceImport:
    """Store an uploaded CSV and queue its check; nothing else is written.

    The header is read at once, so a file without a phone column (or not
    text at all) is refused here with audience_csv.AudienceFileError.
    """
    if len(content) > settings.AUDIENCE_CSV_MAX_BYTES:
        limit_mb = settings.AUDIENCE_CSV_MAX_BYTES // (1024 * 1024)
        raise AudienceFileError(
            f"The file is larger than {limit_mb} MB; split it into smaller files."
        )
    AudienceCsvReader(content, default_region=region)
    audience_import = AudienceImport.objects.create(
        audience=audience,
        file_name=file_name[:255],
        content=content,
        checksum=hashlib.sha256(content).hexdigest(),
        region=region,
        status=AudienceImport.Status.CHECKING,
        # Lines, for the progress bar until the check has counted the rows.
        rows_total=content.count(b"\n"),
        progress_at=timezone.now(),
        uploaded_by=user,
    )
    audience_import_check_enqueue(import_id=audience_import.pk)
    return audience_import


def audience_import_check_run(*, import_id: int) -> str:
    """Check a stored file (a worker runs this); returns what became of it.

    Does nothing unless the import is waiting for its check and no other run
    has reported progress lately (so a run queued again after a worker died
    takes over, and a duplicate of a live run steps aside).
    """
    if not _check_claim(import_id=import_id):
        return "not waiting for a check"
    audience_import = AudienceImport.objects.get(pk=import_id)
    try:
        _check(audience_import)
    except AudienceFileError as exc:
        _check_failed(audience_import, str(exc))
        return "failed"
    return "checked"


def _check_claim(*, import_id: int) -> bool:
    """Take the check on: one never started, or one whose run went quiet."""
    now = timezone.now()
    stale = now - timedelta(seconds=settings.AUDIENCE_IMPORT_STALL_SECONDS)
    return bool(
        AudienceImport.objects.filter(
            pk=import_id, status=AudienceImport.Status.CHECKING
        )
        .filter(Q(rows_done=0) | Q(progress_at__lt=stale))
        .update(rows_done=0, progress_at=now)
    )


def _check(audience_import: AudienceImport) -> None:
    StagedRow.objects.filter(audience_import=audience_import).delete()
    AudienceImportProblem.objects.filter(audience_import=audience_import).delete()
    reader = AudienceCsvReader(
        bytes(audience_import.content), default_region=audience_import.region
    )
    counts = {"rows": 0, "valid": 0, "rejected": 0, "duplicate": 0}
    for batch in rows_parsed_in_batches(
        reader,
        batch_rows=CHECK_BATCH_ROWS,
        processes=settings.AUDIENCE_IMPORT_CHECK_PROCESSES,
    ):
        _batch_stage(audience_import, batch, counts)
    audience_import.status = AudienceImport.Status.CHECKED
    audience_import.headers = reader.headers
    audience_import.rows_total = counts["rows"]
    audience_import.rows_valid = counts["valid"]
    audience_import.rows_rejected = counts["rejected"]
    audience_import.rows_duplicate = counts["duplicate"]
    audience_import.nul_lines = reader.nul_lines
    audience_import.nul_line_count = reader.nul_line_count
    audience_import.contacts_changing = import_changes_count(
        import_id=audience_import.pk
    )
    audience_import.save()
    logger.info(
        "audience import %s checked: %s valid, %s rejected, %s duplicate",
        audience_import.pk,
        counts["valid"],
        counts["rejected"],
        counts["duplicate"],
    )


@transaction.atomic
def _batch_stage(audience_import: AudienceImport, rows: list, counts: dict) -> None:
    """Stage a batch's valid rows and record its problems, with the progress."""
    rejected = [row for row in rows if isinstance(row, RejectedRow)]
    valid = [row for row in rows if not isinstance(row, RejectedRow)]
    staged = import_rows_stage(import_id=audience_import.pk, rows=valid)
    repeated = [row for row in valid if row.line not in staged]
    problems = [
        AudienceImportProblem(
            audience_import=audience_import,
            kind=AudienceImportProblem.Kind.REJECTED,
            line=row.line,
            reason=row.reason,
            values=row.values,
        )
        for row in rejected
    ] + _duplicates(audience_import, repeated)
    AudienceImportProblem.objects.bulk_create(problems, batch_size=500)
    counts["rows"] += len(rows)
    counts["valid"] += len(staged)
    counts["rejected"] += len(rejected)
    counts["duplicate"] += len(repeated)
    AudienceImport.objects.filter(pk=audience_import.pk).update(
        rows_done=counts["rows"], progress_at=timezone.now()
    )


def _duplicates(audience_import, repeated: list) -> list[AudienceImportProblem]:
    """Problems for rows whose number an earlier line already staged."""
    if not repeated:
        return []
    first_lines = dict(
        StagedRow.objects.filter(
            audience_import=audience_import, phone__in={row.phone for row in repeated}
        ).values_list("phone", "line")
    )
    return [
        AudienceImportProblem(
            audience_import=audience_import,
            kind=AudienceImportProblem.Kind.DUPLICATE,
            line=row.line,
            phone=row.phone,
            first_line=first_lines[row.phone],
        )
        for row in repeated
    ]


def _check_failed(audience_import: AudienceImport, reason: str) -> None:
    StagedRow.objects.filter(audience_import=audience_import).delete()
    AudienceImportProblem.objects.filter(audience_import=audience_import).delete()
    AudienceImport.objects.filter(pk=audience_import.pk).update(
        status=AudienceImport.Status.FAILED,
        failure_reason=reason,
        content=b"",
        progress_at=timezone.now(),
    )
